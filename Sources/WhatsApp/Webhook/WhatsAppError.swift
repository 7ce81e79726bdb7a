import JSON

/// An error object as Meta puts it in webhooks (`value.errors`, `messages[].errors`, `statuses[].errors`).
public struct WhatsAppError: Sendable, Equatable {
    public var code: Int?
    public var title: String?
    public var message: String?
    public var details: String?

    public init(code: Int?, title: String?, message: String? = nil, details: String? = nil) {
        self.code = code
        self.title = title
        self.message = message
        self.details = details
    }

    init(_ json: JSONValue) {
        code = json["code"]?.number.flatMap { Int(exactly: $0) }
        title = json["title"]?.string
        message = json["message"]?.string
        details = json["error_data"]?["details"]?.string
    }

    static func list(_ json: JSONValue?) -> [WhatsAppError] {
        (json?.array ?? []).filter(\.isObject).map(WhatsAppError.init)
    }
}
