import Foundation
import SwitchboardCore
import Testing

@Suite("Threading, delivery progress, calling codes, the service window")
struct TicketThreadingTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func noTicketMeansANewOne() {
        #expect(TicketThreading.decide(latest: nil, receivedAt: now, reopenWithin: 3600) == .newTicket)
    }

    @Test(arguments: [TicketStatus.open, .pending, .resolved], [0.0, 1, 3599, 3600, 3601, 86400])
    func everyStatusAndAge(status: TicketStatus, secondsSinceResolved: Double) {
        let resolvedAt = status == .resolved ? now.addingTimeInterval(-secondsSinceResolved) : nil
        let decision = TicketThreading.decide(latest: .init(id: 7, status: status, resolvedAt: resolvedAt), receivedAt: now, reopenWithin: 3600)
        switch status {
        case .open: #expect(decision == .append(to: 7))
        case .pending: #expect(decision == .wakeUp(7))
        case .resolved: #expect(decision == (secondsSinceResolved <= 3600 ? .reopen(7) : .newTicket))
        }
    }

    @Test func reopeningCanBeTurnedOff() {
        let latest = TicketThreading.LatestTicket(id: 1, status: .resolved, resolvedAt: now)
        #expect(TicketThreading.decide(latest: latest, receivedAt: now, reopenWithin: 0) == .newTicket)
    }

    @Test func deliveryStatusesOnlyMoveForward() {
        let order = ["queued", "sent", "delivered", "read", "played"]
        for (i, from) in order.enumerated() {
            for (j, to) in order.enumerated() {
                #expect(DeliveryProgress.advances(from: from, to: to) == (j > i), "\(from) → \(to)")
            }
            #expect(DeliveryProgress.advances(from: from, to: "failed"))
            #expect(!DeliveryProgress.advances(from: "failed", to: from))
        }
        #expect(DeliveryProgress.advances(from: nil, to: "sent"))
        #expect(!DeliveryProgress.advances(from: "sent", to: "teleported"))
    }

    @Test func countriesFromCallingCodes() {
        #expect(CallingCodes.country(ofPhone: "4915112345678") == "DE")
        #expect(CallingCodes.country(ofPhone: "+447700900123") == "GB")
        #expect(CallingCodes.country(ofPhone: "5511987654321") == "BR")
        #expect(CallingCodes.country(ofPhone: "972501234567") == "IL")
        #expect(CallingCodes.country(ofPhone: "351912345678") == "PT")
        #expect(CallingCodes.country(ofPhone: "77011234567") == "KZ")
        #expect(CallingCodes.country(ofPhone: "79161234567") == "RU")
        // +1 is shared by the US, Canada and the Caribbean: no guess.
        #expect(CallingCodes.country(ofPhone: "16505551234") == nil)
        #expect(CallingCodes.country(ofPhone: "PHONE_NUMBER") == nil)
        #expect(CallingCodes.country(ofPhone: "123") == nil)
    }

    @Test func theServiceWindowLastsADayFromTheLastCustomerMessage() {
        let closes = CustomerServiceWindow.closes(afterInboundAt: now)
        #expect(closes.timeIntervalSince(now) == 86400)
        #expect(CustomerServiceWindow.allowsFreeForm(expiresAt: closes, now: closes.addingTimeInterval(-1)))
        #expect(!CustomerServiceWindow.allowsFreeForm(expiresAt: closes, now: closes))
        #expect(!CustomerServiceWindow.allowsFreeForm(expiresAt: nil, now: now))
    }

    @Test func aReactionADeletionOrAnEditOpensWakesAndReopensNothing() {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        for type in ["reaction", "revoke", "edit"] { #expect(!TicketThreading.asksForAnswer(type: type)) }
        for type in ["text", "image", "audio", "location", "interactive", "button", "unsupported"] { #expect(TicketThreading.asksForAnswer(type: type)) }
        let resolved = TicketThreading.LatestTicket(id: 7, status: .resolved, resolvedAt: now.addingTimeInterval(-60))
        let pending = TicketThreading.LatestTicket(id: 8, status: .pending, resolvedAt: nil)
        let open = TicketThreading.LatestTicket(id: 9, status: .open, resolvedAt: nil)
        #expect(TicketThreading.decide(latest: resolved, receivedAt: now, reopenWithin: 3600, asksForAnswer: false) == .attach(to: 7))
        #expect(TicketThreading.decide(latest: resolved, receivedAt: now, reopenWithin: 3600, asksForAnswer: true) == .reopen(7))
        #expect(TicketThreading.decide(latest: pending, receivedAt: now, reopenWithin: 3600, asksForAnswer: false) == .attach(to: 8))
        #expect(TicketThreading.decide(latest: open, receivedAt: now, reopenWithin: 3600, asksForAnswer: false) == .append(to: 9))
        // Long after the ticket was resolved, a reaction still belongs to it; and with no ticket at all, one starts.
        let old = TicketThreading.LatestTicket(id: 6, status: .resolved, resolvedAt: now.addingTimeInterval(-86_400 * 30))
        #expect(TicketThreading.decide(latest: old, receivedAt: now, reopenWithin: 3600, asksForAnswer: false) == .attach(to: 6))
        #expect(TicketThreading.decide(latest: nil, receivedAt: now, reopenWithin: 3600, asksForAnswer: false) == .newTicket)
    }
}
