/// Where a secret lives: a file, or a systemd credential (`LoadCredential=` in the unit). Secrets are
/// never written in the configuration body.
public enum SecretReference: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case credential(String)

    /// Reads `{"file": "/path"}` or `{"credential": "name"}`.
    public static func read(_ object: ConfigObject) -> SecretReference? {
        let file = object.optionalString("file")
        let credential = object.optionalString("credential")
        object.finish()
        switch (file, credential) {
        case (let file?, nil):
            return .file(file)
        case (nil, let credential?):
            guard !credential.contains("/") else {
                object.report("credential", "a credential name cannot contain \"/\"")
                return nil
            }
            return .credential(credential)
        case (.some, .some):
            object.diagnosticsSink.report(object.path, "give either \"file\" or \"credential\", not both")
            return nil
        case (nil, nil):
            object.diagnosticsSink.report(object.path, "expected {\"file\": \"/path\"} or {\"credential\": \"name\"}")
            return nil
        }
    }

    public var description: String {
        switch self {
        case .file(let path): return "file \(path)"
        case .credential(let name): return "credential \(name)"
        }
    }
}
