import Foundation
import JSON
import Postgres
import Synchronization
import Testing
import TestSupport
import WhatsApp

/// Issue #21's standby daemon: two real `switchboardd` processes on one embedded PostgreSQL cluster
/// and the Graph API stand-in. One leads, the other stands by, takes webhooks and passes the rest
/// on; the leader is killed (or paused), the standby takes over, and nothing is lost, repeated or
/// done twice.
@Suite("Two daemons on one database: one leads, the standby takes over", .serialized)
struct LeaderFailoverEndToEndTests {
    static let mainLine = "106540352242922"
    static let helpLine = AutomationEndToEndTests.helpLine

    /// The stand-in, one cluster outside both daemons (a killed daemon takes no database with it),
    /// and a configuration per node: its own HTTP port, control socket and state; the lease short.
    struct Cluster {
        let stage: MediaStage
        let database: EmbeddedPostgres
        let ports: [String: Int]

        static func start(_ label: String) async throws -> Cluster {
            let ports = ["a": try FreePort.next(), "b": try FreePort.next()]
            // The stand-in tells whichever instance answers that a send went out, as Meta does.
            let stage = try await MediaStage.start(label, standInArguments: ports.values.sorted().flatMap { ["--status-webhook", "http://127.0.0.1:\($0)/webhooks/whatsapp"] }
                                                   + ["--app-secret", ExampleDaemon.repository.appendingPathComponent("dev/whatsapp-app-secret").path])
            let database = EmbeddedPostgres(configuration: TestDatabase.fastSettings(directory: stage.directory + "/pg"), logger: TestDatabase.quietLogger)
            try await database.start()
            return Cluster(stage: stage, database: database, ports: ports)
        }

        func directory(_ node: String) -> String { stage.directory + "/" + node }
        func socket(_ node: String) -> String { directory(node) + "/control.sock" }

        func configuration(_ node: String) throws -> String {
            try FileManager.default.createDirectory(atPath: directory(node), withIntermediateDirectories: true)
            let port = ports[node] ?? 0
            return try ExampleDaemon.writeConfiguration(in: directory(node)) { config in
                var whatsapp = config["whatsapp"] as? [String: Any] ?? [:]
                whatsapp["accessToken"] = ["file": ExampleDaemon.repository.appendingPathComponent("dev/graph-access-token").path]
                whatsapp["graphAPI"] = ["baseURL": "http://127.0.0.1:\(stage.graphPort)", "version": "v24.0", "timeoutSeconds": 10]
                config["whatsapp"] = whatsapp
                config["http"] = ["host": "127.0.0.1", "port": port]
                // A lease of 4 s renewed every second: a leader whose renewals stall for 3 s (a
                // saturated test machine) is taken over; with 2 s and 0.5 s, 1.5 s was enough, and the
                // standby would lead before the test's kill.
                config["database"] = ["url": database.connectionString(), "acquireTimeoutSeconds": 4, "connectTimeoutSeconds": 4]
                config["cluster"] = ["node": node, "advertiseURL": "http://127.0.0.1:\(port)", "leaseSeconds": 4, "renewSeconds": 1]
                // The demo policy's first response falls due in 2.4 s: within a takeover's gap (at
                // least the lease less one renewal, 3 s).
                var sla = config["sla"] as? [String: Any] ?? [:]
                var policies = sla["policies"] as? [[String: Any]] ?? []
                policies[0]["firstResponseMinutes"] = 0.04
                sla["policies"] = policies
                config["sla"] = sla
            }
        }

        func start(_ node: String) async throws -> ExampleDaemon.Started {
            let run = directory(node) + "/run-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
            return try await ExampleDaemon.start(configPath: try configuration(node), directory: run)
        }

        func status(_ node: String, _ started: ExampleDaemon.Started) async throws -> String {
            try await runCommand(started.switchboardctl, ["status", "--socket", socket(node)]).output
        }

        /// Polls `node`'s status until it says it leads; nil if it never does (bounded, generous).
        func waitUntilLeading(_ node: String, _ started: ExampleDaemon.Started) async throws -> String? {
            for _ in 0..<600 {
                let status = try await status(node, started)
                if status.contains("leader: this instance (\(node))") { return status }
                try await Task.sleep(for: .milliseconds(50))
            }
            return nil
        }

        func connect() async throws -> PostgresConnection {
            try await PostgresConnection.connect(.init(connectionString: database.connectionString()))
        }

        /// The stand-in at once (a task could be cut short by the end of the test process), then the
        /// database, then the files.
        func stop() {
            kill(stage.standIn.processIdentifier, SIGKILL)
            let stage = self.stage, database = self.database
            Task {
                await database.stop()
                stage.stop()
            }
        }
    }

    static func post(_ body: [UInt8], to port: Int) async -> Int {
        let signer: WebhookSignature
        do { signer = WebhookSignature(appSecret: try ExampleDaemon.appSecret()) } catch { return 0 }
        return (try? await httpRequest(port: port, method: "POST", path: "/webhooks/whatsapp",
                                       headers: ["X-Hub-Signature-256": signer.headerValue(for: body), "Content-Type": "application/json"],
                                       body: body).status) ?? 0
    }

    /// The end of a log, or, after a crash, its report's beginning (what failed and where).
    static func tail(_ log: String) -> String {
        for marker in ["Fatal error", "Program crashed", "💣"] {
            if let range = log.range(of: marker) {
                let start = log.index(range.lowerBound, offsetBy: -3000, limitedBy: log.startIndex) ?? log.startIndex
                return String(log[start...].prefix(6000))
            }
        }
        return String(log.suffix(6000))
    }

    /// The stand-in's sends, as (recipient, body) pairs.
    static func sends(_ cluster: Cluster) -> [String] {
        cluster.stage.standInOutput.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("send "), let to = line.range(of: " to ") else { return nil }
            // "send <wamid> to <recipient>: <body>": the wamid differs per send, the rest is what was sent.
            return String(line[to.upperBound...])
        }
    }

    @Test func theStandbyServesAndPassesCallsOnThenLeadsWhenTheLeaderIsKilledAndNothingIsLostOrDoneTwice() async throws {
        let cluster = try await Cluster.start("leader-failover")
        defer { cluster.stop() }
        let a = try await cluster.start("a")
        #expect(try await cluster.waitUntilLeading("a", a) != nil, "log:\n\(a.process.log.suffix(3000))")
        let b = try await cluster.start("b")

        // The standby says so, is ready (it takes webhooks), and passes control and API calls on.
        let standing = try await cluster.status("b", b)
        #expect(standing.contains("STANDBY: this instance (b)") && standing.contains("leader, a (http://127.0.0.1:\(a.port))"), "\(standing)")
        #expect(try await httpRequest(port: b.port, method: "GET", path: "/readyz").status == 200)
        let metricsA = try await httpRequest(port: a.port, method: "GET", path: "/metrics").body
        let metricsB = try await httpRequest(port: b.port, method: "GET", path: "/metrics").body
        #expect(metricsA.contains("\nswitchboard_leader 1") && metricsB.contains("\nswitchboard_leader 0"))
        let issued = try await runCommand(b.switchboardctl, ["issue-token", "ben", "--socket", cluster.socket("b")])
        #expect(issued.status == 0, "issue-token on the standby: \(issued.output)")
        let token = try #require(issued.output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("sbt_") }.map(String.init), "\(issued.output)")
        let viaStandby = try await httpRequest(port: b.port, method: "GET", path: "/api/v1/tickets?assignee=me", headers: ["Authorization": "Bearer \(token)"])
        #expect(viaStandby.status == 200, "the API through the standby: \(viaStandby.body)")
        // The leader runs a passed-on control call only when the lease's key signed it: a forged or
        // unsigned one is refused and does nothing.
        let call = Array(JSONWriter.write(["call": ["method": "io.switchboard.Control.SetPresence", "parameters": ["agent": "ana", "presence": "away"]],
                                           "peer": ["pid": 1, "uid": 0, "gid": 0, "user": "root", "groups": ["root"]],
                                           "at": .number(Date().timeIntervalSince1970), "via": "b"]).utf8)
        let unsigned = try await httpExchange(port: a.port, method: "POST", path: "/cluster/v1/control", headers: ["Content-Type": "application/json"], body: call)
        let forgedCall = try await httpExchange(port: a.port, method: "POST", path: "/cluster/v1/control",
                                            headers: ["Content-Type": "application/json",
                                                      "X-Switchboard-Signature": WebhookSignature(appSecret: "not the key").headerValue(for: call)], body: call)
        #expect(unsigned.status == 403 && forgedCall.status == 403, "\(unsigned.status) \(forgedCall.status)")
        let audited = try await cluster.connect()
        #expect(try await audited.query("SELECT count(*)::int FROM switchboard.control_audit WHERE method LIKE '%SetPresence'").first?.decode(0, as: Int.self) == 0)
        await audited.close()
        // A passed-on call to an instance that does not lead is refused too (it would not be audited there).
        #expect(try await httpExchange(port: b.port, method: "POST", path: "/cluster/v1/control", headers: ["Content-Type": "application/json"], body: call).status == 503)
        // A signed-in agent's browser on the standby: the leader sees the Host the browser used, so its
        // same-origin check passes for this page's own origin and still refuses another site's.
        let password = "a password for Ana's shift"
        #expect(try await runCommand(b.switchboardctl, ["set-password", "ana", "--socket", cluster.socket("b")], input: password + "\n").status == 0)
        let signedIn = try await httpExchange(port: b.port, method: "POST", path: "/auth/sign-in", headers: ["Content-Type": "application/json"],
                                              body: Array(JSONWriter.write(["handle": "ana", "password": .string(password)]).utf8))
        let cookie = try #require(signedIn.headers["set-cookie"]?.split(separator: ";").first.map(String.init), "sign-in on the standby: \(signedIn.status)")
        let away = Array(JSONWriter.write(["presence": "away"]).utf8)
        let forged = try await httpExchange(port: b.port, method: "PUT", path: "/api/v1/me/presence",
                                            headers: ["Cookie": cookie, "Origin": "http://evil.example", "Content-Type": "application/json"], body: away)
        #expect(forged.status == 403)
        let own = try await httpExchange(port: b.port, method: "PUT", path: "/api/v1/me/presence",
                                         headers: ["Cookie": cookie, "Origin": "http://127.0.0.1:\(b.port)", "Content-Type": "application/json"], body: away)
        #expect(own.status == 200, "\(String(decoding: own.body, as: UTF8.self))")
        let ana = try await httpExchange(port: a.port, path: "/api/v1/me", headers: ["Cookie": cookie])
        #expect((try? JSONParser.parse(ana.body))?["presence"]?.string == "away", "the leader set Ana away: \(String(decoding: ana.body, as: UTF8.self))")
        let online = Array(JSONWriter.write(["presence": "online"]).utf8)
        #expect(try await httpExchange(port: b.port, method: "PUT", path: "/api/v1/me/presence",
                                       headers: ["Cookie": cookie, "Origin": "http://127.0.0.1:\(b.port)", "Content-Type": "application/json"], body: online).status == 200)

        // Load on both instances: the main line's tickets are routed, the help line's get a menu.
        let answered = Mutex<[(wamid: String, customer: String, line: String, status: Int)]>([])
        let takenOver = Atomic<Bool>(false)
        let load = Task {
            for index in 1...2000 {
                let afterTakeover = answered.withLock { list in list.filter { $0.status == 200 && $0.wamid.hasSuffix("-after") }.count }
                if afterTakeover >= 30 || Task.isCancelled { break }
                let line = index % 2 == 0 ? Self.mainLine : Self.helpLine
                let customer = "44770095\(String(format: "%04d", index))"
                let wamid = "wamid.LEAD-\(index)" + (takenOver.load(ordering: .relaxed) ? "-after" : "")
                let port = index % 3 == 0 ? b.port : a.port
                let status = await Self.post(AutomationEndToEndTests.webhook(line: line, customer: customer, name: "Load \(index)", wamid: wamid,
                                                                             text: "question \(index)"), to: port)
                answered.withLock { $0.append((wamid, customer, line, status)) }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        for _ in 0..<1200 where answered.withLock({ $0.filter { $0.status == 200 }.count }) < 30 { try await Task.sleep(for: .milliseconds(25)) }
        // A ticket whose first response falls due while nobody leads.
        let demoCustomer = "447700959999"
        #expect(await Self.post(AutomationEndToEndTests.webhook(line: Self.mainLine, customer: demoCustomer, name: "Demo", wamid: "wamid.LEAD-DEMO",
                                                                text: "sla demo please"), to: a.port) == 200)
        a.process.signal(SIGKILL)
        let killed = ContinuousClock.now
        let leading = try await cluster.waitUntilLeading("b", b)
        let takeover = killed.duration(to: .now)
        takenOver.store(true, ordering: .relaxed)
        #expect(leading != nil, "the standby never led; log:\n\(b.process.log.suffix(3000))")
        _ = await load.value
        print("takeover after kill -9: \(takeover) (lease 4 s, renewed every 1 s)")

        let all = answered.withLock { $0 }
        let acknowledged = all.filter { $0.status == 200 }
        #expect(Set(all.map(\.status)).isSubset(of: [0, 200, 503]), "a killed instance refuses connections (0); nothing else but 200 or 503: \(Set(all.map(\.status)))")
        #expect(acknowledged.count(where: { $0.wamid.hasSuffix("-after") }) >= 30)

        let database = try await cluster.connect()
        // Every acknowledged message is stored, once.
        let stored = try await database.query("SELECT wamid, count(*)::int FROM switchboard.messages WHERE wamid = ANY($1) GROUP BY wamid",
                                              [acknowledged.map(\.wamid)]).map { (try $0.decode(0, as: String.self), try $0.decode(1, as: Int.self)) }
        #expect(stored.count == acknowledged.count, "lost: \(Set(acknowledged.map(\.wamid)).subtracting(stored.map(\.0)).sorted().prefix(10))")
        #expect(stored.allSatisfy { $0.1 == 1 }, "stored twice: \(stored.filter { $0.1 > 1 }.prefix(5))")

        // Every main-line ticket is routed by one leader or the other: in a queue or with an agent.
        var unrouted = -1
        for _ in 0..<600 {
            unrouted = try await database.query("""
                SELECT count(*)::int FROM switchboard.tickets t WHERE t.business_number = $1 AND t.queue IS NULL
                """, [Self.mainLine]).first?.decode(0, as: Int.self) ?? -1
            if unrouted == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(unrouted == 0, "main-line tickets never routed; log of b:\n\(b.process.log.suffix(3000))")
        // No ticket assigned twice, no agent over capacity.
        let twice = try await database.query("""
            SELECT ticket_id FROM switchboard.ticket_events WHERE kind = 'assigned' GROUP BY ticket_id HAVING count(*) > 1
            """).count
        #expect(twice == 0, "tickets assigned twice: \(twice)")
        let load2 = try await database.query("""
            SELECT a.id, a.capacity, count(t.id)::int FROM switchboard.agents a
              LEFT JOIN switchboard.tickets t ON t.assignee = a.id AND t.status <> 'resolved' GROUP BY a.id, a.capacity
            """).map { (try $0.decode(0, as: String.self), try $0.decode(1, as: Int.self), try $0.decode(2, as: Int.self)) }
        #expect(load2.allSatisfy { $0.2 <= $0.1 }, "over capacity: \(load2)")
        #expect(load2.contains { $0.2 > 0 }, "some tickets were assigned: \(load2)")

        // Every help-line customer acknowledged got its menu; nothing was sent twice.
        let helpCustomers = Set(acknowledged.filter { $0.line == Self.helpLine }.map(\.customer))
        var sends: [String] = []
        for _ in 0..<600 {
            sends = Self.sends(cluster)
            if helpCustomers.allSatisfy({ customer in sends.contains { $0.hasPrefix(customer + ":") } }) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let unanswered = helpCustomers.filter { customer in !sends.contains { $0.hasPrefix(customer + ":") } }
        #expect(unanswered.isEmpty, "no menu for \(unanswered.sorted().prefix(5)); stand-in:\n\(cluster.stage.standInOutput.suffix(2000))")
        // Once no send is left half done (a send the kill cut short waits for its status webhook, or
        // its grace, then is confirmed or sent again), nothing was sent twice.
        var unresolved = -1
        for _ in 0..<1200 {
            unresolved = try await database.query("SELECT count(*)::int FROM switchboard.outbox WHERE state = 'sending'").first?.decode(0, as: Int.self) ?? -1
            if unresolved == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(unresolved == 0, "sends left half done")
        sends = Self.sends(cluster)
        let repeated = Dictionary(grouping: sends, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(repeated.isEmpty, "sent twice: \(repeated.prefix(3))")

        // The first response that fell due while nobody led breached once.
        var breaches = 0
        for _ in 0..<600 {
            breaches = try await database.query("""
                SELECT count(*)::int FROM switchboard.ticket_events e JOIN switchboard.tickets t ON t.id = e.ticket_id
                  JOIN switchboard.customers c ON c.id = t.customer_id WHERE c.wa_id = $1 AND e.kind = 'sla_breach'
                """, [demoCustomer]).first?.decode(0, as: Int.self) ?? 0
            if breaches > 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(breaches == 1, "the demo ticket's breach fired \(breaches) times; log of b:\n\(b.process.log.suffix(3000))")
        await database.close()

        b.process.signal(SIGTERM)
        #expect(await b.process.waitForExit() == 0, "log:\n\(b.process.log.suffix(3000))")
    }

    @Test func aLeaderPausedWithSIGSTOPAndResumedAfterTheTakeoverChangesNothingAndStops() async throws {
        let cluster = try await Cluster.start("leader-fencing")
        defer { cluster.stop() }
        let a = try await cluster.start("a")
        #expect(try await cluster.waitUntilLeading("a", a) != nil)
        let b = try await cluster.start("b")

        // A ticket on the leader whose first response falls due while it is paused.
        let demoCustomer = "447700958888"
        #expect(await Self.post(AutomationEndToEndTests.webhook(line: Self.mainLine, customer: demoCustomer, name: "Demo", wamid: "wamid.FENCE-DEMO",
                                                                text: "sla demo please"), to: a.port) == 200)
        let database = try await cluster.connect()
        for _ in 0..<200 {
            let assigned = try await database.query("""
                SELECT count(*)::int FROM switchboard.tickets t JOIN switchboard.customers c ON c.id = t.customer_id WHERE c.wa_id = $1 AND t.assignee IS NOT NULL
                """, [demoCustomer]).first?.decode(0, as: Int.self) ?? 0
            if assigned == 1 { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        a.process.signal(SIGSTOP)
        #expect(try await cluster.waitUntilLeading("b", b) != nil, "log of b:\n\(b.process.log.suffix(3000))")

        func breaches() async throws -> Int {
            try await database.query("""
                SELECT count(*)::int FROM switchboard.ticket_events e JOIN switchboard.tickets t ON t.id = e.ticket_id
                  JOIN switchboard.customers c ON c.id = t.customer_id WHERE c.wa_id = $1 AND e.kind = 'sla_breach'
                """, [demoCustomer]).first?.decode(0, as: Int.self) ?? 0
        }
        for _ in 0..<600 where try await breaches() == 0 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try await breaches() == 1, "the new leader fired the breach that fell due; log of b:\n\(b.process.log.suffix(3000))")
        // The new leader routes what comes in meanwhile.
        #expect(await Self.post(AutomationEndToEndTests.webhook(line: Self.mainLine, customer: "447700958889", name: "During", wamid: "wamid.FENCE-DURING",
                                                                text: "hello"), to: b.port) == 200)

        // The former leader wakes up with its breach timer overdue and its lease gone: it changes nothing and stops.
        a.process.signal(SIGCONT)
        let exit = await a.process.waitForExit()
        #expect(exit != nil && exit != 0, "the former leader stopped with a failure (systemd starts it again as a standby): \(String(describing: exit))")
        #expect(a.process.log.contains("stepping down") || a.process.log.contains("SB001"), "log of a:\n\(a.process.log.suffix(3000))")
        #expect(try await breaches() == 1, "the breach fired once, not again by the former leader; log of a:\n\(a.process.log.suffix(4000))\nlog of b:\n\(b.process.log.suffix(2000))")
        let twice = try await database.query("SELECT ticket_id FROM switchboard.ticket_events WHERE kind = 'assigned' GROUP BY ticket_id HAVING count(*) > 1").count
        #expect(twice == 0)
        #expect(try await cluster.status("b", b).contains("leader: this instance (b)"))
        await database.close()
        b.process.signal(SIGTERM)
        #expect(await b.process.waitForExit() == 0, "log of b:\n\(Self.tail(b.process.log))")
    }
}
