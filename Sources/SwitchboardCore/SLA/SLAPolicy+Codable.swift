import Foundation

/// An SLA policy as fixed on a ticket (`sla_policies.spec`): the same policy always encodes to the
/// same text (sets sorted, keys sorted by the encoder), so its checksum names one version.
extension SLAPolicy: Codable {
    private enum CodingKeys: String, CodingKey { case name, conditions, calendarName, targets, onWarning, onBreach }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(conditions, forKey: .conditions)
        try container.encode(calendarName, forKey: .calendarName)
        try container.encode(targets, forKey: .targets)
        try container.encode(onWarning, forKey: .onWarning)
        try container.encode(onBreach, forKey: .onBreach)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try container.decode(String.self, forKey: .name),
                  conditions: try container.decode(Conditions.self, forKey: .conditions),
                  calendarName: try container.decode(String.self, forKey: .calendarName),
                  targets: try container.decode(SLATargets.self, forKey: .targets),
                  onWarning: try container.decode([Action].self, forKey: .onWarning),
                  onBreach: try container.decode([Action].self, forKey: .onBreach))
    }

    /// The canonical JSON text of this policy.
    public func canonicalJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public static func decode(canonicalJSON text: String) throws -> SLAPolicy {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(SLAPolicy.self, from: Data(text.utf8))
    }
}

extension SLAPolicy.Conditions: Codable {
    private enum CodingKeys: String, CodingKey { case queues, priorities, tags, businessNumbers }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(queues?.sorted(), forKey: .queues)
        try container.encodeIfPresent(priorities?.sorted().map(\.name), forKey: .priorities)
        try container.encodeIfPresent(tags?.sorted(), forKey: .tags)
        try container.encodeIfPresent(businessNumbers?.sorted(), forKey: .businessNumbers)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        var priorities: Set<WaitingOrder.Priority>?
        if let names = try container.decodeIfPresent([String].self, forKey: .priorities) {
            priorities = Set(try names.map { name in
                guard let priority = WaitingOrder.Priority(name: name) else {
                    throw DecodingError.dataCorruptedError(forKey: .priorities, in: container, debugDescription: "unknown priority \(name)")
                }
                return priority
            })
        }
        self.init(queues: try container.decodeIfPresent([String].self, forKey: .queues).map(Set.init), priorities: priorities,
                  tags: try container.decodeIfPresent([String].self, forKey: .tags).map(Set.init),
                  businessNumbers: try container.decodeIfPresent([String].self, forKey: .businessNumbers).map(Set.init))
    }
}

/// Actions as in the configuration: `{"notify": "supervisors"}`, `{"raisePriority": true}`,
/// `{"moveTo": "tier2"}`, `{"addTag": "late"}`.
extension SLAPolicy.Action: Codable {
    private enum CodingKeys: String, CodingKey { case notify, raisePriority, moveTo, addTag }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .notifySupervisors: try container.encode("supervisors", forKey: .notify)
        case .raisePriority: try container.encode(true, forKey: .raisePriority)
        case .moveTo(let queue): try container.encode(queue, forKey: .moveTo)
        case .addTag(let tag): try container.encode(tag, forKey: .addTag)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.notify) {
            self = .notifySupervisors
        } else if container.contains(.raisePriority) {
            self = .raisePriority
        } else if let queue = try container.decodeIfPresent(String.self, forKey: .moveTo) {
            self = .moveTo(queue: queue)
        } else if let tag = try container.decodeIfPresent(String.self, forKey: .addTag) {
            self = .addTag(tag)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an SLA action"))
        }
    }
}

extension SLATargets: Codable {
    private enum CodingKeys: String, CodingKey { case firstResponseSeconds, nextResponseSeconds, resolutionSeconds, warningFraction, calendar }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(firstResponse, forKey: .firstResponseSeconds)
        try container.encodeIfPresent(nextResponse, forKey: .nextResponseSeconds)
        try container.encodeIfPresent(resolution, forKey: .resolutionSeconds)
        try container.encode(warningFraction, forKey: .warningFraction)
        try container.encode(calendar, forKey: .calendar)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let fraction = try container.decode(Double.self, forKey: .warningFraction)
        guard fraction > 0 && fraction <= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .warningFraction, in: container, debugDescription: "the warning threshold is above 0 and at most 1, got \(fraction)")
        }
        self.init(firstResponse: try container.decodeIfPresent(Double.self, forKey: .firstResponseSeconds),
                  nextResponse: try container.decodeIfPresent(Double.self, forKey: .nextResponseSeconds),
                  resolution: try container.decodeIfPresent(Double.self, forKey: .resolutionSeconds),
                  warningFraction: fraction, calendar: try container.decode(BusinessCalendar.self, forKey: .calendar))
    }
}
