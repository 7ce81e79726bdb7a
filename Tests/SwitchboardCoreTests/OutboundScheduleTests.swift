import Foundation
import SwitchboardCore
import Testing

@Suite("Outbound schedule: pacing and order per customer, pauses; the rate window")
struct OutboundScheduleTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    func item(_ n: Int, _ customer: String, notBefore: Date? = nil) -> OutboundSchedule.Item {
        .init(id: UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", n))!, customer: customer, notBefore: notBefore ?? t0, sequence: Int64(n))
    }

    @Test func sendsOldestFirstAndOnePerCustomerAtATime() {
        var schedule = OutboundSchedule(limits: .init(customerInterval: 6, maxInFlight: 10))
        schedule.add(item(1, "a"))
        schedule.add(item(2, "a"))
        schedule.add(item(3, "b"))
        #expect(schedule.next(now: t0) == .send(item(1, "a")))
        #expect(schedule.next(now: t0) == .send(item(3, "b")))
        // a's second message waits for the first to finish, then for the pacing gap.
        #expect(schedule.next(now: t0) == .idle)
        schedule.finished(item(1, "a").id, .done, now: t0.addingTimeInterval(0.5))
        #expect(schedule.next(now: t0.addingTimeInterval(0.5)) == .wait(until: t0.addingTimeInterval(6.5)))
        #expect(schedule.next(now: t0.addingTimeInterval(6.5)) == .send(item(2, "a")))
    }

    @Test func aDuplicateAddIsIgnored() {
        var schedule = OutboundSchedule(limits: .init(customerInterval: 0, maxInFlight: 10))
        schedule.add(item(1, "a"))
        schedule.add(item(1, "a"))
        #expect(schedule.count == 1)
        #expect(schedule.next(now: t0) == .send(item(1, "a")))
        #expect(schedule.next(now: t0) == .idle)
    }

    @Test func retriesKeepTheirPlaceInTheCustomersQueue() {
        var schedule = OutboundSchedule(limits: .init(customerInterval: 0, maxInFlight: 10))
        schedule.add(item(1, "a"))
        schedule.add(item(2, "a"))
        #expect(schedule.next(now: t0) == .send(item(1, "a")))
        schedule.finished(item(1, "a").id, .retry(at: t0.addingTimeInterval(4)), now: t0)
        #expect(schedule.next(now: t0.addingTimeInterval(1)) == .wait(until: t0.addingTimeInterval(4)))
        #expect(schedule.next(now: t0.addingTimeInterval(4)) == .send(item(1, "a", notBefore: t0.addingTimeInterval(4))))
    }

    @Test func aThrottledNumberSendsNothingUntilTheThrottleEnds() {
        var schedule = OutboundSchedule(limits: .init(customerInterval: 0, maxInFlight: 10))
        schedule.add(item(1, "a"))
        schedule.add(item(2, "b"))
        #expect(schedule.next(now: t0) == .send(item(1, "a")))
        schedule.finished(item(1, "a").id, .throttleNumber(until: t0.addingTimeInterval(3)), now: t0)
        #expect(schedule.next(now: t0.addingTimeInterval(1)) == .wait(until: t0.addingTimeInterval(3)))
        #expect(schedule.next(now: t0.addingTimeInterval(3)) == .send(item(1, "a", notBefore: t0.addingTimeInterval(3))))
    }

    @Test func aThrottledCustomerDoesNotHoldUpOthers() {
        var schedule = OutboundSchedule(limits: .init(customerInterval: 0, maxInFlight: 10))
        schedule.add(item(1, "a"))
        schedule.add(item(2, "b"))
        #expect(schedule.next(now: t0) == .send(item(1, "a")))
        schedule.finished(item(1, "a").id, .throttleCustomer(until: t0.addingTimeInterval(30)), now: t0)
        #expect(schedule.next(now: t0) == .send(item(2, "b")))
        #expect(schedule.next(now: t0) == .wait(until: t0.addingTimeInterval(30)))
    }

    @Test func suspendedSendsNothingUntilResumed() {
        var schedule = OutboundSchedule(limits: .init(customerInterval: 0, maxInFlight: 10))
        schedule.add(item(1, "a"))
        schedule.add(item(2, "b"))
        #expect(schedule.next(now: t0) == .send(item(1, "a")))
        schedule.finished(item(1, "a").id, .suspend, now: t0)
        #expect(schedule.isSuspended)
        #expect(schedule.next(now: t0.addingTimeInterval(3600)) == .idle)
        schedule.resume()
        #expect(schedule.next(now: t0.addingTimeInterval(3600)) == .send(item(1, "a")))
    }

    @Test func theInFlightLimitHolds() {
        var schedule = OutboundSchedule(limits: .init(customerInterval: 0, maxInFlight: 2))
        for n in 1...3 { schedule.add(item(n, "c\(n)")) }
        #expect(schedule.next(now: t0) == .send(item(1, "c1")))
        #expect(schedule.next(now: t0) == .send(item(2, "c2")))
        #expect(schedule.next(now: t0) == .idle)
        schedule.finished(item(2, "c2").id, .done, now: t0)
        #expect(schedule.next(now: t0) == .send(item(3, "c3")))
    }

    /// Many random runs on a simulated clock: whatever the arrivals, durations and failures,
    /// per-customer order, one-at-a-time and pacing hold, and every item ends.
    @Test(arguments: 0..<40)
    func invariantsHoldOnRandomRuns(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed) &+ 1)
        let interval = Double(Int.random(in: 0...3, using: &random))
        var schedule = OutboundSchedule(limits: .init(customerInterval: interval, maxInFlight: Int.random(in: 1...8, using: &random)))
        let customers = (0..<Int.random(in: 1...6, using: &random)).map { "c\($0)" }
        var now = t0
        var added: [String: [Int]] = [:]
        var started: [(at: Date, customer: String, n: Int)] = []
        var inFlight: [(id: UUID, n: Int, customer: String, ends: Date)] = []
        var lastEnd: [String: Date] = [:]
        var done = Set<Int>()
        var n = 0
        for _ in 0..<Int.random(in: 10...60, using: &random) {
            n += 1
            let customer = customers.randomElement(using: &random)!
            added[customer, default: []].append(n)
            schedule.add(.init(id: UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", n))!, customer: customer, notBefore: now, sequence: Int64(n)))
        }
        var steps = 0
        while done.count < n && steps < 100_000 {
            steps += 1
            switch schedule.next(now: now) {
            case .send(let item):
                let number = Int(item.sequence)
                #expect(!inFlight.contains { $0.customer == item.customer }, "two sends in flight to one customer")
                if let end = lastEnd[item.customer] { #expect(now >= end.addingTimeInterval(interval), "pacing gap not kept") }
                started.append((now, item.customer, number))
                inFlight.append((item.id, number, item.customer, now.addingTimeInterval(Double(Int.random(in: 1...500, using: &random)) / 1000)))
                continue
            case .wait(let until):
                let nextEnd = inFlight.map(\.ends).min() ?? until
                #expect(until > now)
                now = min(until, nextEnd)
            case .idle:
                guard let nextEnd = inFlight.map(\.ends).min() else {
                    Issue.record("idle with work left and nothing in flight")
                    return
                }
                now = nextEnd
            }
            while let index = inFlight.firstIndex(where: { $0.ends <= now }) {
                let finished = inFlight.remove(at: index)
                lastEnd[finished.customer] = now
                if Int.random(in: 0..<4, using: &random) == 0 {
                    schedule.finished(finished.id, .retry(at: now.addingTimeInterval(0.5)), now: now)
                } else {
                    schedule.finished(finished.id, .done, now: now)
                    done.insert(finished.n)
                }
            }
        }
        #expect(done.count == n, "not every item ended")
        // Order: each customer's first attempts start in the order they were added.
        for (customer, numbers) in added {
            var firstStarts: [Int] = []
            for start in started where start.customer == customer && !firstStarts.contains(start.n) { firstStarts.append(start.n) }
            #expect(firstStarts == numbers)
        }
    }
}

@Suite("Rate window")
struct RateWindowTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func holdsBackTheStartAfterTheCapacity() {
        var rate = RateWindow(perSecond: 2)
        #expect(rate.admit(now: t0) == nil)
        #expect(rate.admit(now: t0.addingTimeInterval(0.1)) == nil)
        #expect(rate.admit(now: t0.addingTimeInterval(0.2)) == t0.addingTimeInterval(1))
        #expect(rate.admit(now: t0.addingTimeInterval(1)) == nil)
        #expect(rate.admit(now: t0.addingTimeInterval(1)) == t0.addingTimeInterval(1.1))
    }

    @Test func aRateBelowOnePerSecondSpacesEveryStart() {
        var rate = RateWindow(perSecond: 0.5)
        #expect(rate.admit(now: t0) == nil)
        #expect(rate.admit(now: t0.addingTimeInterval(1)) == t0.addingTimeInterval(2))
        #expect(rate.admit(now: t0.addingTimeInterval(2)) == nil)
    }

    /// Random callers asking at random times, waiting as told (and sometimes oversleeping): no window
    /// of the rate's length ever holds more starts than the capacity.
    @Test(arguments: 0..<40)
    func neverMoreThanTheCapacityInAWindow(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed) &+ 101)
        let perSecond = Double(Int.random(in: 1...100, using: &random)) / Double(Int.random(in: 1...4, using: &random))
        var rate = RateWindow(perSecond: perSecond)
        let capacity = max(1, Int(perSecond))
        let window = Double(capacity) / perSecond
        var asks: [Date] = (0..<300).map { _ in t0.addingTimeInterval(Double(Int.random(in: 0...3000, using: &random)) / 1000) }.sorted()
        var admitted: [Date] = []
        while !asks.isEmpty {
            let now = asks.removeFirst()
            if let retry = rate.admit(now: now) {
                #expect(retry >= now)
                let overslept = retry.addingTimeInterval(Double(Int.random(in: 0...50, using: &random)) / 1000)
                asks.insert(overslept, at: asks.firstIndex { $0 > overslept } ?? asks.endIndex)
            } else {
                admitted.append(now)
            }
        }
        #expect(admitted.count == 300)
        for (index, start) in admitted.enumerated() {
            #expect(admitted[index...].prefix { $0.timeIntervalSince(start) < window - 1e-6 }.count <= capacity)
        }
    }
}
