import Foundation
import Hummingbird
import JSON
import NIOCore

/// Why an API call failed, as the client sees it: an HTTP status and a JSON body with a stable
/// `code`, a `message` for people, and the `field` a validation error is about.
public struct APIFailure: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    /// More, for some codes (e.g. when the customer service window closed).
    public var extra: [String: JSONValue] = [:]

    public static let unauthorized = APIFailure(status: .unauthorized, code: "unauthorized",
                                                message: "a valid bearer token (Authorization: Bearer sbt_…; switchboardctl issue-token) or a signed-in session is needed")

    public static func notFound(_ what: String, _ name: String) -> APIFailure {
        APIFailure(status: .notFound, code: "not_found", message: "no \(what) \(name)")
    }

    public static func forbidden(_ reason: String) -> APIFailure {
        APIFailure(status: .forbidden, code: "forbidden", message: reason)
    }

    public static func invalid(_ field: String, _ reason: String) -> APIFailure {
        APIFailure(status: .badRequest, code: "invalid", message: "\(field): \(reason)", field: field)
    }

    public static func conflict(_ code: String, _ message: String, extra: [String: JSONValue] = [:]) -> APIFailure {
        APIFailure(status: .conflict, code: code, message: message, extra: extra)
    }

    public var response: Response {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if let field { error["field"] = .string(field) }
        for (key, value) in extra { error[key] = value }
        return APIResponse.json(["error": .object(error)], status: status)
    }
}

/// JSON responses.
enum APIResponse {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: JSONWriter.write(value))))
    }

    static func timestamp(_ date: Date?) -> JSONValue {
        guard let date else { return .null }
        return .string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
    static func strings(_ list: [String]) -> JSONValue { .array(list.map(JSONValue.string)) }
    static func int(_ value: Int) -> JSONValue { .number(Double(value)) }
}
