import JSON
import Foundation
import SwitchboardCore

/// One Varlink call as received: `{"method": "io.switchboard.Control.Status", "parameters": {…},
/// "more": true}`.
public struct VarlinkCall: Sendable, Equatable {
    public var method: String
    public var parameters: [String: ConfigValue]
    /// The caller asks for a stream of replies (`Watch`).
    public var more: Bool
    /// The caller wants no reply.
    public var oneway: Bool

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case notJSON(String)
        case notACall(String)

        public var description: String {
            switch self {
            case .notJSON(let reason): return "not valid JSON: \(reason)"
            case .notACall(let reason): return reason
            }
        }
    }

    public init(method: String, parameters: [String: ConfigValue] = [:], more: Bool = false, oneway: Bool = false) {
        self.method = method
        self.parameters = parameters
        self.more = more
        self.oneway = oneway
    }

    public init(bytes: [UInt8]) throws(Problem) {
        let value: ConfigValue
        do {
            value = try JSONDecoder().decode(ConfigValue.self, from: Data(bytes))
        } catch {
            throw .notJSON("\(error)".prefix(200).description)
        }
        guard case .object(let fields) = value else { throw .notACall("a call is a JSON object") }
        guard case .string(let method)? = fields["method"], !method.isEmpty else { throw .notACall("a call needs \"method\": a string") }
        var parameters: [String: ConfigValue] = [:]
        switch fields["parameters"] {
        case nil, .null?: break
        case .object(let object)?: parameters = object
        default: throw .notACall("\"parameters\" must be an object")
        }
        func flag(_ key: String) throws(Problem) -> Bool {
            switch fields[key] {
            case nil, .null?: return false
            case .bool(let value)?: return value
            default: throw .notACall("\"\(key)\" must be true or false")
            }
        }
        self.init(method: method, parameters: parameters, more: try flag("more"), oneway: try flag("oneway"))
    }
}

/// A reply: parameters, or a named error with its parameters.
public struct VarlinkReply: Sendable, Equatable {
    public var error: String?
    public var parameters: [String: JSONValue]
    public var continues: Bool

    public static func ok(_ parameters: [String: JSONValue], continues: Bool = false) -> VarlinkReply {
        VarlinkReply(error: nil, parameters: parameters, continues: continues)
    }

    public static func failure(_ name: String, _ parameters: [String: JSONValue]) -> VarlinkReply {
        VarlinkReply(error: name, parameters: parameters, continues: false)
    }

    /// The message on the wire, NUL included.
    public func frame() -> [UInt8] {
        var object: [String: JSONValue] = ["parameters": .object(parameters)]
        if let error { object["error"] = .string(error) }
        if continues { object["continues"] = true }
        return Array(JSONWriter.write(.object(object)).utf8) + [0]
    }
}
