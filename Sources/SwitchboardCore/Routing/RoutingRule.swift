/// One classification rule: when every condition given holds, the ticket goes to `queue` with the
/// actions' priority, skills and tags. Rules are tried in order; the first match wins.
public struct RoutingRule: Sendable, Equatable {
    public var name: String
    public var conditions: Conditions
    public var actions: Actions

    public init(name: String, conditions: Conditions = Conditions(), actions: Actions) {
        self.name = name
        self.conditions = conditions
        self.actions = actions
    }

    /// Each condition is optional; a rule without any is a catch-all. Within a condition, any listed
    /// value matches.
    public struct Conditions: Sendable, Equatable {
        public var businessNumbers: Set<String>?
        /// ISO 3166-1 alpha-2 codes.
        public var countries: Set<String>?
        /// Language tags; `es` also matches `es-MX`.
        public var languages: Set<String>?
        /// Words or phrases in the first message, matched whole, ignoring case and accents.
        public var keywords: [String]? { didSet { keywordPhrases = Self.phrases(keywords) } }
        /// `keywords` as folded words (`RoutingRules.words`), folded once here rather than for every
        /// new ticket that classification tries the rule on.
        public private(set) var keywordPhrases: [[String]]?
        /// Ids or titles of an interactive menu choice.
        public var menuChoices: Set<String>?
        public var customerTags: Set<String>?
        /// true: only within the configured business hours; false: only outside them.
        public var withinBusinessHours: Bool?

        public init(businessNumbers: Set<String>? = nil, countries: Set<String>? = nil, languages: Set<String>? = nil, keywords: [String]? = nil,
                    menuChoices: Set<String>? = nil, customerTags: Set<String>? = nil, withinBusinessHours: Bool? = nil) {
            self.businessNumbers = businessNumbers
            self.countries = countries
            self.languages = languages
            self.keywords = keywords
            self.keywordPhrases = Self.phrases(keywords)
            self.menuChoices = menuChoices
            self.customerTags = customerTags
            self.withinBusinessHours = withinBusinessHours
        }

        private static func phrases(_ keywords: [String]?) -> [[String]]? { keywords.map { $0.map(RoutingRules.words) } }

        /// A rule without conditions catches every ticket.
        public var isCatchAll: Bool { self == Conditions() }
    }

    public struct Actions: Sendable, Equatable {
        public var queue: String
        public var priority: WaitingOrder.Priority
        public var requiredSkills: [SkillRequirement]
        public var tags: [String]

        public init(queue: String, priority: WaitingOrder.Priority = .normal, requiredSkills: [SkillRequirement] = [], tags: [String] = []) {
            self.queue = queue
            self.priority = priority
            self.requiredSkills = requiredSkills
            self.tags = tags
        }
    }
}

/// What classification knows of a new ticket.
public struct TicketFacts: Sendable, Equatable {
    public var businessNumber: String
    public var country: String?
    public var language: String?
    public var firstMessageText: String?
    public var menuChoice: [String]
    public var customerTags: Set<String>
    /// Whether the ticket arrived within business hours (true when none are configured).
    public var withinBusinessHours: Bool

    public init(businessNumber: String, country: String? = nil, language: String? = nil, firstMessageText: String? = nil,
                menuChoice: [String] = [], customerTags: Set<String> = [], withinBusinessHours: Bool = true) {
        self.businessNumber = businessNumber
        self.country = country
        self.language = language
        self.firstMessageText = firstMessageText
        self.menuChoice = menuChoice
        self.customerTags = customerTags
        self.withinBusinessHours = withinBusinessHours
    }
}
