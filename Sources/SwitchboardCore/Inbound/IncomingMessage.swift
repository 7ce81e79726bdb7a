import Foundation

/// A customer's message as the ticket store takes it: the WhatsApp gateway's reading of a webhook,
/// in the domain's terms.
public struct IncomingMessage: Sendable, Equatable {
    public var wamid: String
    public var businessNumberID: String
    public var businessDisplayNumber: String?
    public var customerWaID: String?
    public var customerUserID: String?
    public var customerName: String?
    public var type: String
    /// What a person reads (text, caption, chosen title, emoji, notice).
    public var body: String?
    /// Structured parts (media, location, choice, reaction, context, referral, errors) as a JSON object.
    public var detailsJSON: String
    /// The element exactly as it came, as JSON.
    public var payloadJSON: String
    public var targetWamid: String?
    /// When the customer sent it, by Meta's clock.
    public var sentAt: Date?
    /// Sent by the business from the WhatsApp Business app on the same number (a coexistence echo):
    /// an outbound message on the customer's ticket that opens, wakes and reopens nothing.
    public var isEcho: Bool

    public init(wamid: String, businessNumberID: String, businessDisplayNumber: String? = nil, customerWaID: String?,
                customerUserID: String? = nil, customerName: String? = nil, type: String, body: String?,
                detailsJSON: String = "{}", payloadJSON: String = "{}", targetWamid: String? = nil, sentAt: Date? = nil, isEcho: Bool = false) {
        precondition(customerWaID != nil || customerUserID != nil, "a message without a sender")
        self.wamid = wamid
        self.businessNumberID = businessNumberID
        self.businessDisplayNumber = businessDisplayNumber
        self.customerWaID = customerWaID
        self.customerUserID = customerUserID
        self.customerName = customerName
        self.type = type
        self.body = body
        self.detailsJSON = detailsJSON
        self.payloadJSON = payloadJSON
        self.targetWamid = targetWamid
        self.sentAt = sentAt
        self.isEcho = isEcho
    }

    /// The key that orders and serializes one customer's messages to one business number.
    public var threadKey: String {
        "\(businessNumberID)|\(customerWaID.map { "wa:" + $0 } ?? "")|\(customerUserID.map { "u:" + $0 } ?? "")"
    }
}

/// A delivery status Meta reported for a message the business sent.
public struct IncomingStatus: Sendable, Equatable {
    public var wamid: String
    public var status: String
    public var occurredAt: Date?
    public var errorCode: Int?
    public var errorTitle: String?
    public var errorsJSON: String
    public var payloadJSON: String
    /// `biz_opaque_callback_data`: for a message Switchboard sent, its outbound id, known before its wamid.
    public var outboundID: UUID?

    public init(wamid: String, status: String, occurredAt: Date?, errorCode: Int? = nil, errorTitle: String? = nil,
                errorsJSON: String = "[]", payloadJSON: String = "{}", outboundID: UUID? = nil) {
        self.outboundID = outboundID
        self.wamid = wamid
        self.status = status
        self.occurredAt = occurredAt
        self.errorCode = errorCode
        self.errorTitle = errorTitle
        self.errorsJSON = errorsJSON
        self.payloadJSON = payloadJSON
    }
}
