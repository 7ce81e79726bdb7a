/// A skill a ticket needs, with the lowest proficiency (1–5) that will do: `product:billing>=3`.
public struct SkillRequirement: Sendable, Hashable, CustomStringConvertible {
    public var skill: String
    public var minimumProficiency: Int

    public init(_ skill: String, atLeast minimumProficiency: Int) {
        precondition((1...5).contains(minimumProficiency), "proficiency is 1–5 (configuration checks it)")
        self.skill = skill
        self.minimumProficiency = minimumProficiency
    }

    public func isMet(by skills: [String: Int]) -> Bool {
        (skills[skill] ?? 0) >= minimumProficiency
    }

    public var description: String { "\(skill)>=\(minimumProficiency)" }
}
