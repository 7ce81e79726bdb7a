import JSON
import SwitchboardCore

/// One call with its caller, and typed access to its parameters (wrong types are `InvalidArgument`).
struct ControlRequest: Sendable {
    /// Methods that change something: each call is audited, allowed or not.
    static let mutating: Set<String> = ["SetPresence", "Reload", "AddAgent", "UpdateAgent", "RemoveAgent", "PauseQueue", "ResumeQueue", "Drain",
                                        "Assign", "Unassign", "SetPriority", "AddNote", "IssueToken", "RevokeToken", "Take", "Accept",
                                        "SetPassword", "EndSessions", "AddCannedResponse", "EditCannedResponse", "RemoveCannedResponse",
                                        "TagCustomer"]
    /// Parameters never written to the audit.
    static let secretParameters: Set<String> = ["token", "password"]

    var call: VarlinkCall
    var caller: Permissions.Caller
    var credentials: PeerCredentials

    func string(_ name: String) throws -> String {
        guard let value = try optionalString(name) else { throw ControlFailure.invalid(name, "required") }
        return value
    }

    func optionalString(_ name: String) throws -> String? {
        switch call.parameters[name] {
        case nil, .null?: return nil
        case .string(let text)?:
            guard !text.isEmpty else { throw ControlFailure.invalid(name, "must not be empty") }
            return text
        case let other?: throw ControlFailure.invalid(name, "expected a string, got \(other.shownInError)")
        }
    }

    func optionalInt(_ name: String) throws -> Int? {
        switch call.parameters[name] {
        case nil, .null?: return nil
        case .integer(let value)?: return value
        case .number(let value)? where value == value.rounded() && abs(value) < 1e15: return Int(value)
        case let other?: throw ControlFailure.invalid(name, "expected an integer, got \(other.shownInError)")
        }
    }

    func optionalBool(_ name: String) throws -> Bool? {
        switch call.parameters[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw ControlFailure.invalid(name, "expected true or false, got \(other.shownInError)")
        }
    }

    func int(_ name: String) throws -> Int {
        guard let value = try optionalInt(name) else { throw ControlFailure.invalid(name, "required") }
        return value
    }

    /// Who made a change, as ticket events and logs show it: `control:<unix user>`.
    var actor: String { "control:\(credentials.user)" }

    func optionalStrings(_ name: String) throws -> [String]? {
        switch call.parameters[name] {
        case nil, .null?: return nil
        case .array(let values)?:
            return try values.map { value in
                guard case .string(let text) = value, !text.isEmpty else { throw ControlFailure.invalid(name, "expected non-empty strings, got \(value.shownInError)") }
                return text
            }
        case let other?: throw ControlFailure.invalid(name, "expected a list of strings, got \(other.shownInError)")
        }
    }

    /// `{"lang:es": 5}`: proficiency 1–5 per skill.
    func optionalSkills(_ name: String) throws -> [String: Int]? {
        switch call.parameters[name] {
        case nil, .null?: return nil
        case .object(let fields)?:
            var skills: [String: Int] = [:]
            for (skill, value) in fields {
                guard !skill.isEmpty, case .integer(let level) = value, (1...5).contains(level) else {
                    throw ControlFailure.invalid("\(name).\(skill)", "a proficiency from 1 to 5, got \(value.shownInError)")
                }
                skills[skill] = level
            }
            return skills
        case let other?: throw ControlFailure.invalid(name, "expected an object of skill → 1–5, got \(other.shownInError)")
        }
    }

    /// Throws `PermissionDenied`, or `NotFound` for a ticket the caller may not know of.
    func require(_ operation: Permissions.Operation, hiddenAs hidden: (String, String)? = nil) throws {
        switch Permissions.decide(caller, operation) {
        case .allowed: return
        case .denied(let reason): throw ControlFailure.permissionDenied(reason)
        case .hidden: throw ControlFailure.notFound(hidden?.0 ?? "ticket", hidden?.1 ?? "")
        }
    }

    /// The arguments as recorded in the audit: secrets replaced.
    var auditedArguments: [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (key, value) in call.parameters {
            result[key] = Self.secretParameters.contains(key) ? "(secret)" : JSONValue(value)
        }
        return result
    }
}

/// Why a control call failed, as a Varlink error.
enum ControlFailure: Error {
    case permissionDenied(String)
    case notFound(String, String)
    case invalid(String, String)
    case configurationRefused([String])
    case methodNotFound(String)
    /// The ticket's state refuses the call: a stable code and a reason.
    case conflict(String, String)

    func reply(method: String) -> VarlinkReply {
        switch self {
        case .permissionDenied(let reason): return ControlService.denied(method, reason)
        case .notFound(let what, let name): return .failure("io.switchboard.Control.NotFound", ["what": .string(what), "name": .string(name)])
        case .invalid(let argument, let reason):
            return .failure("io.switchboard.Control.InvalidArgument", ["argument": .string(argument), "reason": .string(reason)])
        case .configurationRefused(let problems): return .failure("io.switchboard.Control.ConfigurationRefused", ["problems": .strings(problems)])
        case .methodNotFound(let name): return .failure("org.varlink.service.MethodNotFound", ["method": .string(name)])
        case .conflict(let code, let reason): return .failure("io.switchboard.Control.Conflict", ["code": .string(code), "reason": .string(reason)])
        }
    }
}
