import Foundation
import JSON

/// A send the Graph API refused, or that never got an answer.
///
/// Meta's error body is `{"error": {"message", "type", "code", "error_subcode", "error_user_title",
/// "error_data": {"details"}, "fbtrace_id"}}`; what to do next depends on `code`.
public struct GraphAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status; nil when no response came (connection refused, timeout).
    public var httpStatus: Int?
    public var code: Int?
    public var subcode: Int?
    public var type: String?
    public var message: String
    /// A short human title (`error_user_title`, or `error_data.details`).
    public var title: String?
    public var fbtraceID: String?

    public init(httpStatus: Int?, code: Int?, subcode: Int? = nil, type: String? = nil, message: String, title: String? = nil, fbtraceID: String? = nil) {
        self.httpStatus = httpStatus
        self.code = code
        self.subcode = subcode
        self.type = type
        self.message = message
        self.title = title
        self.fbtraceID = fbtraceID
    }

    /// Reads Meta's error body; anything else becomes an error that names the HTTP status.
    public init(httpStatus: Int, body: [UInt8]) {
        let json = try? JSONParser.parse(body)
        guard let error = json?["error"], error.isObject else {
            let text = String(decoding: body.prefix(200), as: UTF8.self)
            self.init(httpStatus: httpStatus, code: nil, message: "HTTP \(httpStatus) without a Graph API error body: \(text)")
            return
        }
        self.init(
            httpStatus: httpStatus,
            code: error["code"]?.number.flatMap { Int(exactly: $0) },
            subcode: error["error_subcode"]?.number.flatMap { Int(exactly: $0) },
            type: error["type"]?.string,
            message: error["message"]?.string ?? "no message",
            title: error["error_user_title"]?.string ?? error["error_data"]?["details"]?.string,
            fbtraceID: error["fbtrace_id"]?.string
        )
    }

    /// What kind of failure this is, from Meta's code (and the HTTP status when there is no code).
    public var kind: Kind {
        if let code {
            switch code {
            case 190, 131031:
                // 190: access token expired or invalid; 131031: business account locked.
                return .sendingBlocked
            case 4, 80007, 130429, 131048:
                // Application or phone-number throughput reached, or the spam rate limit.
                return .numberThrottled
            case 131056:
                return .customerThrottled
            case 131047:
                return .outsideCustomerWindow
            case 1, 2, 131000, 131016, 133004:
                // Unknown or temporary errors on Meta's side.
                return .transient
            default:
                if let httpStatus, httpStatus >= 500 || httpStatus == 429 || httpStatus == 408 { return .transient }
                return .permanent
            }
        }
        guard let httpStatus else { return .transient }
        if httpStatus == 429 || httpStatus >= 500 || httpStatus == 408 { return .transient }
        return .permanent
    }

    public enum Kind: Sendable, Equatable {
        case transient, numberThrottled, customerThrottled, sendingBlocked, outsideCustomerWindow, permanent
    }

    public var description: String {
        var parts: [String] = []
        if let code { parts.append("code \(code)") }
        if let subcode { parts.append("subcode \(subcode)") }
        if let httpStatus { parts.append("HTTP \(httpStatus)") }
        let head = parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
        let trace = fbtraceID.map { ", fbtrace_id \($0)" } ?? ""
        return "\(title ?? message)\(head)\(trace)"
    }
}
