import Foundation
import Logging
import Postgres
import Synchronization

/// What the soak asserts, read from the database and the daemon: each count must be 0.
struct SoakVerdict {
    var acknowledgedNotStored = 0
    var storedTwice = 0
    var assignedTwice = 0
    var overCapacityNow = 0
    var overCapacitySamples = 0
    var samples = 0
    var memoryDisagrees = 0
    var waitingWhileRoom = 0
    var acknowledged = 0
    var tickets = 0
    var reopened = 0
    var details: [String] = []

    var failures: Int {
        acknowledgedNotStored + storedTwice + assignedTwice + overCapacityNow + overCapacitySamples + memoryDisagrees + waitingWhileRoom
    }
}

enum SoakChecks {
    static let logger = Logger(label: "soak")

    /// Waits until routing has placed every ticket and nothing changes for a while.
    static func settle(_ daemon: SoakDaemon) async throws {
        var last = ""
        var stableSince = ContinuousClock.now
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            do {
                let connection = try await PostgresConnection.connect(.init(connectionString: daemon.connectionString), logger: logger)
                let row = try await connection.query("""
                    SELECT count(*) FILTER (WHERE queue IS NULL AND status <> 'resolved'), count(*) FILTER (WHERE assignee IS NOT NULL AND status <> 'resolved'),
                           (SELECT max(id) FROM switchboard.ticket_events)
                    FROM switchboard.tickets
                    """).first
                await connection.close()
                let unrouted = try row?.decode(0, as: Int.self) ?? 1
                let now = "\(unrouted) \(try row?.decode(1, as: Int.self) ?? 0) \(try row?.decode(2, as: Int64?.self) ?? 0)"
                if now != last || unrouted > 0 {
                    last = now
                    stableSince = .now
                } else if ContinuousClock.now - stableSince > .seconds(2) {
                    return
                }
            } catch {
                stableSince = .now
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw SoakFailure("routing did not settle within 120 s")
    }

    static func verify(_ daemon: SoakDaemon, acknowledged: Set<String>, capacity: Int, sampler: SoakSampler) async throws -> SoakVerdict {
        var verdict = SoakVerdict()
        verdict.acknowledged = acknowledged.count
        let connection = try await PostgresConnection.connect(.init(connectionString: daemon.connectionString), logger: logger)
        do {
            try await check(connection, daemon: daemon, acknowledged: acknowledged, capacity: capacity, into: &verdict)
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        let sampled = sampler.totals
        verdict.samples = sampled.samples
        verdict.overCapacitySamples = sampled.overCapacity
        return verdict
    }

    private static func check(_ connection: PostgresConnection, daemon: SoakDaemon, acknowledged: Set<String>, capacity: Int,
                              into verdict: inout SoakVerdict) async throws {

        // Acknowledged messages stored once.
        var stored: [String: Int] = [:]
        for row in try await connection.query("SELECT wamid, count(*) FROM switchboard.messages WHERE wamid LIKE 'wamid.SOAK-%' GROUP BY wamid") {
            stored[try row.decode(0, as: String.self)] = try row.decode(1, as: Int.self)
        }
        verdict.acknowledgedNotStored = acknowledged.filter { stored[$0] == nil }.count
        verdict.storedTwice = stored.values.filter { $0 > 1 }.count

        // No ticket assigned twice without being taken back (unassigned, missed, reopened) in between.
        var holding: [Int64: Bool] = [:]
        for row in try await connection.query("""
            SELECT ticket_id, kind FROM switchboard.ticket_events WHERE kind IN ('assigned', 'unassigned', 'acceptance_missed', 'reopened') ORDER BY id
            """) {
            let ticket: Int64 = try row.decode(0)
            if try row.decode(1, as: String.self) == "assigned" {
                if holding[ticket] == true { verdict.assignedTwice += 1 }
                holding[ticket] = true
            } else {
                holding[ticket] = false
            }
        }
        verdict.reopened = try await connection.query("SELECT count(*) FROM switchboard.ticket_events WHERE kind = 'reopened'").first?.decode(0, as: Int.self) ?? 0
        verdict.tickets = try await connection.query("SELECT count(*) FROM switchboard.tickets").first?.decode(0, as: Int.self) ?? 0

        // Loads: the database's, the daemon's memory (switchboardctl agents), capacity.
        var load: [String: Int] = [:]
        for row in try await connection.query("SELECT assignee, count(*) FROM switchboard.tickets WHERE assignee IS NOT NULL AND status <> 'resolved' GROUP BY 1") {
            load[try row.decode(0, as: String.self)] = try row.decode(1, as: Int.self)
        }
        guard let agents = try await daemon.control(["agents"]) as? [String: Any], let list = agents["agents"] as? [[String: Any]] else {
            throw SoakFailure("switchboardctl agents --json answered something else")
        }
        var freeOnline = 0
        for agent in list {
            guard let id = agent["id"] as? String else { continue }
            let memory = agent["open_tickets"] as? Int ?? -1
            let database = load[id, default: 0]
            if memory != database {
                verdict.memoryDisagrees += 1
                verdict.details.append("\(id): memory \(memory), database \(database)")
            }
            if database > capacity { verdict.overCapacityNow += 1 }
            if agent["presence"] as? String == "online", agent["draining"] as? Bool != true, database < capacity { freeOnline += 1 }
        }
        let waiting = try await connection.query("""
            SELECT count(*) FROM switchboard.tickets WHERE queue = 'support' AND assignee IS NULL AND status <> 'resolved'
            """).first?.decode(0, as: Int.self) ?? 0
        if freeOnline > 0 {
            verdict.waitingWhileRoom = waiting
            if waiting > 0 { verdict.details.append("\(waiting) tickets wait while \(freeOnline) online agents have room") }
        }
    }
}

/// Samples, every 250 ms while it runs, whether any agent holds more tickets than their capacity.
final class SoakSampler: Sendable {
    private let totals_ = Mutex((samples: 0, overCapacity: 0))
    private let task = Mutex<Task<Void, Never>?>(nil)

    var totals: (samples: Int, overCapacity: Int) { totals_.withLock { $0 } }

    func start(connectionString: String, capacity: Int) {
        let task = Task {
            var connection: PostgresConnection?
            while !Task.isCancelled {
                do {
                    if connection == nil { connection = try await PostgresConnection.connect(.init(connectionString: connectionString), logger: SoakChecks.logger) }
                    if let rows = try await connection?.query("""
                        SELECT count(*) FROM (SELECT assignee FROM switchboard.tickets WHERE assignee IS NOT NULL AND status <> 'resolved'
                                              GROUP BY assignee HAVING count(*) > $1) AS over
                        """, [capacity]), let over = try rows.first?.decode(0, as: Int.self) {
                        totals_.withLock { $0.samples += 1; if over > 0 { $0.overCapacity += 1 } }
                    }
                } catch {
                    if let old = connection { await old.close() }
                    connection = nil
                }
                try? await Task.sleep(for: .milliseconds(250))
            }
            if let connection { await connection.close() }
        }
        self.task.withLock { $0 = task }
    }

    func stop() async {
        let task = self.task.withLock { $0 }
        task?.cancel()
        await task?.value
    }
}
