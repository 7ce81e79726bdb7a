import Foundation
import SwitchboardCore
import SwitchboardDaemon
import Testing
import TestSupport

@Suite("Daemon configuration")
struct ConfigurationTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func parse(_ json: String) -> Result<SwitchboardConfiguration, ConfigIssues> {
        Result { () throws(ConfigIssues) in try SwitchboardConfiguration.parse(Data(json.utf8), relativeTo: "/etc/switchboard") }
    }

    private func issues(_ json: String) -> [String] {
        guard case .failure(let issues) = parse(json) else { return [] }
        return issues.issues.map(\.description)
    }

    @Test func theExampleFileIsValidAndUsesTheEmbeddedDatabase() throws {
        let path = Self.repositoryRoot.appendingPathComponent("config.example.json").path
        let configuration = try SwitchboardConfiguration.load(path: path, environment: [:])
        #expect(configuration.database.url == nil)
        #expect(configuration.http.host == "127.0.0.1")
        #expect(configuration.stateDirectory == Self.repositoryRoot.appendingPathComponent("state").standardizedFileURL.path)
    }

    @Test func anEmptyObjectGetsTheDocumentedDefaults() throws {
        let configuration = try parse("{}").get()
        #expect(configuration.http.port == 8080)
        #expect(configuration.database.poolSize == 10)
        #expect(configuration.stateDirectory == "/etc/switchboard/state")
        #expect(configuration.shutdownGraceSeconds == 10)
    }

    @Test func aMisspeltKeyIsNamedWithItsPath() {
        #expect(issues(#"{"http": {"prot": 8080}}"#) == [#"http.prot: unknown key; did you mean "port"?"#])
        #expect(issues(#"{"databse": {}}"#) == [#"databse: unknown key; did you mean "database"?"#])
    }

    @Test func badValuesNameTheirKeyPath() {
        #expect(issues(#"{"http": {"port": "80a"}}"#) == [#"http.port: expected an integer 0–65535, got "80a""#])
        #expect(issues(#"{"http": {"port": 70000}}"#) == ["http.port: expected an integer 0–65535, got 70000"])
        #expect(issues(#"{"database": {"poolSize": 0}}"#) == ["database.poolSize: expected an integer 1–200, got 0"])
        #expect(issues(#"{"logging": {"level": "loud"}}"#).first?.hasPrefix(#"logging.level: expected one of "trace""#) == true)
        #expect(issues(#"{"shutdownGraceSeconds": "ten"}"#) == [#"shutdownGraceSeconds: expected a number from 1 to 300, got "ten""#])
        #expect(issues(#"{"database": {"password": "hunter2"}}"#) == [#"database.password: expected an object, got "hunter2""#, #"database.password: expected {"file": "/path"} or {"credential": "name"}"#])
    }

    @Test func mediaSettingsHaveDefaultsAndBadValuesNameTheirKeyPath() throws {
        let defaults = try parse("{}").get().media
        #expect(defaults.fetchConcurrency == 4 && defaults.retentionDays == 365)
        let set = try parse(#"{"media": {"fetchConcurrency": 8, "retentionDays": 30}}"#).get().media
        #expect(set.fetchConcurrency == 8 && set.retentionDays == 30)
        #expect(issues(#"{"media": {"fetchConcurrency": 0}}"#) == ["media.fetchConcurrency: expected an integer 1–64, got 0"])
        #expect(issues(#"{"media": {"fetchConcurrency": 2.5}}"#) == ["media.fetchConcurrency: expected an integer 1–64, got 2.5"])
        let days = issues(#"{"media": {"retentionDays": 0}}"#)
        #expect(days.count == 1 && days[0].hasPrefix("media.retentionDays: expected a number") && days[0].hasSuffix("got 0"), "\(days)")
        #expect(issues(#"{"media": {"retentionDay": 3}}"#) == [#"media.retentionDay: unknown key; did you mean "retentionDays"?"#])
    }

    @Test func theClusterSectionHasDefaultsAndBadValuesNameTheirKeyPath() throws {
        let defaults = try parse("{}").get().cluster
        #expect(defaults.node == ProcessInfo.processInfo.hostName && defaults.advertiseURL == nil)
        #expect(defaults.leaseSeconds == 3 && defaults.renewSeconds == 1)
        let set = try parse(#"{"cluster": {"node": "sb2", "advertiseURL": "http://10.0.0.12:8080/", "leaseSeconds": 6}}"#).get().cluster
        #expect(set.node == "sb2" && set.advertiseURL == "http://10.0.0.12:8080" && set.leaseSeconds == 6 && set.renewSeconds == 1)
        #expect(issues(#"{"cluster": {"node": "sb 2"}}"#) == [#"cluster.node: expected letters, digits, '-', '_' or '.', got "sb 2""#])
        #expect(issues(#"{"cluster": {"advertiseURL": "10.0.0.12:8080"}}"#)
                == [#"cluster.advertiseURL: expected an http:// or https:// URL with a host, such as http://10.0.0.11:8080, got "10.0.0.12:8080""#])
        #expect(issues(#"{"cluster": {"leaseSeconds": 2, "renewSeconds": 2}}"#)
                == ["cluster.renewSeconds: must be less than leaseSeconds (2.0): the leader renews before its lease ends"])
        #expect(issues(#"{"cluster": {"leaseSecond": 3}}"#) == [#"cluster.leaseSecond: unknown key; did you mean "leaseSeconds"?"#])
        // A node's name and address take a restart, as the lease is claimed once at start.
        let other = try parse(#"{"cluster": {"node": "sb2"}}"#).get()
        #expect(try parse("{}").get().changesNeedingRestart(comparedTo: other) == ["cluster"])
    }

    @Test func theFetchLeaseHasADefaultBoundsAndBadValuesNameTheirKeyPath() throws {
        #expect(try parse("{}").get().media.fetchLeaseSeconds == 60)
        #expect(try parse(#"{"media": {"fetchLeaseSeconds": 5}}"#).get().media.fetchLeaseSeconds == 5)
        #expect(try parse(#"{"media": {"fetchLeaseSeconds": 3600}}"#).get().media.fetchLeaseSeconds == 3600)
        #expect(issues(#"{"media": {"fetchLeaseSeconds": 4}}"#) == ["media.fetchLeaseSeconds: expected an integer 5–3600, got 4"])
        #expect(issues(#"{"media": {"fetchLeaseSeconds": 3601}}"#) == ["media.fetchLeaseSeconds: expected an integer 5–3600, got 3601"])
        #expect(issues(#"{"media": {"fetchLeaseSeconds": 7.5}}"#) == ["media.fetchLeaseSeconds: expected an integer 5–3600, got 7.5"])
        #expect(issues(#"{"media": {"fetchLeaseSeconds": "60"}}"#).first?.hasPrefix("media.fetchLeaseSeconds: expected an integer 5–3600") == true)
        #expect(issues(#"{"media": {"fetchLeaseSecond": 60}}"#) == [#"media.fetchLeaseSecond: unknown key; did you mean "fetchLeaseSeconds"?"#])
    }

    @Test func apiSettingsHaveDefaultsAndBadValuesNameTheirKeyPath() throws {
        #expect(try parse("{}").get().api == SwitchboardConfiguration.API())
        let set = try parse(#"{"api": {"presenceSilenceSeconds": 60, "eventRetentionMinutes": 5, "eventRetentionCount": 500, "maxPageSize": 100}}"#).get().api
        #expect(set == SwitchboardConfiguration.API(presenceSilenceSeconds: 60, eventRetentionCount: 500, eventRetentionSeconds: 300, maxPageSize: 100))
        let silence = issues(#"{"api": {"presenceSilenceSeconds": 5}}"#)
        #expect(silence.count == 1 && silence[0].hasPrefix("api.presenceSilenceSeconds: expected a number") && silence[0].hasSuffix("got 5"), "\(silence)")
        #expect(issues(#"{"api": {"maxPageSize": 5}}"#) == ["api.maxPageSize: expected an integer 10–1000, got 5"])
        #expect(issues(#"{"api": {"eventRetention": 5}}"#).first?.hasPrefix("api.eventRetention: unknown key") == true)
    }

    @Test func templatesAreReadAndBadOnesNameTheirKeyPath() throws {
        let secrets = #""appSecret": {"file": "s"}, "verifyToken": {"file": "v"}"#
        let good = try parse(#"{"whatsapp": {\#(secrets), "templates": [{"name": "order_update", "language": "en_US", "text": "Hi {{1}}, order {{2}}"}]}}"#).get()
        #expect(good.whatsapp?.templates == [MessageTemplate(name: "order_update", language: "en_US", text: "Hi {{1}}, order {{2}}")])
        #expect(good.whatsapp?.templates.first?.parameters == 2)
        let bad = issues(#"{"whatsapp": {\#(secrets), "templates": [{"name": "Order Update", "language": "english", "text": ""}, {"name": "a", "language": "en", "text": "x", "body": 1}]}}"#)
        #expect(bad == [#"whatsapp.templates[0].name: the template's name as approved by Meta: lower-case letters, digits and _, got "Order Update""#,
                        #"whatsapp.templates[0].language: a language code as Meta lists them (en, en_US, pt_BR), got "english""#,
                        "whatsapp.templates[0].text: the template's body text, with {{1}}, {{2}}… where its parameters go",
                        #"whatsapp.templates[1].body: unknown key (known keys here: "language", "name", "text")"#], "\(bad)")
        let twice = issues(#"{"whatsapp": {\#(secrets), "templates": [{"name": "a", "language": "en", "text": "x"}, {"name": "a", "language": "en", "text": "y"}]}}"#)
        #expect(twice == ["whatsapp.templates[1]: template a in en is defined twice (first at whatsapp.templates[0])"], "\(twice)")
    }

    @Test func outboundSettingsAreChecked() throws {
        let whatsapp = #""whatsapp": {"appSecret": {"file": "s"}, "verifyToken": {"file": "v"}, "graphAPI": {"baseURL": "graph.facebook.com", "version": "24"}}"#
        #expect(issues("{\(whatsapp)}") == [
            "whatsapp.graphAPI.baseURL: not an http(s) URL with a host: graph.facebook.com",
            #"whatsapp.graphAPI.version: not a Graph API version like "v24.0": 24"#,
        ])
        #expect(issues(#"{"outbound": {"retryBaseSeconds": 10, "retryMaxSeconds": 5}}"#) == ["outbound.retryMaxSeconds: must not be less than retryBaseSeconds (10.0)"])
        #expect(issues(#"{"outbound": {"messagesPerSecond": 0}}"#) == ["outbound.messagesPerSecond: expected a number from 0.1 to 10000, got 0"])
        #expect(issues(#"{"outbound": {"markReadOnOpen": "yes", "typingIndicator": 1}}"#)
            == [#"outbound.markReadOnOpen: expected true or false, got "yes""#, "outbound.typingIndicator: expected true or false, got 1"])
        let defaults = try parse(#"{"whatsapp": {"appSecret": {"file": "s"}, "verifyToken": {"file": "v"}, "accessToken": {"credential": "graph-token"}}}"#).get()
        #expect(defaults.whatsapp?.graphAPI.baseURL == "https://graph.facebook.com")
        #expect(defaults.whatsapp?.accessToken == .credential("graph-token"))
        #expect(defaults.outbound.messagesPerSecond == 80)
        #expect(defaults.outbound.perCustomerIntervalSeconds == 6)
    }

    @Test func everyProblemIsReportedAtOnce() {
        #expect(issues(#"{"http": {"port": -1, "hots": "x"}, "logging": []}"#) == [
            "http.port: expected an integer 0–65535, got -1",
            #"http.hots: unknown key; did you mean "host"?"#,
            "logging: expected an object, got an array",
        ])
    }

    @Test func aPasswordInTheConnectionStringIsRefused() {
        #expect(issues(#"{"database": {"url": "postgresql://sb:secret@db.example/switchboard"}}"#)
            == ["database.url: contains a password; put it in a file or a systemd credential and name that in database.password"])
        #expect(issues(#"{"database": {"url": "host=/run/postgresql dbname=switchboard"}}"#).isEmpty)
        #expect(issues(#"{"database": {"url": "host=x nonsense"}}"#).first?.hasPrefix("database.url: not a valid libpq connection string") == true)
    }

    @Test func notJSONAtAll() {
        let found = issues("{\"http\": ")
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("not valid JSON") == true)
    }

    /// Any JSON parser but Foundation's refuses a trailing comma; so does the configuration reader, naming
    /// where (byte 27 is the closing brace after the comma).
    @Test func aTrailingCommaIsRefusedWithWhereItIs() {
        let found = issues(#"{"stateDirectory": "state",}"#)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("not valid JSON") == true && found.first == "not valid JSON: expected a member name at byte 27", "\(found)")
        #expect(issues(#"{"stateDirectory": "state"}"#).isEmpty)
    }

    @Test func secretsComeFromFilesOrCredentials() throws {
        let directory = try makeTemporaryDirectory("secrets")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "s3cret\n".write(toFile: directory + "/db-password", atomically: true, encoding: .utf8)
        let reader = SecretReader(environment: ["CREDENTIALS_DIRECTORY": directory])
        #expect(try reader.read(.credential("db-password")) == "s3cret")
        #expect(try reader.read(.file(directory + "/db-password")) == "s3cret")
        #expect(throws: SecretReader.Failure.self) { try reader.read(.credential("missing")) }
        #expect(throws: SecretReader.Failure.self) { try SecretReader(environment: [:]).read(.credential("db-password")) }

        let config = directory + "/config.json"
        try #"{"database": {"url": "host=/run/postgresql", "password": {"credential": "db-password"}}}"#.write(toFile: config, atomically: true, encoding: .utf8)
        #expect(throws: ConfigIssues.self) { try SwitchboardConfiguration.load(path: config, environment: [:]) }
        let loaded = try SwitchboardConfiguration.load(path: config, environment: ["CREDENTIALS_DIRECTORY": directory])
        #expect(loaded.database.password == .credential("db-password"))
    }

    @Test func checkConfigCommandExitsOneAndNamesTheKey() async throws {
        let directory = try makeTemporaryDirectory("checkcfg")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bad = directory + "/bad.json"
        try #"{"http": {"host": "127.0.0.1", "prot": 8080}}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        let failed = try await runSwitchboardd(["check-config", "--config", bad])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains(#"http.prot: unknown key; did you mean "port"?"#))

        let good = Self.repositoryRoot.appendingPathComponent("config.example.json").path
        let passed = try await runSwitchboardd(["check-config", "--config", good])
        #expect(passed.status == 0)
        #expect(passed.stdout.contains("configuration is valid"))
    }
}

extension ConfigurationTests {
    @Test func whatsappIngestAndTicketKeysAreCheckedWithTheirPaths() {
        #expect(issues(#"{"whatsapp": {"appSecret": "hunter2", "verifyToken": {"file": "/x"}}}"#) == [
            #"whatsapp.appSecret: expected an object, got "hunter2""#,
            #"whatsapp.appSecret: expected {"file": "/path"} or {"credential": "name"}"#,
        ])
        #expect(issues(#"{"whatsapp": {"appSecret": {"file": "/x"}}}"#) == [
            #"whatsapp.verifyToken: required: {"file": "/path"} or {"credential": "name"}"#,
        ])
        #expect(issues(#"{"whatsapp": {"appSecret": {"file": "/x"}, "verifyToken": {"file": "/y"}, "apiVersion": "v23.0"}}"#).first?
            .hasPrefix("whatsapp.apiVersion: unknown key") == true)
        #expect(issues(#"{"ingest": {"maxBatchDeliveries": 0}}"#) == ["ingest.maxBatchDeliveries: expected an integer 1–1000, got 0"])
        #expect(issues(#"{"ingest": {"lingerMiliseconds": 5}}"#) == [#"ingest.lingerMiliseconds: unknown key; did you mean "lingerMilliseconds"?"#])
        #expect(issues(#"{"tickets": {"reopenWithinHours": -1}}"#) == ["tickets.reopenWithinHours: expected a number from 0 to 8760, got -1"])
    }

    @Test func relativeSecretFilesAreFoundNextToTheConfiguration() throws {
        let configuration = try parse(#"{"whatsapp": {"appSecret": {"file": "dev/app"}, "verifyToken": {"credential": "token"}}}"#).get()
        #expect(configuration.whatsapp?.appSecret == .file("/etc/switchboard/dev/app"))
        #expect(configuration.whatsapp?.verifyToken == .credential("token"))
        #expect(try parse("{}").get().whatsapp == nil)
    }

    @Test func anUnreadableWebhookSecretStopsTheStartWithItsKeyPath() throws {
        let directory = try makeTemporaryDirectory("whsecret")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/config.json"
        try #"{"whatsapp": {"appSecret": {"file": "missing-secret"}, "verifyToken": {"file": "missing-token"}}}"#.write(toFile: config, atomically: true, encoding: .utf8)
        #expect {
            try SwitchboardConfiguration.load(path: config, environment: [:])
        } throws: { error in
            guard let issues = error as? ConfigIssues else { return false }
            return issues.issues.map(\.path) == ["whatsapp.appSecret", "whatsapp.verifyToken"]
        }
    }
}
