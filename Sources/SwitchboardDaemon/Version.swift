/// The version of this build, shown by `--version` and the control socket.
public enum SwitchboardVersion {
    public static let current = "0.1.0"
}
