import Foundation
import SwitchboardCore
import Testing

@Suite("Classification helpers: language guess, business hours, aging, rule skill levels")
struct ClassificationTests {
    @Test(arguments: [
        ("Hola, quiero saber dónde está mi pedido, por favor", "es"),
        ("Hi, my order has not arrived yet, can you help?", "en"),
        ("Olá, não recebi o meu pedido, preciso de ajuda", "pt"),
        ("Bonjour, je n'ai pas reçu ma commande, merci", "fr"),
        ("Hallo, ich habe meine Bestellung nicht bekommen, bitte helfen", "de"),
        ("Ciao, non ho ricevuto il mio ordine, grazie", "it"),
    ])
    func commonLanguagesAreRecognised(text: String, language: String) {
        #expect(LanguageGuess.guess(text) == language)
    }

    @Test func noClearWinnerIsNoGuess() {
        #expect(LanguageGuess.guess("👍") == nil)
        #expect(LanguageGuess.guess("12345 ABC-99") == nil)
        // "no" is Spanish, "a" nothing; "con" is Spanish and Italian: a tie.
        #expect(LanguageGuess.guess("con") == nil)
    }

    @Test func businessHoursFollowTheTimeZoneAndWeekday() throws {
        let nine = try #require(BusinessCalendar.parseInterval("09:00-18:00", allowOvernight: true))
        var week = [[BusinessCalendar.Interval]](repeating: [], count: 7)
        week[1] = [nine]  // Monday
        let hours = BusinessCalendar(timeZone: try #require(TimeZone(identifier: "Europe/Madrid")), week: week)
        // Monday 2026-11-23 08:30 UTC is 09:30 in Madrid (UTC+1 in winter).
        let monday0830 = try #require(ISO8601DateFormatter().date(from: "2026-11-23T08:30:00Z"))
        #expect(hours.contains(monday0830))
        #expect(!hours.contains(monday0830.addingTimeInterval(-3600)))  // 08:30 in Madrid
        #expect(!hours.contains(monday0830.addingTimeInterval(24 * 3600)))  // Tuesday
        #expect(!hours.contains(try #require(ISO8601DateFormatter().date(from: "2026-11-23T17:00:00Z"))))  // 18:00, end excluded
        #expect(BusinessCalendar.parseInterval("00:00-24:00", allowOvernight: true) == BusinessCalendar.Interval(start: 0, length: 1440))
        #expect(BusinessCalendar.parseInterval("22:00-06:00", allowOvernight: true) == BusinessCalendar.Interval(start: 1320, length: 480))
        #expect(BusinessCalendar.parseInterval("22:00-06:00", allowOvernight: false) == nil)
        #expect(BusinessCalendar.parseInterval("24:00-24:30", allowOvernight: true) == nil)
    }

    @Test func aRuleCanSendOutOfHoursTicketsElsewhere() {
        let rules = [RoutingRule(name: "night", conditions: .init(withinBusinessHours: false), actions: .init(queue: "night")),
                     RoutingRule(name: "day", actions: .init(queue: "day"))]
        #expect(RoutingRules.classify(TicketFacts(businessNumber: "1", withinBusinessHours: false), rules: rules)?.name == "night")
        #expect(RoutingRules.classify(TicketFacts(businessNumber: "1", withinBusinessHours: true), rules: rules)?.name == "day")
    }

    @Test func agingRaisesPriorityOneLevelPerStepUpToUrgent() {
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        let order = WaitingOrder(windowBoost: 0, agingStep: 600)
        let low = WaitingOrder.Ticket(id: 1, priority: .low, waitingSince: t0)
        #expect(order.effectivePriority(of: low, now: t0.addingTimeInterval(599)) == .low)
        #expect(order.effectivePriority(of: low, now: t0.addingTimeInterval(600)) == .normal)
        #expect(order.effectivePriority(of: low, now: t0.addingTimeInterval(1800)) == .urgent)
        #expect(order.effectivePriority(of: low, now: t0.addingTimeInterval(99_999)) == .urgent)
        #expect(order.nextAging(of: low, now: t0.addingTimeInterval(700)) == t0.addingTimeInterval(1200))
        #expect(order.nextAging(of: low, now: t0.addingTimeInterval(1800)) == nil)
        // An old low ticket overtakes a fresh normal one.
        let fresh = WaitingOrder.Ticket(id: 2, priority: .normal, waitingSince: t0.addingTimeInterval(1200))
        #expect(order.sorted([fresh, low], now: t0.addingTimeInterval(1200)).map(\.id) == [1, 2])
    }

    @Test func aStepSetsTheLevelOfTheRuleSkillsOrDropsThem() {
        let rule = [SkillRequirement("lang:es", atLeast: 3)]
        #expect(RoutingStep(requirements: [], timeout: 60).requirements(given: rule) == rule)
        #expect(RoutingStep(requirements: [], timeout: 60, ruleSkillLevel: 5).requirements(given: rule) == [SkillRequirement("lang:es", atLeast: 5)])
        #expect(RoutingStep(requirements: [SkillRequirement("tier2", atLeast: 1)], timeout: nil, ruleSkillLevel: 0).requirements(given: rule)
                == [SkillRequirement("tier2", atLeast: 1)])
    }
}
