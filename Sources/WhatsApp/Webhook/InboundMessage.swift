import Foundation
import JSON

/// The business number a webhook change is about (`value.metadata`).
public struct BusinessNumber: Sendable, Hashable {
    /// `phone_number_id`: the key of a business number in the Graph API.
    public var phoneNumberID: String
    public var displayPhoneNumber: String?

    public init(phoneNumberID: String, displayPhoneNumber: String? = nil) {
        self.phoneNumberID = phoneNumberID
        self.displayPhoneNumber = displayPhoneNumber
    }
}

/// Who a customer is. Since 2026 a user with a username may come with a business-scoped user id and
/// no phone number, so either may be missing (never both).
public struct CustomerIdentity: Sendable, Hashable {
    /// The WhatsApp id, a phone number in international form without `+`.
    public var waID: String?
    /// The business-scoped user id (`user_id`, `from_user_id`).
    public var userID: String?
    public var profileName: String?

    public init(waID: String?, userID: String?, profileName: String? = nil) {
        self.waID = waID
        self.userID = userID
        self.profileName = profileName
    }
}

/// One inbound message of a webhook, with what Switchboard reads from it and the element as it came.
public struct InboundMessage: Sendable, Equatable {
    public var wamid: String
    public var businessNumber: BusinessNumber
    public var customer: CustomerIdentity
    /// When the customer sent it (Meta's `timestamp`).
    public var sentAt: Date?
    /// The type as Meta names it (`text`, `image`, `interactive`, …, or one this build does not know).
    public var type: String
    /// What a person reads: the text, a caption, a button's or list row's title, a reaction's emoji, a
    /// system notice.
    public var text: String?
    public var media: Media?
    public var location: Location?
    /// A choice the customer made: a reply button, a list row, a template quick reply, a Flow answer.
    public var choice: Choice?
    public var reaction: Reaction?
    public var context: Context?
    /// Click-to-WhatsApp ad data, as it came.
    public var referral: JSONValue?
    /// Contact cards the customer shared (`contacts` messages): name, phones, emails, company…, as
    /// Meta gives them.
    public var contacts: [JSONValue] = []
    /// For `edit` and `revoke`: the message it changes.
    public var targetWamid: String?
    public var errors: [WhatsAppError]
    /// The message element exactly as decoded, unknown fields included.
    public var raw: JSONValue
    /// An echo (`smb_message_echoes`): a message the business sent to this customer from the WhatsApp
    /// Business app on the same number, not one the customer sent.
    public var isEcho = false

    public struct Media: Sendable, Equatable {
        public var id: String?
        public var mimeType: String?
        public var sha256: String?
        public var filename: String?
        public var url: String?
        public var isVoice: Bool
        public var isAnimated: Bool
    }

    public struct Location: Sendable, Equatable {
        public var latitude: Double
        public var longitude: Double
        public var name: String?
        public var address: String?
        public var url: String?
    }

    public struct Choice: Sendable, Equatable {
        /// `button_reply`, `list_reply`, `nfm_reply` or `button` (template quick reply).
        public var kind: String
        /// The row or button id, or the quick reply's payload.
        public var id: String?
        public var title: String?
        public var description: String?
    }

    public struct Reaction: Sendable, Equatable {
        public var messageWamid: String?
        /// Nil or empty: the customer removed their reaction.
        public var emoji: String?
        public var isRemoval: Bool { emoji?.isEmpty ?? true }
    }

    public struct Context: Sendable, Equatable {
        /// The message this one replies to.
        public var wamid: String?
        public var from: String?
        public var forwarded: Bool
        public var frequentlyForwarded: Bool
        public var referredProductID: String?
    }
}
