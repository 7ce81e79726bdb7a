import Foundation
import SwitchboardCore

/// Reads secrets from files or from systemd credentials (`$CREDENTIALS_DIRECTORY/name`).
public struct SecretReader: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The secret's text without a trailing newline. Errors name where it was looked for, never its value.
    public func read(_ reference: SecretReference) throws(Failure) -> String {
        let path: String
        switch reference {
        case .file(let file):
            path = file
        case .credential(let name):
            guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else {
                throw Failure(description: "credential \"\(name)\" cannot be read: $CREDENTIALS_DIRECTORY is not set (is there a LoadCredential= line in the unit?)")
            }
            path = directory + "/" + name
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "\(reference) cannot be read at \(path)")
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { throw Failure(description: "\(reference) at \(path) is empty") }
        return text
    }
}
