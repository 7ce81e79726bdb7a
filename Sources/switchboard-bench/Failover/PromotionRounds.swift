import Foundation
import Glibc
import Postgres

/// Part 2: one daemon on a two-host URL over a primary and a synchronous streaming standby (as
/// `StreamingPair` sets them up); each round the primary stops (fast shutdown), the standby is
/// promoted, and a new standby of the new primary is made in the old primary's place, so that
/// the daemon's two hosts stay the same and every round is a real promotion.
struct PromotionRounds {
    let settings: FailoverSettings
    let rounds: Int

    static let wamidPrefix = "wamid.FOP"

    struct Round {
        /// Load clock (nanoseconds): the primary told to stop, stopped, the standby promoted, the
        /// first 200 answered after that.
        var stopping: Int64
        var stopped: Int64
        var promoted: Int64
        var answered: Int64
        /// Seconds the new standby took (pg_basebackup and start).
        var newStandby: Double
        var daemonRestarted: Bool
    }

    struct Result {
        var rounds: [Round] = []
        var attempts: [FailoverLoad.Attempt] = []
        var verdict = FailoverVerdict()
        var sends: SendTally
        var stepDowns: [String] = []
        var produced = (messages: 0, seconds: 0.0)
        /// "not sent: this instance may no longer lead" lines of the daemon's log.
        var notSentLines: [String] = []
        var unanswered: [String] = []
        var notYetHandled: [String] = []
        var settled = FailoverSettings.Settled()
        /// The daemon's log lines saying a batch of new tickets was routed without its menu.
        var triageSkipped = 0
        var exit = ""
        var minutes = 0.0

        var unexpectedStatuses: Int { attempts.filter { $0.status != 200 && $0.status != 503 }.count }
        var violations: Int { verdict.lost + verdict.duplicated + verdict.assignedWhileHeld + verdict.overCapacityNow + unexpectedStatuses + verdict.stuckSending.count }
    }

    /// The two places the servers take turns in; the daemon's URL names both.
    private final class Slot {
        let directory: String
        var server: EmbeddedPostgres

        init(directory: String, settings: [String: String]) {
            self.directory = directory
            server = EmbeddedPostgres(configuration: Self.configuration(directory, settings), logger: FailoverChecks.logger)
        }

        static func configuration(_ directory: String, _ settings: [String: String]) -> EmbeddedPostgres.Configuration {
            var configuration = EmbeddedPostgres.Configuration(directory: directory)
            configuration.settings = settings
            return configuration
        }

        /// A fresh server in this place (the directory emptied first).
        func renew(settings: [String: String]) {
            try? FileManager.default.removeItem(atPath: directory)
            server = EmbeddedPostgres(configuration: Self.configuration(directory, settings), logger: FailoverChecks.logger)
        }
    }

    func run() async throws -> Result {
        let directory = settings.directory + "/promotions"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        announce("")
        announce("part 2: \(rounds) PostgreSQL primary stops and standby promotions under one daemon")
        let graphPort = try freeLoopbackPort()
        let serverSettings = ["fsync": "off", "synchronous_commit": "on", "full_page_writes": "off", "max_connections": "300"]
        let slots = [Slot(directory: directory + "/x", settings: serverSettings), Slot(directory: directory + "/y", settings: serverSettings)]
        var daemon: FailoverDaemon?
        var standIn: GraphStandIn?
        do {
            try await slots[0].server.start()
            try await slots[1].server.startAsStandby(of: slots[0].server)
            try await Self.makeSynchronous(slots[0].server)
            let url = "host=\(slots[0].server.socketDirectory),\(slots[1].server.socketDirectory) port=5432,5432 user=switchboard dbname=switchboard "
                + "target_session_attrs=read-write connect_timeout=2"
            let started = try FailoverDaemon(node: "p", directory: directory + "/daemon", executable: settings.executable,
                                             settings: settings.daemonSettings(databaseURL: url, graphPort: graphPort))
            daemon = started
            let graph = try await GraphStandIn(directory: directory, label: "promotions", port: graphPort,
                                               statusWebhooks: ["http://127.0.0.1:\(started.port)/webhooks/whatsapp"],
                                               appSecretFile: started.directory + "/app-secret")
            standIn = graph
            let result = try await exercise(started, slots: slots, url: url, standIn: graph)
            await graph.stop()
            for slot in slots { await slot.server.stop() }
            return result
        } catch {
            if let daemon {
                await daemon.kill9()
                for line in daemon.logLines(containing: ["error", "critical", "warning"], limit: 12) { announce("  \(daemon.node): \(line)") }
            }
            await standIn?.stop()
            for slot in slots { await slot.server.stop() }
            throw error
        }
    }

    /// Commits wait for the standby from now on (only once it follows: a synchronous primary
    /// alone would wait forever on every commit).
    private static func makeSynchronous(_ primary: EmbeddedPostgres) async throws {
        let admin = try await PostgresConnection.connect(.init(connectionString: primary.connectionString()), logger: FailoverChecks.logger)
        do {
            try await admin.query("ALTER SYSTEM SET synchronous_standby_names = '*'")
            try await admin.query("SELECT pg_reload_conf()")
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
    }

    private func exercise(_ daemon: FailoverDaemon, slots: [Slot], url: String, standIn: GraphStandIn) async throws -> Result {
        let began = ContinuousClock.now
        let ready = try await daemon.start()
        announce("daemon ready in \(format(ready.seconds, 2)) s on \(url)")
        let tokens = try await settings.issueTokens(through: daemon)
        let resolver = SoakResolver(port: daemon.port, tokens: tokens)
        let load = FailoverLoad(ports: [daemon.port], rate: settings.rate, prefix: String(Self.wamidPrefix.dropFirst("wamid.".count)),
                                customerPrefix: "4472", helpLineShare: settings.helpLineShare, newCustomerShare: settings.newCustomerShare,
                                appSecret: FailoverDaemon.appSecret, seed: settings.seed &+ 1)
        resolver.start()
        // As many connections as part 1 opens to its two daemons together.
        load.start(connectionsPerTarget: settings.connections * 2)
        var result = Result(sends: SendTally([]))
        var primary = 0
        do {
            try await Task.sleep(for: .milliseconds(Int64(settings.steady * 1000)))
            for round in 1...rounds {
                let standby = 1 - primary
                let stopping = load.now()
                await slots[primary].server.stop()
                let stopped = load.now()
                try await slots[standby].server.promote()
                let promoted = load.now()
                // Webhooks answered 200 again: the first 200 answered after the promotion.
                var answered: Int64?
                var restarted = false
                let deadline = ContinuousClock.now + .seconds(120)
                while answered == nil && ContinuousClock.now < deadline {
                    answered = load.firstAcknowledgement(answeredAfter: promoted)
                    if answered == nil && daemon.hasExited {
                        // The lease ran out while the database was away: the daemon stepped down and
                        // exited; systemd would start it again.
                        result.stepDowns.append("round \(round): the daemon exited (\(daemon.exitDescription ?? "?")): "
                                                + daemon.logLines(containing: ["stepping down", "critical"], limit: 2).joined(separator: " | "))
                        try await daemon.start()
                        restarted = true
                    }
                    if answered == nil { try await Task.sleep(for: .milliseconds(20)) }
                }
                guard let answered else { throw FailoverFailure("round \(round): no webhook answered 200 within 120 s of the promotion; see \(daemon.logPath)") }
                // The old primary's place becomes the new primary's standby.
                let making = ContinuousClock.now
                slots[primary].renew(settings: slots[primary].server.configuration.settings)
                try await slots[primary].server.startAsStandby(of: slots[standby].server)
                try await Self.makeSynchronous(slots[standby].server)
                let newStandby = (ContinuousClock.now - making).seconds
                let entry = Round(stopping: stopping, stopped: stopped, promoted: promoted, answered: answered, newStandby: newStandby, daemonRestarted: restarted)
                result.rounds.append(entry)
                let window = WindowCounts.of(load.attempts, from: stopping, to: answered)
                announce("promotion \(round)/\(rounds): primary stopped in \(format(Double(stopped - stopping) / 1e9, 2)) s, promoted in "
                         + "\(format(Double(promoted - stopped) / 1e9, 2)) s, 200 again \(format(Double(answered - promoted) / 1e9, 2)) s after the promotion; "
                         + "webhooks meanwhile: \(window.ok)/\(window.sent) acknowledged, \(window.unavailable) × 503; new standby in \(format(newStandby, 1)) s"
                         + (restarted ? "; THE DAEMON EXITED AND WAS STARTED AGAIN" : ""))
                primary = standby
                try await Task.sleep(for: .milliseconds(Int64(settings.steady * 1000)))
            }
            try await settings.quiesce(load)
            result.produced = load.produced
            resolver.stop()
            let current = slots[primary].server.connectionString()
            result.settled = try await settings.settleAndDrain(current)
            try await Task.sleep(for: .milliseconds(500))
            load.stop()
            result.attempts = load.attempts
            let acknowledged = load.acknowledged
            result.verdict = try await FailoverChecks.verify(current, wamidPrefix: Self.wamidPrefix, acknowledged: acknowledged.map(\.wamid))
            result.sends = SendTally(standIn.sends())
            (result.unanswered, result.notYetHandled) = try await FailoverChecks.unanswered(acknowledged, sends: result.sends, connectionString: current)
            result.triageSkipped = daemon.logLines(containing: ["triage skipped"], limit: 10_000).count
            result.notSentLines = daemon.logLines(containing: ["may no longer lead"], limit: 20)
        } catch {
            load.stop()
            resolver.stop()
            throw error
        }
        let status = await daemon.stop()
        result.exit = "\(status)"
        result.minutes = (ContinuousClock.now - began).seconds / 60
        return result
    }
}

extension PromotionRounds.Result {
    func print(rate: Int) {
        announce("")
        announce("Part 2: the PostgreSQL primary stopped (fast shutdown) and its synchronous standby promoted \(rounds.count) times, one daemon, \(format(minutes, 1)) min")
        let back = SecondsSample(values: rounds.map { Double($0.answered - $0.promoted) / 1e9 })
        let outage = SecondsSample(values: rounds.map { Double($0.answered - $0.stopping) / 1e9 })
        let promote = SecondsSample(values: rounds.map { Double($0.promoted - $0.stopped) / 1e9 })
        var rows = [["figure", "measured", "goal / baseline"]]
        rows.append(["promotion → webhooks answered 200 again: p50", "\(format(back.percentile(50), 2)) s",
                     "baseline: the pool's reconnect back-off, ≤ 2.4 s"])
        rows.append(["  max (\(rounds.count) rounds)", "\(format(back.max, 2)) s", "goal ≤ 10 s"])
        rows.append(["primary stop → 200 again (whole outage): p50 / max", "\(format(outage.percentile(50), 2)) / \(format(outage.max, 2)) s", ""])
        rows.append(["  of which pg_promote: p50 / max", "\(format(promote.percentile(50), 2)) / \(format(promote.max, 2)) s",
                     "baseline: the database's own part"])
        announce(table(rows))
        var all = WindowCounts()
        for attempt in attempts { all.add(attempt.status) }
        var latencies = LatencySamples()
        latencies.append(contentsOf: attempts.filter { $0.status == 200 }.map(\.latency))
        announce("load: \(produced.messages) new messages in \(format(produced.seconds, 1)) s = \(format(Double(produced.messages) / Swift.max(produced.seconds, 0.001), 0))/s (asked: \(rate)/s); "
                 + "acknowledged in p50 \(format(latencies.percentile(50), 1)) ms, p99 \(format(latencies.percentile(99), 1)) ms")
        var outages = WindowCounts()
        for round in rounds { outages.add(WindowCounts.of(attempts, from: round.stopping, to: round.answered)) }
        announce("webhooks, primary stop → 200 again: \(outages.summary)")
        announce("webhooks, whole part: \(all.summary)")
        announce(settled.line)
        announce("")
        var checks = [["check", "count", "must be"]]
        checks.append(["answers other than 200 or 503 (refused connections included)", "\(unexpectedStatuses)", "0"])
        checks.append(["acknowledged (200) wamids not on the final primary", "\(verdict.lost)", "0"])
        checks.append(["wamids stored more than once", "\(verdict.duplicated)", "0"])
        checks.append(["tickets assigned while their assignment still held", "\(verdict.assignedWhileHeld)", "0"])
        checks.append(["agents over capacity at the end", "\(verdict.overCapacityNow)", "0"])
        checks.append(["identical sends to the stand-in (informational)", "\(sends.repeated) of \(sends.sends)", ""])
        checks.append(["daemon exits (lease ran out while the database was away)", "\(stepDowns.count)", "informational"])
        checks.append(["acknowledged help-line customers taken up, never answered", "\(unanswered.count)", "informational"])
        checks.append(["  not taken up yet", "\(notYetHandled.count)", "informational"])
        checks.append(["  'triage skipped' in the daemon's log (routed without a menu)", "\(triageSkipped)", ""])
        checks.append(["(acknowledged messages / tickets / waiting in a queue at the end)", "\(verdict.acknowledged) / \(verdict.tickets) / \(verdict.waiting)", ""])
        checks.append(["(assignments)", "\(verdict.assignments)", ""])
        checks.append(["outbox entries left 'sending' for more than 30 s (never sent)", "\(verdict.stuckSending.count)", "0"])
        checks.append(["(outbox entries failed / unfinished at the end)", "\(verdict.outboxFailed) / \(verdict.outboxUnfinished)", ""])
        announce(table(checks))
        for example in verdict.lostExamples { announce("  lost: \(example)") }
        for example in sends.examples { announce("  sent again: \(example)") }
        for entry in verdict.stuckSending.prefix(5) { announce("  left sending: \(entry)") }
        for line in notSentLines.prefix(5) { announce("  \(line.prefix(300))") }
        for line in stepDowns { announce("  \(line.prefix(500))") }
        announce("daemon stopped with exit status \(exit)")
    }
}
