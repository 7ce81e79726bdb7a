import Foundation
import SwitchboardCore
import Testing

/// Automation's decisions with a manual clock: each failure other inboxes are known for is a test
/// here (an out-of-hours reply on every message or on our own, automation firing twice or on the
/// business's messages, a survey outside the window, pending tickets that never close, stale names).
@Suite("Automation decisions: greetings, out of hours, triage, CSAT, auto-close, variables")
struct AutomationDecisionTests {
    static let madrid = TimeZone(identifier: "Europe/Madrid") ?? .current
    /// Mon–Fri 09:00–18:00 in Madrid.
    static let office = BusinessCalendar(timeZone: madrid, week: [[], [.init(start: 540, length: 540)], [.init(start: 540, length: 540)], [.init(start: 540, length: 540)],
                                                                  [.init(start: 540, length: 540)], [.init(start: 540, length: 540)], []])

    /// A local time in Madrid: 2026-12-07 is a Monday.
    static func at(_ day: Int, _ hour: Int, _ minute: Int = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = madrid
        return calendar.date(from: DateComponents(year: 2026, month: 12, day: day, hour: hour, minute: minute)) ?? .distantPast
    }

    static func ticket(_ id: Int64 = 7, queue: String? = "support", language: String? = nil, windowFrom: Date? = nil, replied: Date? = nil,
                       status: TicketStatus = .open) -> AutomationTicket {
        AutomationTicket(id: id, reference: "T-\(1000 + id)", businessNumber: "111", queue: queue, status: status, customerName: "Lucía",
                         customerLanguage: language, agentName: "Ben Carter", windowExpiresAt: (windowFrom ?? at(7, 20)).addingTimeInterval(86_400),
                         lastAgentReplyAt: replied)
    }

    static var configuration: AutomationConfiguration {
        var configuration = AutomationConfiguration()
        configuration.greetings = [.init(name: "hello", text: LocalizedText(["en": "Hi {{customer.name|there}}, this is {{ticket.reference}}.", "es": "Hola {{customer.name}}."],
                                                                           defaultLanguage: "en"))]
        configuration.outOfHours = [.init(name: "closed", scope: .init(queues: ["support"]), calendarName: "office", calendar: office, quietAfterAgentReply: 600,
                                          text: LocalizedText(["en": "We are closed; back {{team.back}}.", "es": "Cerrado; volvemos el {{team.back}}."], defaultLanguage: "en"))]
        return configuration
    }

    // MARK: Variables and languages

    @Test func variablesAreFilledWhenRenderedWithDefaultsForWhatIsMissing() {
        #expect(TextVariables.render("Hi {{customer.name|there}} ({{ticket.reference}})", values: ["customer.name": "Ana", "ticket.reference": "T-1"]) == "Hi Ana (T-1)")
        #expect(TextVariables.render("Hi {{customer.name|there}}", values: [:]) == "Hi there")
        #expect(TextVariables.render("Hi {{customer.name|there}}", values: ["customer.name": ""]) == "Hi there")
        #expect(TextVariables.render("Hi {{ agent.name }}!", values: [:]) == "Hi !")
        #expect(TextVariables.check("Hi {{customer.nmae}}") == .unknown("customer.nmae"))
        #expect(TextVariables.check("Hi {{customer.name") == .unclosed)
        #expect(TextVariables.check("Back {{team.back}}", allowed: ["customer.name"]) == .unknown("team.back"))
        #expect(TextVariables.check("No variables at all") == nil)
    }

    @Test func aTextIsChosenInTheCustomersLanguageOrTheDefault() {
        let text = LocalizedText(["en": "Hello", "es": "Hola", "pt-BR": "Olá"], defaultLanguage: "en")
        #expect(text.text(for: "es-MX") == "Hola")
        #expect(text.text(for: "pt_BR") == "Olá")
        #expect(text.text(for: "de") == "Hello")
        #expect(text.text(for: nil) == "Hello")
        #expect(LocalizedText("Only one").text(for: "es") == "Only one")
    }

    // MARK: Calendar

    @Test func theClosedPeriodRunsFromTheLastClosingToTheNextOpening() {
        #expect(Self.office.closedPeriod(at: Self.at(7, 10)) == nil)
        // Friday 20:00: closed since Friday 18:00 until Monday 09:00.
        let weekend = Self.office.closedPeriod(at: Self.at(11, 20))
        #expect(weekend == .init(since: Self.at(11, 18), until: Self.at(14, 9)))
        // Saturday morning is the same period.
        #expect(Self.office.closedPeriod(at: Self.at(12, 10)) == weekend)
        #expect(Self.office.closedPeriod(at: Self.at(8, 7))?.since == Self.at(7, 18))
    }

    // MARK: Out of hours and greetings

    @Test func outOfHoursIsOncePerClosedPeriodHoweverManyMessages() throws {
        let configuration = Self.configuration
        let first = ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: Self.at(7, 20)), receivedAt: Self.at(7, 20), startedTicket: true),
                                          configuration: configuration, now: Self.at(7, 20))
        let second = ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: Self.at(7, 20)), receivedAt: Self.at(7, 23), startedTicket: false),
                                           configuration: configuration, now: Self.at(7, 23))
        let nextMorning = ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: Self.at(8, 7)), receivedAt: Self.at(8, 7), startedTicket: false),
                                                configuration: configuration, now: Self.at(8, 7))
        let message = try #require(first.first)
        #expect(first.count == 1 && message.reason == .outOfHours)
        // Same cause, same key: the store records it once; the next closed night is a new cause.
        #expect(second.map(\.key) == [message.key])
        #expect(nextMorning.map(\.key) == [message.key], "07:00 Tuesday is still the closed period that began Monday 18:00")
        let nextNight = ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: Self.at(8, 19)), receivedAt: Self.at(8, 19), startedTicket: false),
                                              configuration: configuration, now: Self.at(8, 19))
        #expect(nextNight.count == 1 && nextNight.first?.key != message.key)
        #expect(message.content == .text("We are closed; back Tuesday 09:00 (Europe/Madrid)."))
        #expect(message.author == "automation:out_of_hours")
    }

    @Test func outOfHoursSaysWhenTheTeamIsBackInTheCustomersLanguage() {
        let reply = ArrivalReplies.decide(.init(ticket: Self.ticket(language: "es", windowFrom: Self.at(11, 20)), receivedAt: Self.at(11, 20), startedTicket: false),
                                          configuration: Self.configuration, now: Self.at(11, 20))
        // The weekday and time as Spanish writes them (CLDR's pattern), in the calendar's zone.
        guard case .text(let text)? = reply.first?.content else {
            Issue.record("a text: \(reply)")
            return
        }
        #expect(text.hasPrefix("Cerrado; volvemos el lunes") && text.contains("9:00") && text.hasSuffix("(Europe/Madrid)."), "\(text)")
    }

    @Test func neverOnOurOwnOrTheBusinessAppsMessagesNorOnReactionsNorRightAfterAnAgentAnswered() {
        let configuration = Self.configuration
        let night = Self.at(7, 20)
        #expect(ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: night), receivedAt: night, startedTicket: false, fromCustomer: false),
                                      configuration: configuration, now: night).isEmpty)
        #expect(ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: night), receivedAt: night, startedTicket: false, asksForAnswer: false),
                                      configuration: configuration, now: night).isEmpty)
        // An agent working late answered five minutes ago: no "we are closed".
        #expect(ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: night, replied: night.addingTimeInterval(-300)), receivedAt: night, startedTicket: false),
                                      configuration: configuration, now: night).isEmpty)
        // Eleven minutes ago is outside the quiet time.
        #expect(ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: night, replied: night.addingTimeInterval(-660)), receivedAt: night, startedTicket: false),
                                      configuration: configuration, now: night).count == 1)
        // A queue the rule is not for.
        #expect(ArrivalReplies.decide(.init(ticket: Self.ticket(queue: "sales", windowFrom: night), receivedAt: night, startedTicket: false),
                                      configuration: configuration, now: night).isEmpty)
    }

    @Test func aGreetingStartsATicketOnceAndOnlyWithinTheWindow() {
        let configuration = Self.configuration
        let day = Self.at(7, 10)
        let greeting = ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: day), receivedAt: day, startedTicket: true), configuration: configuration, now: day)
        #expect(greeting == [AutomaticMessage(key: "greeting:7", reason: .greeting, rule: "hello", content: .text("Hi Lucía, this is T-1007."))])
        #expect(ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: day), receivedAt: day, startedTicket: false), configuration: configuration, now: day).isEmpty)
        #expect(ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: day), receivedAt: day, startedTicket: true, inTriage: true),
                                      configuration: configuration, now: day).isEmpty, "the menu greets")
        // Decided late (after a restart) with the window gone: nothing free-form.
        #expect(ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: day), receivedAt: day, startedTicket: true), configuration: configuration,
                                      now: day.addingTimeInterval(90_000)).isEmpty)
        var nameless = Self.ticket(windowFrom: day)
        nameless.customerName = nil
        #expect(ArrivalReplies.decide(.init(ticket: nameless, receivedAt: day, startedTicket: true), configuration: configuration, now: day).first?.content
            == .text("Hi there, this is T-1007."))
    }

    @Test func aConversationTheBusinessStartedIsNotGreeted() {
        let day = Self.at(7, 10)
        // Ben sent a template yesterday afternoon on an earlier ticket; the customer answers now, on a new one.
        let answering = Self.ticket(windowFrom: day, replied: day.addingTimeInterval(-20 * 3600))
        #expect(ArrivalReplies.decide(.init(ticket: answering, receivedAt: day, startedTicket: true), configuration: Self.configuration, now: day).isEmpty)
        // Two days later it is a new conversation again.
        let later = Self.ticket(windowFrom: day, replied: day.addingTimeInterval(-50 * 3600))
        #expect(ArrivalReplies.decide(.init(ticket: later, receivedAt: day, startedTicket: true), configuration: Self.configuration, now: day).map(\.reason) == [.greeting])
        // And the agent who wrote at 19:55 from the office is not told "we are closed" at 20:00.
        let night = Self.at(7, 20)
        #expect(ArrivalReplies.decide(.init(ticket: Self.ticket(windowFrom: night, replied: night.addingTimeInterval(-300)), receivedAt: night, startedTicket: true),
                                      configuration: Self.configuration, now: night).isEmpty)
    }

    // MARK: Triage

    static let menu = AutomationConfiguration.TriageRule(
        name: "topics", style: .buttons, prompt: LocalizedText("What is it about, {{customer.name}}?"), retryPrompt: LocalizedText("Please pick one of the buttons."),
        button: LocalizedText("Choose"),
        options: [.init(id: "billing", title: LocalizedText(["en": "Billing", "es": "Facturación"], defaultLanguage: "en"), tags: ["billing"], customerTags: ["billed"]),
                  .init(id: "tech", title: LocalizedText("Technical")),
                  .init(id: "es", title: LocalizedText("Español"), language: "es")],
        maxAsks: 2, timeout: 600, fallbackRule: "default")

    @Test func aMenuGoesOutInsteadOfRoutingAndAChoiceRoutesTheTicket() throws {
        let start = Self.at(7, 10)
        var machine = TriageStateMachine(rule: Self.menu, ticket: Self.ticket(queue: nil, windowFrom: start))
        let opening = machine.event(.start(now: start))
        guard case .send(let message) = opening.first, case .menu(let menu) = message.content else {
            Issue.record("the menu is sent first: \(opening)")
            return
        }
        #expect(message.key == "triage:7:1" && message.reason == .triageMenu)
        #expect(menu.body == "What is it about, Lucía?" && menu.rows.map(\.id) == ["billing", "tech", "es"] && menu.style == .buttons)
        #expect(opening.last == .record(.asking(asked: 1, deadline: start.addingTimeInterval(600))))
        let chosen = machine.event(.customerWrote(choiceID: "billing", text: "Billing", asksForAnswer: true, now: start.addingTimeInterval(30)))
        #expect(chosen == [.record(.chosen("billing")), .route(.chosen(Self.menu.options[0]))])
        // Anything after the choice is an ordinary message.
        #expect(machine.event(.customerWrote(choiceID: nil, text: "thanks", asksForAnswer: true, now: start.addingTimeInterval(40))).isEmpty)
        #expect(machine.event(.deadlinePassed(now: start.addingTimeInterval(900))).isEmpty)
    }

    @Test func freeTextIsAskedOnceMoreThenRoutedByTheFallback() {
        let start = Self.at(7, 10)
        var machine = TriageStateMachine(rule: Self.menu, ticket: Self.ticket(queue: nil, windowFrom: start))
        _ = machine.event(.start(now: start))
        // A reaction is not an answer.
        #expect(machine.event(.customerWrote(choiceID: nil, text: "👍", asksForAnswer: false, now: start.addingTimeInterval(5))).isEmpty)
        let again = machine.event(.customerWrote(choiceID: nil, text: "my invoice is wrong", asksForAnswer: true, now: start.addingTimeInterval(10)))
        guard case .send(let retry) = again.first, case .menu(let menu) = retry.content else {
            Issue.record("the menu again: \(again)")
            return
        }
        #expect(retry.key == "triage:7:2" && retry.reason == .triageRetry && menu.body == "Please pick one of the buttons.")
        let fallback = machine.event(.customerWrote(choiceID: nil, text: "just help me", asksForAnswer: true, now: start.addingTimeInterval(20)))
        #expect(fallback == [.record(.unanswered), .route(.fallback(routingRule: "default", why: "no choice after 2 menus"))])
    }

    @Test func silencePastTheTimeoutRoutesByTheFallbackAndATypedNumberOrTitleChooses() {
        let start = Self.at(7, 10)
        var silent = TriageStateMachine(rule: Self.menu, ticket: Self.ticket(queue: nil, windowFrom: start))
        _ = silent.event(.start(now: start))
        #expect(silent.event(.deadlinePassed(now: start.addingTimeInterval(599))).isEmpty, "early wake-ups change nothing")
        #expect(silent.event(.deadlinePassed(now: start.addingTimeInterval(600))) == [.record(.timedOut), .route(.fallback(routingRule: "default", why: "no answer within 10 minutes"))])

        var typed = TriageStateMachine(rule: Self.menu, ticket: Self.ticket(queue: nil, language: "es", windowFrom: start))
        _ = typed.event(.start(now: start))
        #expect(typed.event(.customerWrote(choiceID: nil, text: " 2 ", asksForAnswer: true, now: start.addingTimeInterval(5))).last == .route(.chosen(Self.menu.options[1])))
        var titled = TriageStateMachine(rule: Self.menu, ticket: Self.ticket(queue: nil, language: "es", windowFrom: start))
        _ = titled.event(.start(now: start))
        #expect(titled.event(.customerWrote(choiceID: nil, text: "facturacion", asksForAnswer: true, now: start.addingTimeInterval(5))).last == .route(.chosen(Self.menu.options[0])))
    }

    @Test func aTicketFoundAfterItsWindowClosedIsRoutedAtOnce() {
        let start = Self.at(7, 10)
        var machine = TriageStateMachine(rule: Self.menu, ticket: Self.ticket(queue: nil, windowFrom: start))
        #expect(machine.event(.start(now: start.addingTimeInterval(90_000))) == [.record(.timedOut),
                                                                                .route(.fallback(routingRule: "default", why: "the customer service window had closed"))])
    }

    @Test func aChoiceClassifiesWithItsIdAndLanguageAndTheFallbackNamesItsRule() throws {
        let rules = [RoutingRule(name: "spanish", conditions: .init(languages: ["es"]), actions: .init(queue: "es")),
                     RoutingRule(name: "billing", conditions: .init(menuChoices: ["billing"]), actions: .init(queue: "billing")),
                     RoutingRule(name: "default", actions: .init(queue: "support"))]
        let coordinator = RoutingCoordinator(configuration: RoutingConfiguration(queues: [.init(name: "es"), .init(name: "billing"), .init(name: "support")], rules: rules))
        let facts = TicketFacts(businessNumber: "111", firstMessageText: "Hello, I have a question about my account")
        #expect(coordinator.classify(facts, knownLanguage: nil, createdAt: Self.at(7, 10), triage: .chosen("billing", language: nil))?.rule.name == "billing")
        #expect(coordinator.classify(facts, knownLanguage: nil, createdAt: Self.at(7, 10), triage: .chosen("es", language: "es"))?.rule.name == "spanish",
                "the language chosen wins over the one guessed from English text")
        #expect(coordinator.classify(facts, knownLanguage: "es", createdAt: Self.at(7, 10), triage: .fallback("default"))?.rule.name == "default")
        #expect(coordinator.classify(facts, knownLanguage: nil, createdAt: Self.at(7, 10), triage: .fallback(nil))?.rule.name == "default")
    }

    // MARK: CSAT

    static let csat = AutomationConfiguration.CSAT(prompt: LocalizedText("How did {{agent.name}} do?"), button: LocalizedText("Rate"),
                                                   ratings: ["1", "2", "3", "4", "5"].map(LocalizedText.init),
                                                   template: MessageTemplate(name: "csat_request", language: "en_US", text: "How did we do? Reply 1-5."),
                                                   expiresAfter: 86_400, commentWithin: 600, thanks: LocalizedText("Thank you!"))

    @Test func aResolvedTicketGetsAListInsideTheWindowAndTheTemplateOutsideIt() throws {
        let resolvedAt = Self.at(7, 12)
        var inside = CSATSurvey(configuration: Self.csat, ticket: Self.ticket(status: .resolved))
        let sent = inside.event(.resolved(automatically: false, now: resolvedAt))
        guard case .send(let survey) = sent.first, case .menu(let list) = survey.content else {
            Issue.record("a list: \(sent)")
            return
        }
        #expect(survey.key == "csat:7" && list.style == .list && list.rows.map(\.id) == ["csat:1", "csat:2", "csat:3", "csat:4", "csat:5"])
        #expect(list.body == "How did Ben Carter do?")
        #expect(sent.last == .recordSent(channel: "interactive", expiresAt: resolvedAt.addingTimeInterval(86_400)))
        #expect(inside.openUntil == resolvedAt.addingTimeInterval(86_400))

        let late = Self.at(9, 12)
        var outside = CSATSurvey(configuration: Self.csat, ticket: Self.ticket(status: .resolved))
        #expect(outside.event(.resolved(automatically: false, now: late)).first
            == .send(AutomaticMessage(key: "csat:7", reason: .csatSurvey, rule: nil, content: .template(Self.csat.template!))))
        var noTemplate = Self.csat
        noTemplate.template = nil
        var lost = CSATSurvey(configuration: noTemplate, ticket: Self.ticket(status: .resolved))
        #expect(lost.event(.resolved(automatically: false, now: late)) == [.skip("the customer service window had closed and csat.template names no template")])
        #expect(lost.openUntil == nil, "no survey: the customer's next message reopens the ticket as usual")
    }

    @Test func aTicketNobodyAnsweredIsNotSurveyed() {
        var unanswered = Self.ticket(status: .resolved)
        unanswered.personReplied = false
        var machine = CSATSurvey(configuration: Self.csat, ticket: unanswered)
        #expect(machine.event(.resolved(automatically: false, now: Self.at(7, 12))) == [.skip("nobody answered the customer on this ticket")])
    }

    @Test func autoClosedTicketsAreSurveyedOnlyWhenConfigured() {
        var machine = CSATSurvey(configuration: Self.csat, ticket: Self.ticket(status: .resolved))
        #expect(machine.event(.resolved(automatically: true, now: Self.at(7, 12))) == [.skip("auto-closed tickets are not surveyed (csat.afterAutoClose)")])
        var configured = Self.csat
        configured.afterAutoClose = true
        var surveyed = CSATSurvey(configuration: configured, ticket: Self.ticket(status: .resolved))
        #expect(surveyed.event(.resolved(automatically: true, now: Self.at(7, 12))).count == 2)
    }

    @Test func theRatingAndOneCommentAreTakenOnceWhileTheSurveyIsOpen() {
        let resolvedAt = Self.at(7, 12)
        var machine = CSATSurvey(configuration: Self.csat, ticket: Self.ticket(status: .resolved))
        _ = machine.event(.resolved(automatically: false, now: resolvedAt))
        #expect(machine.event(.customerWrote(choiceID: nil, text: "hmm", asksForAnswer: true, now: resolvedAt.addingTimeInterval(60))).isEmpty)
        let rated = machine.event(.customerWrote(choiceID: "csat:4", text: "4", asksForAnswer: true, now: resolvedAt.addingTimeInterval(120)))
        #expect(rated == [.recordRating(4, at: resolvedAt.addingTimeInterval(120), commentUntil: resolvedAt.addingTimeInterval(720)),
                          .send(AutomaticMessage(key: "csat_thanks:7", reason: .csatThanks, rule: nil, content: .text("Thank you!")))])
        #expect(machine.event(.customerWrote(choiceID: "csat:1", text: "1", asksForAnswer: true, now: resolvedAt.addingTimeInterval(130))).isEmpty,
                "a second tap changes nothing")
        #expect(machine.event(.customerWrote(choiceID: nil, text: "Quick and kind", asksForAnswer: true, now: resolvedAt.addingTimeInterval(200)))
            == [.recordComment("Quick and kind", at: resolvedAt.addingTimeInterval(200))])
        #expect(machine.event(.customerWrote(choiceID: nil, text: "And another thing", asksForAnswer: true, now: resolvedAt.addingTimeInterval(300))).isEmpty)
        #expect(machine.openUntil == nil)
        // Resolved again after a reopening: never a second survey.
        #expect(machine.event(.resolved(automatically: false, now: resolvedAt.addingTimeInterval(9000))).isEmpty)
    }

    @Test func aRatingAfterTheSurveyExpiredIsAnOrdinaryMessage() {
        let resolvedAt = Self.at(7, 12)
        var machine = CSATSurvey(configuration: Self.csat, ticket: Self.ticket(status: .resolved))
        _ = machine.event(.resolved(automatically: false, now: resolvedAt))
        #expect(machine.event(.customerWrote(choiceID: "csat:5", text: "5", asksForAnswer: true, now: resolvedAt.addingTimeInterval(86_401))).isEmpty)
        #expect(CSATSurvey.rating(choiceID: nil, text: " 3 ") == 3)
        #expect(CSATSurvey.rating(choiceID: "quick_reply_payload", text: "5") == 5)
        #expect(CSATSurvey.rating(choiceID: nil, text: "35") == nil)
        #expect(CSATSurvey.rating(choiceID: "csat:9", text: nil) == nil)
    }

    @Test func whileTheSurveyIsOpenTheCustomersMessagesStayOnTheResolvedTicket() {
        let resolvedAt = Self.at(7, 12)
        let latest = TicketThreading.LatestTicket(id: 7, status: .resolved, resolvedAt: resolvedAt, surveyOpenUntil: resolvedAt.addingTimeInterval(3600))
        #expect(TicketThreading.decide(latest: latest, receivedAt: resolvedAt.addingTimeInterval(60), reopenWithin: 86_400) == .attach(to: 7))
        #expect(TicketThreading.decide(latest: latest, receivedAt: resolvedAt.addingTimeInterval(3601), reopenWithin: 86_400) == .reopen(7))
        #expect(TicketThreading.decide(latest: latest, receivedAt: resolvedAt.addingTimeInterval(3601), reopenWithin: 0) == .newTicket)
    }

    // MARK: Auto-close

    @Test func pendingTicketsCloseAfterTheQuietTimeAndOpenOnesOnlyWhereAQueueAsks() {
        let rule = AutomationConfiguration.AutoClose(pendingAfter: 48 * 3600, openAfterByQueue: ["bots": 72 * 3600])
        let lastMessage = Self.at(7, 10), setPending = Self.at(7, 16)
        let pending = AutoClosePolicy.Candidate(status: .pending, queue: "support", lastCustomerMessageAt: lastMessage, pendingSince: setPending, createdAt: Self.at(7, 9))
        #expect(AutoClosePolicy.dueAt(pending, configuration: rule) == setPending.addingTimeInterval(48 * 3600), "counted from when the agent set it pending")
        #expect(!AutoClosePolicy.isDue(pending, configuration: rule, now: setPending.addingTimeInterval(47 * 3600)))
        #expect(AutoClosePolicy.isDue(pending, configuration: rule, now: setPending.addingTimeInterval(48 * 3600)))
        var wroteLater = pending
        wroteLater.lastCustomerMessageAt = Self.at(8, 10)
        #expect(AutoClosePolicy.dueAt(wroteLater, configuration: rule) == Self.at(8, 10).addingTimeInterval(48 * 3600))
        let open = AutoClosePolicy.Candidate(status: .open, queue: "support", lastCustomerMessageAt: lastMessage, pendingSince: nil, createdAt: Self.at(7, 9))
        #expect(AutoClosePolicy.dueAt(open, configuration: rule) == nil, "an open ticket waits for an agent, never auto-closed")
        var bots = open
        bots.queue = "bots"
        #expect(AutoClosePolicy.dueAt(bots, configuration: rule) == lastMessage.addingTimeInterval(72 * 3600))
        #expect(AutoClosePolicy.dueAt(.init(status: .resolved, queue: "bots", lastCustomerMessageAt: nil, pendingSince: nil, createdAt: lastMessage), configuration: rule) == nil)
    }

    @Test func theClosingMessageGoesOnlyWhileTheWindowIsOpen() {
        let rule = AutomationConfiguration.AutoClose(pendingAfter: 3600, closingText: LocalizedText("Closing {{ticket.reference}}; write any time."))
        let quiet = Self.at(7, 10)
        #expect(AutoClosePolicy.closingMessage(Self.ticket(windowFrom: quiet), quietSince: quiet, configuration: rule, now: quiet.addingTimeInterval(3600))?.content
            == .text("Closing T-1007; write any time."))
        #expect(AutoClosePolicy.closingMessage(Self.ticket(windowFrom: quiet), quietSince: quiet, configuration: rule, now: quiet.addingTimeInterval(90_000)) == nil)
    }
}
