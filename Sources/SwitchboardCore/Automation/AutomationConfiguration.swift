import Foundation

/// The `automation` section: what Switchboard says by itself, and when. Every rule is optional; an
/// absent section sends nothing automatically.
public struct AutomationConfiguration: Sendable, Equatable {
    /// The language a text falls back to when the customer's is not among its translations; every
    /// text given per language must have it.
    public var defaultLanguage: String = "en"
    public var greetings: [GreetingRule] = []
    public var outOfHours: [OutOfHoursRule] = []
    public var triage: [TriageRule] = []
    public var autoClose: AutoClose?
    public var csat: CSAT?
    public var templateFallbacks: [TemplateFallback] = []

    public init() {}

    /// Which tickets a rule is for: by business number, by queue (once the ticket has one). Absent
    /// conditions match every ticket.
    public struct Scope: Sendable, Equatable {
        public var businessNumbers: Set<String>?
        public var queues: Set<String>?

        public init(businessNumbers: Set<String>? = nil, queues: Set<String>? = nil) {
            self.businessNumbers = businessNumbers
            self.queues = queues
        }

        public func matches(businessNumber: String, queue: String?) -> Bool {
            if let businessNumbers, !businessNumbers.contains(businessNumber) { return false }
            if let queues {
                guard let queue, queues.contains(queue) else { return false }
            }
            return true
        }
    }

    /// Sent once when a ticket reaches its queue (or starts, for rules without `queues`).
    public struct GreetingRule: Sendable, Equatable {
        public var name: String
        public var scope: Scope
        public var text: LocalizedText

        public init(name: String, scope: Scope = Scope(), text: LocalizedText) {
            self.name = name
            self.scope = scope
            self.text = text
        }
    }

    /// Sent when a customer writes while `calendar` is closed: once per ticket and closed period,
    /// not within `quietAfterAgentReply` of a person's answer.
    public struct OutOfHoursRule: Sendable, Equatable {
        public var name: String
        public var scope: Scope
        public var calendarName: String
        public var calendar: BusinessCalendar
        public var quietAfterAgentReply: TimeInterval
        /// May say `{{team.back}}`: when the calendar opens next, in the customer's language.
        public var text: LocalizedText

        public init(name: String, scope: Scope = Scope(), calendarName: String, calendar: BusinessCalendar, quietAfterAgentReply: TimeInterval = 600,
                    text: LocalizedText) {
            self.name = name
            self.scope = scope
            self.calendarName = calendarName
            self.calendar = calendar
            self.quietAfterAgentReply = quietAfterAgentReply
            self.text = text
        }
    }

    /// A menu sent instead of routing a new ticket at once.
    public struct TriageRule: Sendable, Equatable {
        public enum Style: String, Sendable, CaseIterable {
            /// Up to three reply buttons.
            case buttons
            /// A list of up to ten rows behind a button.
            case list
        }

        public struct Option: Sendable, Equatable {
            /// What the customer's choice comes back as; routing rules' `menuChoices` match it.
            public var id: String
            public var title: LocalizedText
            /// Added to the ticket.
            public var tags: [String]
            /// Added to the customer (routing rules' `customerTags`).
            public var customerTags: [String]
            /// Sets the customer's language (a language menu).
            public var language: String?

            public init(id: String, title: LocalizedText, tags: [String] = [], customerTags: [String] = [], language: String? = nil) {
                self.id = id
                self.title = title
                self.tags = tags
                self.customerTags = customerTags
                self.language = language
            }
        }

        public var name: String
        public var scope: Scope
        public var style: Style
        public var prompt: LocalizedText
        /// Sent the second time, after free text instead of a choice.
        public var retryPrompt: LocalizedText
        /// The list's button (lists only).
        public var button: LocalizedText
        public var options: [Option]
        /// Free text instead of a choice is answered with the menu again until it has been sent
        /// this many times in all; then the ticket is routed by the fallback.
        public var maxAsks: Int
        /// No answer for this long: routed by the fallback.
        public var timeout: TimeInterval
        /// The routing rule that places the ticket when no choice was made; nil: the routing rules
        /// as for any ticket.
        public var fallbackRule: String?

        public init(name: String, scope: Scope = Scope(), style: Style, prompt: LocalizedText, retryPrompt: LocalizedText, button: LocalizedText,
                    options: [Option], maxAsks: Int = 2, timeout: TimeInterval = 600, fallbackRule: String? = nil) {
            self.name = name
            self.scope = scope
            self.style = style
            self.prompt = prompt
            self.retryPrompt = retryPrompt
            self.button = button
            self.options = options
            self.maxAsks = maxAsks
            self.timeout = timeout
            self.fallbackRule = fallbackRule
        }
    }

    /// Resolving tickets the customer has left.
    public struct AutoClose: Sendable, Equatable {
        /// A pending ticket without a customer message for this long is resolved.
        public var pendingAfter: TimeInterval
        /// Open tickets too, in these queues, after this long without a customer message.
        public var openAfterByQueue: [String: TimeInterval]
        /// Sent while the window is open (nothing is sent once it has closed).
        public var closingText: LocalizedText?

        public init(pendingAfter: TimeInterval, openAfterByQueue: [String: TimeInterval] = [:], closingText: LocalizedText? = nil) {
            self.pendingAfter = pendingAfter
            self.openAfterByQueue = openAfterByQueue
            self.closingText = closingText
        }
    }

    /// The satisfaction survey after a resolution.
    public struct CSAT: Sendable, Equatable {
        /// Which tickets are surveyed (by business number and the queue they were resolved in).
        public var scope: Scope = Scope()
        public var afterAgentResolve: Bool
        public var afterAutoClose: Bool
        public var prompt: LocalizedText
        public var button: LocalizedText
        /// The five rows' titles, worst first (rating 1 … 5).
        public var ratings: [LocalizedText]
        /// Outside the window: this approved template (no parameters), or no survey.
        public var template: MessageTemplate?
        /// A rating after this is a normal message.
        public var expiresAfter: TimeInterval
        /// After a rating, the customer's next text within this time is kept as the comment.
        public var commentWithin: TimeInterval
        /// Sent after a rating (inside the window it opened).
        public var thanks: LocalizedText?

        public init(afterAgentResolve: Bool = true, afterAutoClose: Bool = false, prompt: LocalizedText, button: LocalizedText, ratings: [LocalizedText],
                    template: MessageTemplate? = nil, expiresAfter: TimeInterval = 86_400, commentWithin: TimeInterval = 600, thanks: LocalizedText? = nil) {
            self.afterAgentResolve = afterAgentResolve
            self.afterAutoClose = afterAutoClose
            self.prompt = prompt
            self.button = button
            self.ratings = ratings
            self.template = template
            self.expiresAfter = expiresAfter
            self.commentWithin = commentWithin
            self.thanks = thanks
        }
    }

    /// A queue's template for an agent's free-text reply that meets a closed window.
    public struct TemplateFallback: Sendable, Equatable {
        public var queues: Set<String>
        public var template: MessageTemplate
        /// The template's `{{1}}`, `{{2}}`… as texts with variables (`{{customer.name}}`).
        public var parameters: [String]

        public init(queues: Set<String>, template: MessageTemplate, parameters: [String]) {
            self.queues = queues
            self.template = template
            self.parameters = parameters
        }
    }

    /// The fallback template of a queue, if it names one.
    public func templateFallback(forQueue queue: String?) -> TemplateFallback? {
        guard let queue else { return nil }
        return templateFallbacks.first { $0.queues.contains(queue) }
    }
}

/// A text in one or more languages (`{"en": "…", "es": "…"}`, or one string for every language).
public struct LocalizedText: Sendable, Equatable {
    public var translations: [String: String]
    public var defaultLanguage: String

    public init(_ text: String) {
        self.translations = ["": text]
        self.defaultLanguage = ""
    }

    public init(_ translations: [String: String], defaultLanguage: String) {
        precondition(translations[defaultLanguage] != nil, "a localized text has its default language")
        self.translations = translations
        self.defaultLanguage = defaultLanguage
    }

    /// The text for `language` (`es-MX` also finds `es`), or the default language's.
    public func text(for language: String?) -> String {
        if let language {
            let tag = language.replacingOccurrences(of: "_", with: "-").lowercased()
            if let exact = translations.first(where: { $0.key.lowercased() == tag }) { return exact.value }
            let primary = tag.split(separator: "-").first.map(String.init) ?? tag
            if let base = translations[primary] { return base }
        }
        return translations[defaultLanguage] ?? translations.values.first ?? ""
    }

    /// The language `text(for:)` answers in (the customer's, or the default).
    public func language(for language: String?) -> String {
        if let language {
            let tag = language.replacingOccurrences(of: "_", with: "-").lowercased()
            if translations.keys.contains(where: { $0.lowercased() == tag }) { return tag }
            let primary = tag.split(separator: "-").first.map(String.init) ?? tag
            if translations[primary] != nil { return primary }
        }
        return defaultLanguage.isEmpty ? (language ?? "en") : defaultLanguage
    }

    public var allTexts: [String] { Array(translations.values) }
}
