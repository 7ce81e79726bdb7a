import Foundation
import JSON
import Postgres
import SwitchboardCore
import Testing
import TestSupport
import WhatsApp

/// One test's stage for customers' files: a directory, `dev/graph-api-standin.py` on a free port
/// (its output in `standin.out`), and what it takes to run the real daemon against it, stop it and
/// start it again on the same state, look into its database, and ask "Meta" (the stand-in) for
/// the bytes a file really has.
struct MediaStage {
    static let repository = ExampleDaemon.repository
    let directory: String
    let standIn: Process
    let graphPort: Int

    var standInOutput: String { (try? String(contentsOfFile: directory + "/standin.out", encoding: .utf8)) ?? "" }

    static var devToken: String {
        get throws {
            try String(contentsOf: repository.appendingPathComponent("dev/graph-access-token"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// `standInArguments` go after the port (`--status-webhook URL --app-secret FILE`).
    static func start(_ label: String, standInArguments: [String] = []) async throws -> MediaStage {
        let directory = try makeTemporaryDirectory(label)
        let graphPort = try FreePort.next()
        let output = directory + "/standin.out"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let standIn = Process()
        standIn.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        standIn.arguments = ["python3", repository.appendingPathComponent("dev/graph-api-standin.py").path, "\(graphPort)"] + standInArguments
        standIn.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        standIn.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        try standIn.run()
        let stage = MediaStage(directory: directory, standIn: standIn, graphPort: graphPort)
        let token = try devToken
        for _ in 0..<200 where (try? await httpExchange(port: graphPort, path: "/v24.0/dev-photo", headers: ["Authorization": "Bearer \(token)"]).status) != 200 {
            try await Task.sleep(for: .milliseconds(50))
        }
        return stage
    }

    func stop() {
        kill(standIn.processIdentifier, SIGKILL)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The example configuration against the stand-in, with the access token in `tokenFile` (the
    /// development one unless given) and `adjust` applied; the same path every time.
    func writeConfiguration(tokenFile: String? = nil, adjust: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        try ExampleDaemon.writeConfiguration(in: directory) { config in
            var whatsapp = config["whatsapp"] as? [String: Any] ?? [:]
            whatsapp["accessToken"] = ["file": tokenFile ?? Self.repository.appendingPathComponent("dev/graph-access-token").path]
            whatsapp["graphAPI"] = ["baseURL": "http://127.0.0.1:\(graphPort)", "version": "v24.0", "timeoutSeconds": 10]
            config["whatsapp"] = whatsapp
            adjust(&config)
        }
    }

    /// Starts the daemon on `configPath`; each run of the same state gets its own notify socket
    /// and log (`run-<name>/daemon.log`).
    func startDaemon(_ configPath: String, run: String) async throws -> ExampleDaemon.Started {
        let runDirectory = directory + "/run-" + run
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        return try await ExampleDaemon.start(configPath: configPath, directory: runDirectory)
    }

    var socket: String { directory + "/control.sock" }

    /// A signed webhook delivery, as Meta posts it; returns the status.
    func post(_ body: [UInt8], to port: Int) async throws -> Int {
        let signer = WebhookSignature(appSecret: try ExampleDaemon.appSecret())
        return try await httpRequest(port: port, method: "POST", path: "/webhooks/whatsapp",
                                     headers: ["X-Hub-Signature-256": signer.headerValue(for: body), "Content-Type": "application/json"], body: body).status
    }

    static func webhook(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: repository.appendingPathComponent("dev/webhooks/" + name)))
    }

    /// Mia's photo webhook, made another customer's message carrying another file.
    static func photoWebhook(mediaID: String, wamid: String, customer: String, name: String) throws -> [UInt8] {
        let template = try String(decoding: webhook("photo-customer.json"), as: UTF8.self)
        return Array(template.replacingOccurrences(of: "\"dev-photo\"", with: "\"\(mediaID)\"")
            .replacingOccurrences(of: "wamid.DEV-PHOTO-0001", with: wamid)
            .replacingOccurrences(of: "447700900126", with: customer)
            .replacingOccurrences(of: "Mia Clarke", with: name).utf8)
    }

    func database() async throws -> PostgresConnection {
        try await PostgresConnection.connect(.init(connectionString: "host=\(directory)/state/postgres/data port=5432 user=switchboard dbname=switchboard"))
    }

    struct MediaRow: Equatable {
        var id: Int64
        var state: String
        var failure: String?
        var attempts: Int
        var chunks: Int
    }

    /// The file of the message `wamid`, as the daemon's database has it.
    func media(_ wamid: String) async throws -> MediaRow? {
        let connection = try await database()
        let rows: PostgresRows
        do {
            rows = try await connection.query("""
                SELECT f.id, f.state, f.failure, f.attempts, (SELECT count(*)::int FROM switchboard.media_chunks c WHERE c.media_id = f.id)
                FROM switchboard.media f JOIN switchboard.messages m ON m.id = f.message_id WHERE m.wamid = $1
                """, [wamid])
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        return try rows.first.map { MediaRow(id: try $0.decode(0), state: try $0.decode(1), failure: try $0.decode(2), attempts: try $0.decode(3), chunks: try $0.decode(4)) }
    }

    /// Polls until the file of `wamid` is in `state` (a generous bound: a debug build fetching
    /// 20 MB); returns it as last seen.
    func waitForMedia(_ wamid: String, _ state: String, seconds: Int = 120) async throws -> MediaRow? {
        var last: MediaRow?
        for _ in 0..<(seconds * 10) {
            last = try? await media(wamid)
            if last?.state == state { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        return last
    }

    /// Polls the stand-in's output for `text` (bounded).
    func waitForStandIn(_ text: String) async -> Bool {
        for _ in 0..<600 {
            if standInOutput.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// The bytes Meta has for `mediaID`: the lookup, then the download with the token, as the
    /// daemon does it.
    func metaBytes(_ mediaID: String) async throws -> [UInt8] {
        let auth = ["Authorization": "Bearer \(try Self.devToken)"]
        let lookup = try await httpExchange(port: graphPort, path: "/v24.0/\(mediaID)", headers: auth)
        let url = try #require(try JSONParser.parse(lookup.body)["url"]?.string.flatMap(URL.init(string:)), "lookup of \(mediaID): \(lookup.status)")
        let download = try await httpExchange(port: graphPort, path: url.path, headers: auth)
        #expect(download.status == 200)
        return download.body
    }

    /// An API token for `agent`, issued with switchboardctl.
    func token(_ agent: String, _ started: ExampleDaemon.Started) async throws -> String {
        let issued = try await runCommand(started.switchboardctl, ["issue-token", agent, "--socket", socket])
        return try #require(issued.output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("sbt_") }.map(String.init), "\(issued.output)")
    }

    /// `GET /api/v1/media/{id}` with a bearer token.
    func download(_ id: Int64, token: String, port: Int, headers: [String: String] = [:]) async throws -> HTTPExchange {
        try await httpExchange(port: port, path: "/api/v1/media/\(id)", headers: headers.merging(["Authorization": "Bearer \(token)"]) { $1 })
    }

    static func stop(_ started: ExampleDaemon.Started) async {
        started.process.signal(SIGTERM)
        #expect(await started.process.waitForExit() == 0, "log:\n\(started.process.log.suffix(4000))")
    }
}

/// Issue #18's inbound files end to end: the real daemon, PostgreSQL, switchboardctl and the
/// README's Graph API stand-in (`dev/graph-api-standin.py`).
@Suite("Customers' files end to end: served whole and in part to who may see them, purged, resumed after a restart, paused on a refused token")
struct MediaLifecycleEndToEndTests {
    @Test func anImageAVideoAndADocumentAreServedByteIdenticalToTheirAgentOnlyAndPurgedAfterRetention() async throws {
        let stage = try await MediaStage.start("media-life")
        defer { stage.stop() }
        // Two people of another team: an agent and a supervisor (who sees all of their own team's queues).
        let config = try stage.writeConfiguration { config in
            var routing = config["routing"] as? [String: Any] ?? [:]
            var agents = routing["agents"] as? [[String: Any]] ?? []
            agents.append(["id": "dan", "name": "Dan Sales", "role": "agent", "teams": ["sales"], "capacity": 5, "queues": ["supervisors"], "presence": "offline"])
            agents.append(["id": "sue", "name": "Sue Sales", "role": "supervisor", "teams": ["sales"], "capacity": 5, "queues": ["supervisors"],
                           "presence": "offline"])
            routing["agents"] = agents
            config["routing"] = routing
        }
        var started = try await stage.startDaemon(config, run: "1")
        let port = started.port

        // Mia's photo, Leo's 20 MB video, Hana's invoice with a name that is not ASCII, and a file
        // whose bytes are not the ones Meta describes.
        let files = [("photo-customer.json", "wamid.DEV-PHOTO-0001", "image"), ("video-customer.json", "wamid.DEV-VIDEO-0001", "video"),
                     ("invoice-customer.json", "wamid.DEV-INVOICE-0001", "document")]
        for (name, _, _) in files { #expect(try await stage.post(try MediaStage.webhook(name), to: port) == 200) }
        let wrong = try MediaStage.photoWebhook(mediaID: "dev-wrong-sha", wamid: "wamid.DEV-WRONG-SHA-0001", customer: "447700900129", name: "Ola Berg")
        #expect(try await stage.post(wrong, to: port) == 200)

        var ids: [String: Int64] = [:]
        for (_, wamid, kind) in files {
            let row = try await stage.waitForMedia(wamid, "stored")
            #expect(row?.state == "stored", "\(kind): \(String(describing: row))\nlog:\n\(started.process.log.suffix(4000))")
            ids[kind] = row?.id
        }
        let refused = try await stage.waitForMedia("wamid.DEV-WRONG-SHA-0001", "failed")
        #expect(refused?.failure == "the file's SHA-256 is not the one Meta gave" && refused?.chunks == 0, "\(String(describing: refused))")

        let ben = try await stage.token("ben", started), dan = try await stage.token("dan", started), sue = try await stage.token("sue", started)
        for (name, wamid, kind) in files {
            let id = try #require(ids[kind])
            let described = try #require(try JSONParser.parse(try MediaStage.webhook(name))["entry"]?.array.first?["changes"]?.array.first?["value"]?["messages"]?
                .array.first?[kind])
            let mediaID = try #require(described["id"]?.string)
            let meta = try await stage.metaBytes(mediaID)
            let served = try await stage.download(id, token: ben, port: port)
            #expect(served.status == 200, "\(wamid)")
            #expect(served.body == meta, "\(wamid): \(served.body.count) bytes served, Meta has \(meta.count)")
            #expect(MediaDigest.check(try #require(MediaDigest.decode(SHA256Hasher.hex(served.body))), against: described["sha256"]?.string) == .matches)
            #expect(served.headers["content-type"] == described["mime_type"]?.string && served.headers["content-length"] == "\(meta.count)")
            #expect(served.headers["etag"] == "\"\(SHA256Hasher.hex(meta))\"")
            // Anyone of another team may not know the file exists.
            for other in [dan, sue] {
                let hidden = try await stage.download(id, token: other, port: port)
                #expect(hidden.status == 404 && String(decoding: hidden.body, as: UTF8.self).contains("no media \(id)"), "\(wamid): \(hidden.status)")
            }
        }
        let photo = try await stage.metaBytes("dev-photo"), video = try await stage.metaBytes("dev-video")
        #expect(video.count == 20 * 1024 * 1024)
        #expect(try await stage.download(try #require(ids["image"]), token: ben, port: port).headers["content-disposition"]?.hasPrefix("inline;") == true)

        // The video seeks: a range across chunks and one from the end, as a player asks.
        let videoID = try #require(ids["video"])
        let middle = try await stage.download(videoID, token: ben, port: port, headers: ["Range": "bytes=10000000-10999999"])
        #expect(middle.status == 206)
        #expect(middle.headers["content-range"] == "bytes 10000000-10999999/\(video.count)")
        #expect(middle.body == Array(video[10_000_000...10_999_999]), "\(middle.body.count) bytes")
        let end = try await stage.download(videoID, token: ben, port: port, headers: ["Range": "bytes=-1000"])
        #expect(end.status == 206 && end.body == Array(video.suffix(1000)))
        #expect(end.headers["content-range"] == "bytes \(video.count - 1000)-\(video.count - 1)/\(video.count)")

        // The document downloads under its own name: an ASCII stand-in and the exact name (RFC 8187).
        let documentID = try #require(ids["document"])
        let document = try await stage.download(documentID, token: ben, port: port)
        let disposition = try #require(document.headers["content-disposition"])
        #expect(disposition == "attachment; filename=\"Rechnung M_rz 2026 _ ___.pdf\"; "
            + "filename*=UTF-8''Rechnung%20M%C3%A4rz%202026%20%E2%80%94%20%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf")
        let encoded = try #require(disposition.components(separatedBy: "filename*=UTF-8''").last)
        #expect(encoded.removingPercentEncoding == "Rechnung März 2026 — 請求書.pdf")

        // The file Meta described otherwise is not served, and says why.
        let notServed = try await stage.download(try #require(refused?.id), token: ben, port: port)
        #expect(notServed.status == 409)
        #expect(String(decoding: notServed.body, as: UTF8.self).contains("not the one Meta gave"))

        // A year and a day later the photo is past media.retentionDays (365): the retention pass,
        // which runs at every start and hourly, deletes its bytes and keeps its record.
        let photoID = try #require(ids["image"])
        let connection = try await stage.database()
        try await connection.query("UPDATE switchboard.media SET stored_at = stored_at - interval '366 days' WHERE id = $1", [photoID])
        await connection.close()
        await MediaStage.stop(started)
        started = try await stage.startDaemon(config, run: "2")
        let purged = try await stage.waitForMedia("wamid.DEV-PHOTO-0001", "purged")
        #expect(purged?.state == "purged" && purged?.chunks == 0, "\(String(describing: purged))\nlog:\n\(started.process.log.suffix(3000))")
        let gone = try await stage.download(photoID, token: ben, port: started.port)
        #expect(gone.status == 409 && String(decoding: gone.body, as: UTF8.self).contains("media_purged"))
        #expect(!gone.body.starts(with: photo.prefix(8)))
        // The others stay, whole.
        #expect(try await stage.download(videoID, token: ben, port: started.port).body == video)
        #expect(try await stage.download(documentID, token: ben, port: started.port).body == stage.metaBytes("dev-invoice"))
        await MediaStage.stop(started)
    }

    @Test func aFetchCutShortByAGracefulStopOrAKillCompletesAfterTheRestart() async throws {
        let stage = try await MediaStage.start("media-restart")
        defer { stage.stop() }
        // (a) SIGTERM in the middle of a download. With an hour's lease, only a lease given back
        // at the stop lets the next start fetch the file within this test's deadline.
        var config = try stage.writeConfiguration { $0["media"] = ["fetchLeaseSeconds": 3600] }
        var started = try await stage.startDaemon(config, run: "1")
        let first = "wamid.DEV-INTERRUPTED-0001"
        #expect(try await stage.post(try MediaStage.photoWebhook(mediaID: "dev-interrupted-1", wamid: first, customer: "447700900131", name: "Ida Holm"),
                                     to: started.port) == 200)
        #expect(await stage.waitForStandIn("media download dev-interrupted-1 stalls after"), "\(stage.standInOutput)\n\(started.process.log.suffix(3000))")
        // The first chunk of the cut-short attempt is stored before the stop.
        _ = try await Self.waitForChunks(first, stage)
        await MediaStage.stop(started)
        #expect(started.process.log.contains("fetch cut short by the shutdown; its file is due again at once"), "\(started.process.log.suffix(3000))")

        started = try await stage.startDaemon(config, run: "2")
        let resumed = try await stage.waitForMedia(first, "stored", seconds: 60)
        #expect(resumed?.state == "stored", "\(String(describing: resumed))\nlog:\n\(started.process.log.suffix(3000))")
        // The attempt the stop cut short was not counted: this one was the first.
        #expect(resumed?.attempts == 1)
        let ben = try await stage.token("ben", started)
        let firstBytes = try await stage.metaBytes("dev-interrupted-1")
        #expect(try await stage.download(try #require(resumed?.id), token: ben, port: started.port).body == firstBytes)
        #expect(resumed?.chunks == (firstBytes.count + 256 * 1024 - 1) / (256 * 1024))
        await MediaStage.stop(started)

        // (b) kill -9 in the middle of a download: nothing is given back; the 5 s lease runs out and
        // the next start takes the file up again.
        config = try stage.writeConfiguration { $0["media"] = ["fetchLeaseSeconds": 5] }
        started = try await stage.startDaemon(config, run: "3")
        let second = "wamid.DEV-INTERRUPTED-0002"
        #expect(try await stage.post(try MediaStage.photoWebhook(mediaID: "dev-interrupted-2", wamid: second, customer: "447700900132", name: "Jon Lind"),
                                     to: started.port) == 200)
        #expect(await stage.waitForStandIn("media download dev-interrupted-2 stalls after"), "\(stage.standInOutput)")
        _ = try await Self.waitForChunks(second, stage)
        started.process.signal(SIGKILL)
        #expect(await started.process.waitForExit() != nil)

        started = try await stage.startDaemon(config, run: "4")
        let taken = try await stage.waitForMedia(second, "stored", seconds: 60)
        #expect(taken?.state == "stored", "\(String(describing: taken))\nlog:\n\(started.process.log.suffix(3000))")
        #expect(taken?.attempts == 2, "the killed attempt counts; the one after the lease is the second")
        let secondBytes = try await stage.metaBytes("dev-interrupted-2")
        #expect(try await stage.download(try #require(taken?.id), token: ben, port: started.port).body == secondBytes)
        #expect(taken?.chunks == (secondBytes.count + 256 * 1024 - 1) / (256 * 1024))
        await MediaStage.stop(started)
    }

    /// Polls until the file of `wamid` has a stored chunk (bounded).
    static func waitForChunks(_ wamid: String, _ stage: MediaStage) async throws -> MediaStage.MediaRow? {
        var row: MediaStage.MediaRow?
        for _ in 0..<600 {
            row = try? await stage.media(wamid)
            if (row?.chunks ?? 0) > 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect((row?.chunks ?? 0) > 0, "\(String(describing: row))")
        return row
    }

    @Test func aRefusedAccessTokenPausesFetchingWithTheAlertAStatusAndAMetricAndARestartWithANewTokenResumesIt() async throws {
        let stage = try await MediaStage.start("media-token")
        defer { stage.stop() }
        let tokenFile = stage.directory + "/graph-access-token"
        try "an-expired-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let config = try stage.writeConfiguration(tokenFile: tokenFile)
        var started = try await stage.startDaemon(config, run: "1")
        #expect(try await stage.post(try MediaStage.webhook("photo-customer.json"), to: started.port) == 200)

        var media: JSONValue = .null
        for _ in 0..<600 {
            let shown = try await runCommand(started.switchboardctl, ["status", "--json", "--socket", stage.socket])
            media = (try? JSONParser.parse(Array(shown.output.utf8)))?["media"] ?? .null
            if media["fetching"]?.string == "paused" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(media["fetching"]?.string == "paused", "\(JSONWriter.write(media))\nlog:\n\(started.process.log.suffix(3000))")
        let reason = "the Graph API refused the access token (HTTP 401, code 190): Invalid OAuth access token."
        #expect(media["paused_reason"]?.string == reason)
        #expect(media["pending"]?.number == 1)
        let since = try #require(media["paused_since"]?.string), until = try #require(media["paused_until"]?.string)
        let parse = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        // Tried again after the policy's five minutes.
        #expect(abs(try parse.parse(until).timeIntervalSince(try parse.parse(since)) - 300) < 0.01, "\(since) → \(until)")
        let human = try await runCommand(started.switchboardctl, ["status", "--socket", stage.socket])
        #expect(human.output.contains("MEDIA FETCHING PAUSED until \(until) (since \(since); 1 waiting): \(reason)"), "\(human.output)")

        // The same alert as sending's: the log at critical, the metric, an alerts row.
        #expect(started.process.log.contains("the Graph API refuses the access token: fetching customers' files paused"), "\(started.process.log.suffix(3000))")
        let samples = try await RoutingEndToEndTests.prometheusSamples(try await httpGet(port: started.port, path: "/metrics").body)
        #expect(samples.contains("switchboard_media_fetch_paused 1.0"), "\(samples.filter { $0.contains("media") })")
        #expect(samples.contains(#"switchboard_media_fetches_total{result="paused"} 1.0"#), "\(samples.filter { $0.contains("media") })")
        #expect(samples.contains(#"switchboard_media_fetches_total{result="failed"} 0.0"#))
        let connection = try await stage.database()
        let alerts = try await connection.query("SELECT subject, message FROM switchboard.alerts WHERE kind = 'media_fetch_paused' AND cleared_at IS NULL")
            .map { "\(try $0.decode(0, as: String.self)): \(try $0.decode(1, as: String.self))" }
        await connection.close()
        #expect(alerts == ["whatsapp.accessToken: fetching customers' files is paused: \(reason)"])
        // The photo waits, its attempt not counted against it.
        let waiting = try await stage.media("wamid.DEV-PHOTO-0001")
        #expect(waiting?.state == "pending" && waiting?.attempts == 0 && waiting?.failure?.contains("190") == true, "\(String(describing: waiting))")

        // The operator puts in the new token and restarts: the photo is fetched at once (well
        // before the pause would have ended), the alert is cleared, and status says so.
        try "\(try MediaStage.devToken)\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        await MediaStage.stop(started)
        started = try await stage.startDaemon(config, run: "2")
        let stored = try await stage.waitForMedia("wamid.DEV-PHOTO-0001", "stored", seconds: 60)
        #expect(stored?.state == "stored" && stored?.attempts == 1, "\(String(describing: stored))\nlog:\n\(started.process.log.suffix(3000))")
        let after = try await runCommand(started.switchboardctl, ["status", "--json", "--socket", stage.socket])
        let resumed = (try? JSONParser.parse(Array(after.output.utf8)))?["media"] ?? .null
        #expect(resumed["fetching"]?.string == "running" && resumed["paused_until"] == .null && resumed["pending"]?.number == 0, "\(after.output)")
        #expect(try await runCommand(started.switchboardctl, ["status", "--socket", stage.socket]).output.contains("media: fetching; 0 waiting"))
        let cleared = try await stage.database()
        let open = try await cleared.query("SELECT count(*)::int FROM switchboard.alerts WHERE kind = 'media_fetch_paused' AND cleared_at IS NULL").first?
            .decode(0, as: Int.self)
        await cleared.close()
        #expect(open == 0)
        #expect(try await httpGet(port: started.port, path: "/metrics").body.contains("switchboard_media_fetch_paused 0"))
        await MediaStage.stop(started)
    }
}
