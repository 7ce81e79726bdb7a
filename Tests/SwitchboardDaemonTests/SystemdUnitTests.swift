import Foundation
import Testing
import SwitchboardDaemon
import TestSupport

/// The units in `systemd/` as systemd itself judges them: `systemd-analyze verify` and the
/// hardening score of `systemd-analyze security`, and an `ExecStart=` line the binary accepts.
@Suite("systemd units: verify, the exposure score, ExecStart")
struct SystemdUnitTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let units = ["switchboard.service", "switchboard.socket", "switchboard-http.socket"]

    static func unitText(_ name: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent("systemd").appendingPathComponent(name), encoding: .utf8)
    }

    /// The words of the `ExecStart=` line.
    static func execStart() throws -> [String] {
        let line = try #require(try unitText("switchboard.service").split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        return line.dropFirst("ExecStart=".count).split(separator: " ").map(String.init)
    }

    @Test func theServiceIsHardenedToAnExposureOfAtMostOnePointFive() async throws {
        let path = Self.repository.appendingPathComponent("systemd/switchboard.service").path
        let result = try await runCommand("/usr/bin/systemd-analyze", ["security", "--offline=true", "--no-pager", path])
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(result.output)")
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
        #expect(score <= 1.5, "\(line)")
    }

    @Test func everyUnitVerifies() async throws {
        // verify checks that ExecStart= names an executable: point it at the binary just built.
        let directory = try makeTemporaryDirectory("units")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in Self.units {
            let text = try Self.unitText(name).replacingOccurrences(of: "/usr/local/bin/switchboardd", with: DaemonProcess.executablePath)
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        let result = try await runCommand("/usr/bin/systemd-analyze", ["verify"] + Self.units.map { directory + "/" + $0 })
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.isEmpty, "\(result.output)")
    }

    @Test func theExecStartLineIsOneTheBinaryAccepts() async throws {
        let words = try Self.execStart()
        #expect(words.first == "/usr/local/bin/switchboardd")
        // The same arguments, with a configuration that does not exist: the binary must complain
        // about the file, not about its arguments.
        let arguments = Array(words.dropFirst()).map { $0 == "/etc/switchboard/config.json" ? "/nonexistent/switchboard.json" : $0 }
        #expect(arguments != Array(words.dropFirst()), "ExecStart names /etc/switchboard/config.json")
        let result = try await runCommand(DaemonProcess.executablePath, arguments)
        #expect(result.status != 0)
        #expect(result.output.contains("/nonexistent/switchboard.json"), "\(result.output)")
        #expect(!result.output.contains("Unknown option") && !result.output.contains("Usage:"), "\(result.output)")
    }

    @Test func theSocketsNameTheirDescriptorsAndTheControlSocketIsForOperators() throws {
        let control = try Self.unitText("switchboard.socket")
        #expect(control.contains("ListenStream=/run/switchboard/control.sock"))
        #expect(control.contains("FileDescriptorName=control"))
        #expect(control.contains("SocketGroup=switchboard-operators") && control.contains("SocketMode=0660"))
        let http = try Self.unitText("switchboard-http.socket")
        #expect(http.contains("FileDescriptorName=http") && http.contains("ListenStream=127.0.0.1:8080"))
        // The daemon's own default address is the same, so nginx's upstream is right either way.
        let defaults = try SwitchboardConfiguration.parse(Data("{}".utf8), relativeTo: "/")
        #expect("\(defaults.http.host):\(defaults.http.port)" == "127.0.0.1:8080")
        #expect(try Self.unitText("switchboard.service").contains("Sockets=switchboard.socket switchboard-http.socket"))
        let sysusers = try String(contentsOf: Self.repository.appendingPathComponent("systemd/switchboard.sysusers"), encoding: .utf8)
        #expect(sysusers.contains("u switchboard ") && sysusers.contains("g switchboard-operators"))
    }
}
