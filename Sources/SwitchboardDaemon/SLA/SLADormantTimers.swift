import Foundation
import SwitchboardCore

/// The SLAs a rebuild read that nothing has touched since, packed: each ticket's timer actor is made
/// from its entry the first time the ticket needs one (a deadline comes, the customer writes, an
/// agent replies, the status changes), so a restart with a million open tickets builds a million
/// small records, not a million actors, and the timers the next minutes need are actors as before.
///
/// An entry is 24 bytes and a clock 40 (an `SLATimer` actor with its state machine is about 450), in
/// two flat arrays in ascending ticket order, found by binary search. A taken entry is marked, not
/// removed; the arrays are packed again once most entries are taken. Times are kept as `Date` keeps
/// them (seconds since 2001), so a timer made from an entry computes exactly the deadlines the
/// rebuild scheduled for it.
struct SLADormantTimers {
    private struct Entry {
        var ticketID: Int64
        /// When the timer's clocks started (the earliest clock's start): `SLATimer.startedAt`.
        var startedAt: Double
        var firstClock: Int32
        var clockCount: UInt8
        var flags: UInt8
        var version: UInt16
    }

    private struct Clock {
        var target: Double
        var startedAt: Double
        var accumulated: Double
        /// NaN while paused.
        var runningSince: Double
        var kind: UInt8
        var flags: UInt8
    }

    private static let awaitingCustomer: UInt8 = 1, pending: UInt8 = 2, taken: UInt8 = 4
    private static let warned: UInt8 = 1, breached: UInt8 = 2

    private var entries: [Entry] = []
    private var clocks: [Clock] = []
    /// The policy versions entries run under, by position (`Entry.version`).
    private var versions: [SLAPolicyVersion] = []
    private var versionPositions: [Int64: UInt16] = [:]
    /// Entries not taken yet.
    private(set) var count = 0

    /// What a timer actor is made from.
    struct Timer {
        var version: SLAPolicyVersion
        var startedAt: Date
        var snapshot: SLAStateMachine.Snapshot
    }

    /// Adds a ticket's SLA; false (nothing added) when it does not come after every ticket here or
    /// its policy versions exceed what an entry can name: the caller makes its actor at once.
    mutating func append(_ ticketID: Int64, version: SLAPolicyVersion, startedAt: Date, snapshot: SLAStateMachine.Snapshot) -> Bool {
        guard entries.last.map({ $0.ticketID < ticketID }) ?? true, snapshot.clocks.count <= Int(UInt8.max),
              clocks.count + snapshot.clocks.count <= Int(Int32.max), let position = position(of: version) else { return false }
        var flags: UInt8 = 0
        if snapshot.awaitingCustomer { flags |= Self.awaitingCustomer }
        if snapshot.pending { flags |= Self.pending }
        entries.append(Entry(ticketID: ticketID, startedAt: startedAt.timeIntervalSinceReferenceDate, firstClock: Int32(clocks.count),
                             clockCount: UInt8(snapshot.clocks.count), flags: flags, version: position))
        for clock in snapshot.clocks {
            clocks.append(Clock(target: clock.target, startedAt: clock.startedAt.timeIntervalSinceReferenceDate, accumulated: clock.accumulated,
                                runningSince: clock.runningSince?.timeIntervalSinceReferenceDate ?? .nan, kind: Self.code(clock.kind),
                                flags: (clock.warned ? Self.warned : 0) | (clock.breached ? Self.breached : 0)))
        }
        count += 1
        return true
    }

    /// The ticket's stored timer, left in place (inspection).
    func peek(_ ticketID: Int64) -> Timer? {
        index(of: ticketID).map(timer(at:))
    }

    /// The ticket's stored timer, taken out: from now on its actor holds it.
    mutating func take(_ ticketID: Int64) -> Timer? {
        guard let index = index(of: ticketID) else { return nil }
        let found = timer(at: index)
        entries[index].flags |= Self.taken
        count -= 1
        if entries.count >= 1024, count * 2 < entries.count { pack() }
        return found
    }

    mutating func removeAll() {
        self = SLADormantTimers()
    }

    private func index(of ticketID: Int64) -> Int? {
        var low = 0, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].ticketID < ticketID { low = middle + 1 } else { high = middle }
        }
        guard low < entries.count, entries[low].ticketID == ticketID, entries[low].flags & Self.taken == 0 else { return nil }
        return low
    }

    private func timer(at index: Int) -> Timer {
        let entry = entries[index]
        let stored = (0..<Int(entry.clockCount)).map { offset -> SLAStateMachine.Clock in
            let clock = clocks[Int(entry.firstClock) + offset]
            return SLAStateMachine.Clock(kind: Self.kind(clock.kind), target: clock.target, startedAt: Date(timeIntervalSinceReferenceDate: clock.startedAt),
                                         accumulated: clock.accumulated,
                                         runningSince: clock.runningSince.isNaN ? nil : Date(timeIntervalSinceReferenceDate: clock.runningSince),
                                         warned: clock.flags & Self.warned != 0, breached: clock.flags & Self.breached != 0)
        }
        return Timer(version: versions[Int(entry.version)], startedAt: Date(timeIntervalSinceReferenceDate: entry.startedAt),
                     snapshot: .init(clocks: stored, awaitingCustomer: entry.flags & Self.awaitingCustomer != 0, pending: entry.flags & Self.pending != 0))
    }

    private mutating func position(of version: SLAPolicyVersion) -> UInt16? {
        if let known = versionPositions[version.id] { return known }
        guard versions.count < Int(UInt16.max) else { return nil }
        let position = UInt16(versions.count)
        versions.append(version)
        versionPositions[version.id] = position
        return position
    }

    /// Drops taken entries and their clocks.
    private mutating func pack() {
        var keptEntries: [Entry] = [], keptClocks: [Clock] = []
        keptEntries.reserveCapacity(count)
        for var entry in entries where entry.flags & Self.taken == 0 {
            let first = Int(entry.firstClock)
            entry.firstClock = Int32(keptClocks.count)
            keptClocks.append(contentsOf: clocks[first..<(first + Int(entry.clockCount))])
            keptEntries.append(entry)
        }
        entries = keptEntries
        clocks = keptClocks
    }

    private static func code(_ kind: SLAClockKind) -> UInt8 {
        switch kind {
        case .firstResponse: 0
        case .nextResponse: 1
        case .resolution: 2
        }
    }

    private static func kind(_ code: UInt8) -> SLAClockKind {
        switch code {
        case 0: .firstResponse
        case 1: .nextResponse
        default: .resolution
        }
    }
}
