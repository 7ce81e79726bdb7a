/// One problem in a configuration file: where it is (a key path such as `http.port` or
/// `routing.rules[2].queue`) and what is wrong.
public struct ConfigIssue: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
}

/// Every problem found in one configuration file; reading goes on after the first so that a person
/// can fix them all at once.
public struct ConfigIssues: Error, Sendable, Equatable, CustomStringConvertible {
    public var issues: [ConfigIssue]

    public init(_ issues: [ConfigIssue]) {
        self.issues = issues
    }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Collects issues while a configuration is read.
public final class ConfigDiagnostics {
    public private(set) var issues: [ConfigIssue] = []

    public init() {}

    public func report(_ path: String, _ reason: String) {
        issues.append(ConfigIssue(path: path, reason: reason))
    }

    /// Throws the collected issues, if any.
    public func check() throws(ConfigIssues) {
        if !issues.isEmpty { throw ConfigIssues(issues) }
    }
}
