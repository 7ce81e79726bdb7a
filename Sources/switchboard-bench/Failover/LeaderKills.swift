import Foundation
import Glibc
import Postgres

/// Part 1: two daemons on one database; the leader killed with SIGKILL, the other taking over.
struct LeaderKills {
    let settings: FailoverSettings
    let kills: Int

    static let wamidPrefix = "wamid.FOL"

    /// One kill: moments on the load's clock (nanoseconds), which instance died, how long things took.
    struct Gap {
        var killedAt: Int64
        var tookOverAt: Int64
        var restartedAt: Int64
        var dead: Int
        var survivor: Int
        var takeover: Double
        var ready: Double
        var epoch: Int64?
    }

    struct Result {
        var gaps: [Gap] = []
        var attempts: [FailoverLoad.Attempt] = []
        var verdict = FailoverVerdict()
        var sampled = (samples: 0, overCapacity: 0, example: String?.none)
        var sends: SendTally
        /// Acknowledged help-line customers with no send: their ticket taken up by a leader, or not yet.
        var unanswered: [String] = []
        var notYetHandled: [String] = []
        var settled = FailoverSettings.Settled()
        /// Seconds from "leading" to "routing rebuilt" in each new leader's log.
        var routingRebuilt: [Double] = []
        var requeuedAfterKills = 0
        /// "not sent: this instance may no longer lead" lines of the daemons' logs.
        var notSentLines: [String] = []
        var requeueLines: [String] = []
        var epochProblems: [String] = []
        var standbyProblems: [String] = []
        var exits: [String] = []
        var minutes = 0.0
        var resolved = 0
        var produced = (messages: 0, seconds: 0.0)

        /// Counts that must be 0 and are not.
        var violations: Int {
            verdict.lost + verdict.duplicated + verdict.assignedWhileHeld + verdict.overCapacityNow + sampled.overCapacity + unanswered.count
                + epochProblems.count + standbyProblems.count + verdict.stuckSending.count
        }
    }

    func run() async throws -> Result {
        let directory = settings.directory + "/leaders"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        announce("part 1: \(kills) kills of the leader; lease \(format(settings.lease, 1)) s, renew \(format(settings.renew, 1)) s")
        var configuration = EmbeddedPostgres.Configuration(directory: directory + "/pg")
        configuration.settings = ["fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "300"]
        let database = EmbeddedPostgres(configuration: configuration, logger: FailoverChecks.logger)
        var daemons: [FailoverDaemon] = []
        // The stand-in tells whichever daemon answers that a send went out (Meta's `sent` status):
        // its port is chosen first, the daemons' next, then it starts knowing where they listen.
        let graphPort = try freeLoopbackPort()
        let url = database.connectionString() + " connect_timeout=2"
        for node in ["a", "b"] {
            daemons.append(try FailoverDaemon(node: node, directory: directory + "/" + node, executable: settings.executable,
                                              settings: settings.daemonSettings(databaseURL: url, graphPort: graphPort)))
        }
        let standIn = try await GraphStandIn(directory: directory, label: "leaders", port: graphPort,
                                             statusWebhooks: daemons.map { "http://127.0.0.1:\($0.port)/webhooks/whatsapp" },
                                             appSecretFile: daemons[0].directory + "/app-secret")
        do {
            try await database.start()
            let result = try await exercise(daemons, database: database, standIn: standIn)
            await standIn.stop()
            await database.stop()
            return result
        } catch {
            for daemon in daemons {
                await daemon.kill9()
                for line in daemon.logLines(containing: ["error", "critical", "warning"], limit: 8) { announce("  \(daemon.node): \(line)") }
            }
            await standIn.stop()
            await database.stop()
            throw error
        }
    }

    private func exercise(_ daemons: [FailoverDaemon], database: EmbeddedPostgres, standIn: GraphStandIn) async throws -> Result {
        let began = ContinuousClock.now
        let first = try await daemons[0].start()
        try await waitUntilLeading(daemons[0], timeout: .seconds(30))
        let second = try await daemons[1].start()
        announce("a ready in \(format(first.seconds, 2)) s and leads; b ready in \(format(second.seconds, 2)) s as standby")
        let tokens = try await settings.issueTokens(through: daemons[0])
        // Half the agents work through a, half through b (b passes the API on to the leader).
        let resolvers = [SoakResolver(port: daemons[0].port, tokens: Array(tokens.prefix(tokens.count / 2))),
                         SoakResolver(port: daemons[1].port, tokens: Array(tokens.dropFirst(tokens.count / 2)))]
        let sampler = CapacitySampler()
        let load = FailoverLoad(ports: daemons.map(\.port), rate: settings.rate, prefix: String(Self.wamidPrefix.dropFirst("wamid.".count)),
                                customerPrefix: "4471", helpLineShare: settings.helpLineShare, newCustomerShare: settings.newCustomerShare,
                                appSecret: FailoverDaemon.appSecret, seed: settings.seed)
        resolvers.forEach { $0.start() }
        sampler.start(connectionString: database.connectionString())
        load.start(connectionsPerTarget: settings.connections)
        var result = Result(sends: SendTally([]))
        var lastEpoch: Int64 = 0
        do {
            try await Task.sleep(for: .milliseconds(Int64(settings.steady * 1000)))
            for kill in 1...kills {
                guard let leader = try await findLeader(daemons) else { throw FailoverFailure("no instance leads before kill \(kill)") }
                let victim = daemons[leader], survivor = daemons[1 - leader]
                let killedAt = load.now()
                let killed = ContinuousClock.now
                await victim.kill9()
                var tookOver: Duration?
                while ContinuousClock.now - killed < .seconds(60) {
                    if await survivor.leads() == true {
                        tookOver = ContinuousClock.now - killed
                        break
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let tookOverAt = load.now()
                guard let tookOver else { throw FailoverFailure("kill \(kill): \(survivor.node) did not lead within 60 s of \(victim.node)'s SIGKILL; see \(survivor.logPath)") }
                let epoch = await Self.epoch(of: survivor)
                if let epoch {
                    if epoch <= lastEpoch { result.epochProblems.append("kill \(kill): epoch \(epoch) after \(lastEpoch)") }
                    lastEpoch = epoch
                }
                let ready = try await victim.start()
                let restartedAt = load.now()
                if await victim.leads() != false { result.standbyProblems.append("kill \(kill): \(victim.node) came back and does not say it stands by") }
                result.gaps.append(Gap(killedAt: killedAt, tookOverAt: tookOverAt, restartedAt: restartedAt, dead: leader, survivor: 1 - leader,
                                       takeover: tookOver.seconds, ready: ready.seconds, epoch: epoch))
                let gap = WindowCounts.of(load.attempts, from: killedAt, to: tookOverAt)
                announce("kill \(kill)/\(kills): \(victim.node) killed, \(survivor.node) leads after \(format(tookOver.seconds, 3)) s"
                         + (epoch.map { " (epoch \($0))" } ?? "") + "; \(victim.node) ready again as standby in \(format(ready.seconds, 2)) s; "
                         + "webhooks in the gap: \(gap.ok)/\(gap.sent) acknowledged")
                try await Task.sleep(for: .milliseconds(Int64(settings.steady * 1000)))
            }

            try await settings.quiesce(load)
            result.produced = load.produced
            resolvers.forEach { $0.stop() }
            result.settled = try await settings.settleAndDrain(database.connectionString())
            // The stand-in prints a send as it answers it; a moment for the last lines.
            try await Task.sleep(for: .milliseconds(500))
            load.stop()
            await sampler.stop()
            result.attempts = load.attempts
            let acknowledged = load.acknowledged
            result.verdict = try await FailoverChecks.verify(database.connectionString(), wamidPrefix: Self.wamidPrefix, acknowledged: acknowledged.map(\.wamid))
            result.sampled = sampler.totals
            result.sends = SendTally(standIn.sends())
            (result.unanswered, result.notYetHandled) = try await FailoverChecks.unanswered(acknowledged, sends: result.sends,
                                                                                            connectionString: database.connectionString())
            result.resolved = resolvers.reduce(0) { $0 + $1.resolvedCount }
        } catch {
            load.stop()
            resolvers.forEach { $0.stop() }
            await sampler.stop()
            throw error
        }
        // What the new leaders did with sends a kill interrupted (queued again: sent a second time
        // when the first had reached the stand-in).
        for daemon in daemons {
            let lines = daemon.logLines(containing: ["sends interrupted by a stop recovered"], limit: 1000)
            result.requeueLines += lines.map { "\(daemon.node): \($0)" }
            for line in lines {
                if let range = line.range(of: #"queued_again[=:" ]+[0-9]+"#, options: .regularExpression),
                   let count = Int(line[range].filter(\.isNumber)) {
                    result.requeuedAfterKills += count
                }
            }
        }
        for daemon in daemons {
            result.notSentLines += daemon.logLines(containing: ["may no longer lead"], limit: 20).map { "\(daemon.node): \($0)" }
            result.routingRebuilt += Self.rebuildDelays(daemon.logLines(containing: ["cluster: leading epoch=", "routing rebuilt"], limit: 100_000))
        }
        for daemon in daemons {
            let status = await daemon.stop()
            result.exits.append("\(daemon.node) \(status)")
        }
        result.minutes = (ContinuousClock.now - began).seconds / 60
        return result
    }

    private func waitUntilLeading(_ daemon: FailoverDaemon, timeout: Duration) async throws {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < timeout {
            if await daemon.leads() == true { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw FailoverFailure("\(daemon.node) did not lead within \(timeout); see \(daemon.logPath)")
    }

    /// The index of the one instance whose /metrics says it leads (waits for exactly one).
    private func findLeader(_ daemons: [FailoverDaemon]) async throws -> Int? {
        for _ in 0..<1500 {
            var leading: [Int] = []
            for (index, daemon) in daemons.enumerated() where await daemon.leads() == true { leading.append(index) }
            if leading.count == 1 { return leading[0] }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// From each "leading epoch=N" (N > 1: a takeover) to the next "routing rebuilt" in one daemon's log, in seconds.
    static func rebuildDelays(_ lines: [String]) -> [Double] {
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var delays: [Double] = []
        var leading: Date?
        for line in lines {
            guard let stamp = line.split(separator: " ").first, let at = parser.date(from: String(stamp)) else { continue }
            if line.contains("cluster: leading epoch="), !line.contains("cluster: leading epoch=1 ") {
                leading = at
            } else if line.contains("routing rebuilt"), let since = leading {
                delays.append(at.timeIntervalSince(since))
                leading = nil
            }
        }
        return delays
    }

    /// The epoch `switchboardctl status --json` names for the instance's lease.
    static func epoch(of daemon: FailoverDaemon) async -> Int64? {
        guard let status = try? await daemon.control(["status"]) as? [String: Any], let leadership = status["leadership"] as? [String: Any] else { return nil }
        if let number = leadership["epoch"] as? NSNumber { return number.int64Value }
        if let text = leadership["epoch"] as? String { return Int64(text) }
        return nil
    }
}

extension LeaderKills.Result {
    func print(lease: Double, renew: Double, rate: Int) {
        announce("")
        announce("Part 1: the leader killed with SIGKILL \(gaps.count) times, two daemons on one database, \(format(minutes, 1)) min")
        let takeover = SecondsSample(values: gaps.map(\.takeover))
        let ready = SecondsSample(values: gaps.map(\.ready))
        var rows = [["figure", "measured", "goal / baseline"]]
        rows.append(["takeover, kill → the other reports switchboard_leader 1: p50", "\(format(takeover.percentile(50), 2)) s",
                     "baseline: lease \(format(lease, 1)) s + renew \(format(renew, 1)) s"])
        rows.append(["  p99 (nearest rank of \(gaps.count))", "\(format(takeover.percentile(99), 2)) s", "goal ≤ 5 s"])
        rows.append(["  max", "\(format(takeover.max, 2)) s", ""])
        rows.append(["  min", "\(format(takeover.values.min() ?? .nan, 2)) s", ""])
        let rebuilt = SecondsSample(values: routingRebuilt)
        rows.append(["new leader: leading → 'routing rebuilt' in its log: p50 / max", routingRebuilt.isEmpty ? "none logged"
                        : "\(format(rebuilt.percentile(50), 2)) / \(format(rebuilt.max, 2)) s", "(\(routingRebuilt.count) of \(gaps.count) takeovers)"])
        rows.append(["killed instance ready again (standby): p50 / max", "\(format(ready.percentile(50), 2)) / \(format(ready.max, 2)) s", ""])
        announce(table(rows))
        announce("A takeover cannot be shorter than the lease's remaining time at the kill (up to lease − 0 s right after a renewal,")
        announce("lease − renew just before the next), plus up to one look of the standby (renew), plus the new leader's start.")
        announce("")

        // The webhooks in the gaps (kill → takeover), per instance, and after (takeover → restart).
        var toDead = WindowCounts(), toSurvivor = WindowCounts(), afterDead = WindowCounts(), afterSurvivor = WindowCounts()
        var survivorLatencies: [Int64] = []
        for gap in gaps {
            toDead.add(WindowCounts.of(attempts, from: gap.killedAt, to: gap.tookOverAt, target: gap.dead))
            toSurvivor.add(WindowCounts.of(attempts, from: gap.killedAt, to: gap.tookOverAt, target: gap.survivor))
            afterDead.add(WindowCounts.of(attempts, from: gap.tookOverAt, to: gap.restartedAt, target: gap.dead))
            afterSurvivor.add(WindowCounts.of(attempts, from: gap.tookOverAt, to: gap.restartedAt, target: gap.survivor))
            survivorLatencies += attempts.filter { $0.sentAt >= gap.killedAt && $0.sentAt < gap.tookOverAt && $0.target == gap.survivor && $0.status == 200 }.map(\.latency)
        }
        var all = WindowCounts()
        for attempt in attempts { all.add(attempt.status) }
        var latencies = LatencySamples()
        latencies.append(contentsOf: attempts.filter { $0.status == 200 }.map(\.latency))
        var gapLatencies = LatencySamples()
        gapLatencies.append(contentsOf: survivorLatencies)
        announce("load: \(produced.messages) new messages in \(format(produced.seconds, 1)) s = \(format(Double(produced.messages) / Swift.max(produced.seconds, 0.001), 0))/s (asked: \(rate)/s)")
        announce("webhooks, kill → takeover, to the killed instance: \(toDead.summary)")
        announce("webhooks, kill → takeover, to the surviving instance: \(toSurvivor.summary); acknowledged in p50 \(format(gapLatencies.percentile(50), 1)) ms, p99 \(format(gapLatencies.percentile(99), 1)) ms")
        announce("webhooks, takeover → restart, to the killed instance: \(afterDead.summary)")
        announce("webhooks, takeover → restart, to the leading instance: \(afterSurvivor.summary)")
        announce("webhooks, whole part (attempts, retries included): \(all.summary); acknowledged in p50 \(format(latencies.percentile(50), 1)) ms, p99 \(format(latencies.percentile(99), 1)) ms")
        announce("(a delivery not acknowledged is sent again a second later to the other instance)")
        announce(settled.line)
        announce("")

        var checks = [["check", "count", "must be"]]
        checks.append(["acknowledged (200) wamids not in switchboard.messages", "\(verdict.lost)", "0"])
        checks.append(["wamids stored more than once (GROUP BY wamid)", "\(verdict.duplicated)", "0"])
        checks.append(["tickets assigned while their assignment still held", "\(verdict.assignedWhileHeld)", "0"])
        checks.append(["tickets with more than one 'assigned' event (informational)", "\(verdict.assignedMoreThanOnce)", "reopens: \(verdict.reopened)"])
        checks.append(["agents over capacity at the end", "\(verdict.overCapacityNow)", "0"])
        checks.append(["sampled moments with an agent over capacity", "\(sampled.overCapacity) of \(sampled.samples)", "0"])
        checks.append(["identical sends to the stand-in (same to + body, so same outbox id)", "\(sends.repeated) of \(sends.sends)", "see below"])
        checks.append(["  sends queued again by a new leader (interrupted by a kill)", "\(requeuedAfterKills)", "≥ the line above"])
        checks.append(["acknowledged help-line customers taken up by a leader, never answered", "\(unanswered.count)", "0"])
        checks.append(["  not taken up yet (ticket neither triaged nor routed: relay backlog)", "\(notYetHandled.count)", "informational"])
        checks.append(["takeovers whose epoch did not rise", "\(epochProblems.count)", "0"])
        checks.append(["restarted instances not standing by", "\(standbyProblems.count)", "0"])
        checks.append(["(acknowledged messages / tickets / waiting in a queue at the end)", "\(verdict.acknowledged) / \(verdict.tickets) / \(verdict.waiting)", ""])
        checks.append(["(assignments / tickets resolved by agents through the API)", "\(verdict.assignments) / \(resolved)", ""])
        checks.append(["outbox entries left 'sending' for more than 30 s (never sent)", "\(verdict.stuckSending.count)", "0"])
        checks.append(["(outbox entries failed / unfinished at the end)", "\(verdict.outboxFailed) / \(verdict.outboxUnfinished)", ""])
        announce(table(checks))
        announce("Double assignment is counted as an 'assigned' event while the ticket was still held: an 'unassigned', 'acceptance_missed' or")
        announce("'reopened' event in between ends a hold (a reopened ticket is assigned again legitimately). The example's support queue widens its")
        announce("skill steps after 60 s and 600 s and moves a ticket to supervisors only after 1800 s, and only waiting tickets: no reassignment here.")
        announce("A send is repeated only in the window docs/outbound.md describes: the leader was killed after the stand-in accepted it and before")
        announce("`sent` was committed, and Meta's `sent` status (the stand-in posts it to the daemons) did not arrive within 15 s.")
        for example in verdict.lostExamples { announce("  lost: \(example)") }
        for example in verdict.assignedWhileHeldExamples { announce("  assigned while held: \(example)") }
        for detail in verdict.overCapacityDetails { announce("  over capacity: \(detail)") }
        if let example = sampled.example { announce("  over capacity (sampled): \(example)") }
        for example in sends.examples { announce("  sent again: \(example)") }
        for entry in verdict.stuckSending.prefix(5) { announce("  left sending: \(entry)") }
        for line in notSentLines.prefix(5) { announce("  \(line.prefix(300))") }
        for line in requeueLines.prefix(10) { announce("  \(line.prefix(400))") }
        for customer in unanswered.prefix(5) { announce("  never answered: \(customer)") }
        for customer in notYetHandled.prefix(3) { announce("  not taken up yet: \(customer)") }
        for problem in epochProblems + standbyProblems { announce("  \(problem)") }
        announce("daemons stopped with exit status: \(exits.joined(separator: ", "))")
    }
}
