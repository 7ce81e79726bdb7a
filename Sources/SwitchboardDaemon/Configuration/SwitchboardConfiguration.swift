import Foundation
import JSON
import Logging
import SwitchboardCore

/// The daemon's configuration: one JSON file, every key documented in `docs/configuration.md` and
/// shown in `config.example.json`.
public struct SwitchboardConfiguration: Sendable, Equatable {
    /// Where the daemon keeps its own files (the embedded PostgreSQL cluster among them). A relative
    /// path is taken relative to the configuration file's directory.
    public var stateDirectory: String
    public var database: Database
    public var http: HTTP
    public var logging: Logging
    /// How long a graceful shutdown may take before the remaining work is cancelled.
    public var shutdownGraceSeconds: Double

    public struct Database: Sendable, Equatable {
        /// A libpq connection string or URI; nil runs the embedded cluster in the state directory.
        public var url: String?
        /// The database password, from a file or a systemd credential.
        public var password: SecretReference?
        public var poolSize: Int
        public var acquireTimeoutSeconds: Double
        public var connectTimeoutSeconds: Int
        /// Settings of the embedded cluster.
        public var embedded: Embedded

        public struct Embedded: Sendable, Equatable {
            /// The PostgreSQL server binaries; found automatically when nil.
            public var binDirectory: String?
            /// The Unix user the server runs as when the daemon runs as root.
            public var runAsUser: String
        }
    }

    public struct HTTP: Sendable, Equatable {
        public var host: String
        /// 0 picks a free port (tests); the bound address is logged and reported in STATUS=.
        public var port: Int
    }

    public struct Logging: Sendable, Equatable {
        public var level: Logger.Level
    }

    /// The WhatsApp Cloud API. Absent: the webhook answers 404 and nothing is received.
    public var whatsapp: WhatsApp?
    public var tickets: Tickets
    public var ingest: Ingest
    /// Customers' files: how many are fetched at once, how long they are kept.
    public var media: Media
    public var outbound: Outbound
    /// Queues, rules, agents declared in the file; a reload applies changes without a restart.
    public var routing: RoutingConfiguration
    /// Named business calendars (`24x7` is built in).
    public var calendars: [String: BusinessCalendar]
    /// SLA policies in order; the first that matches is fixed on a ticket when it starts.
    public var slaPolicies: [SLAPolicy]
    /// The control socket and who may use it.
    public var control: Control
    /// The agents' HTTP API.
    public var api: API
    /// Greetings, out-of-hours replies, triage menus, auto-close, CSAT, template fallbacks
    /// (reloadable).
    public var automation: AutomationConfiguration = AutomationConfiguration()
    /// This instance among the daemons on one database: its name, where the others reach it, the lease.
    public var cluster: Cluster = Cluster()

    /// Several daemons on one database (issue #21): one leads (routing, SLA timers, sending,
    /// automation), the others stand by, take webhooks and pass everything else to the leader.
    public struct Cluster: Sendable, Equatable {
        /// This instance's name in the lease (`switchboardctl status`); unique per instance. A
        /// restart under the same name takes its own lease back at once.
        public var node: String
        /// The base URL the other instances reach this one's HTTP server at, to pass it API and
        /// control calls while it leads; nil: calls made on a standby are refused while this one leads.
        public var advertiseURL: String?
        /// How long the lease holds unless renewed: the longest a dead leader's work waits.
        public var leaseSeconds: Double
        /// How often the leader renews and a standby looks.
        public var renewSeconds: Double

        public init(node: String = Cluster.defaultNode, advertiseURL: String? = nil, leaseSeconds: Double = 3, renewSeconds: Double = 1) {
            self.node = node
            self.advertiseURL = advertiseURL
            self.leaseSeconds = leaseSeconds
            self.renewSeconds = renewSeconds
        }

        public static var defaultNode: String { ProcessInfo.processInfo.hostName }
    }

    public struct API: Sendable, Equatable {
        /// An agent online through the API whose client sends nothing (no call, no heartbeat) for
        /// this long is set away.
        public var presenceSilenceSeconds: Double
        /// Events kept for followers resuming with `Last-Event-ID`: at most this many, this old.
        public var eventRetentionCount: Int
        public var eventRetentionSeconds: Double
        /// Most tickets in one page of `GET /tickets`.
        public var maxPageSize: Int
        /// A web session unused this long ends (the agent signs in again).
        public var sessionIdleSeconds: Double
        /// A web session ends this long after sign-in, used or not.
        public var sessionLifetimeSeconds: Double

        public init(presenceSilenceSeconds: Double = 120, eventRetentionCount: Int = 10_000, eventRetentionSeconds: Double = 900, maxPageSize: Int = 200,
                    sessionIdleSeconds: Double = 8 * 3600, sessionLifetimeSeconds: Double = 72 * 3600) {
            self.presenceSilenceSeconds = presenceSilenceSeconds
            self.eventRetentionCount = eventRetentionCount
            self.eventRetentionSeconds = eventRetentionSeconds
            self.maxPageSize = maxPageSize
            self.sessionIdleSeconds = sessionIdleSeconds
            self.sessionLifetimeSeconds = sessionLifetimeSeconds
        }
    }

    public struct Control: Sendable, Equatable {
        /// Where the socket is created (unless systemd passes one through `LISTEN_FDS`).
        public var socketPath: String
        /// A request longer than this is refused and its connection closed.
        public var maxMessageBytes: Int
        /// Roles by Unix user and group (root is always admin); a reload applies changes at once.
        public var access: ControlAccess
    }

    public struct WhatsApp: Sendable, Equatable {
        /// The Meta app secret that signs webhooks (`X-Hub-Signature-256`).
        public var appSecret: SecretReference
        /// The token Meta echoes in the subscription handshake.
        public var verifyToken: SecretReference
        /// The system-user access token for sending; absent: replies are refused.
        public var accessToken: SecretReference?
        public var graphAPI: GraphAPI
        /// The approved templates agents may send once the customer service window has closed.
        public var templates: [MessageTemplate] = []

        public struct GraphAPI: Sendable, Equatable {
            /// `https://graph.facebook.com`; tests point it at a local stand-in.
            public var baseURL: String
            public var version: String
            public var timeoutSeconds: Double
        }
    }

    public struct Outbound: Sendable, Equatable {
        /// Sends per second per business number (Meta's default throughput is 80).
        public var messagesPerSecond: Double
        /// Gap between two messages to one customer (Meta allows about one per 6 seconds).
        public var perCustomerIntervalSeconds: Double
        /// Most sends in flight per business number.
        public var maxConcurrentSends: Int
        /// Attempts per message, the first included, before it is marked failed.
        public var maxAttempts: Int
        /// First retry delay; doubles each attempt (with jitter) up to `retryMaxSeconds`.
        public var retryBaseSeconds: Double
        public var retryMaxSeconds: Double
        /// Blue ticks: the ticket's agent opening it marks the customer's last message read.
        public var markReadOnOpen: Bool
        /// "typing…" on the customer's phone while the ticket's agent writes (`POST …/typing`).
        public var typingIndicator: Bool
    }

    public struct Tickets: Sendable, Equatable {
        /// A customer message this soon after their ticket was resolved reopens it; later, a new
        /// ticket starts. 0 never reopens.
        public var reopenWithinHours: Double
    }

    public struct Ingest: Sendable, Equatable {
        /// Most webhook deliveries committed in one transaction (group commit).
        public var maxBatchDeliveries: Int
        /// Most ingest transactions running at once; deliveries arriving meanwhile share the next.
        public var maxConcurrentTransactions: Int
        /// How long a delivery may wait for others when no transaction is running (0: commit at once).
        public var lingerMilliseconds: Int
        /// How long raw webhook bodies are kept for replay.
        public var rawRetentionDays: Double
    }

    public struct Media: Sendable, Equatable {
        public var fetchConcurrency: Int
        /// Days a file's bytes are kept after it was stored; its record stays, marked purged.
        public var retentionDays: Double
        /// Seconds a claimed file is left to one fetch before any instance may claim it again (a
        /// fetch cut short by a crash is taken up again when its lease runs out).
        public var fetchLeaseSeconds: Int

        public init(fetchConcurrency: Int = 4, retentionDays: Double = 365, fetchLeaseSeconds: Int = 60) {
            self.fetchConcurrency = fetchConcurrency
            self.retentionDays = retentionDays
            self.fetchLeaseSeconds = fetchLeaseSeconds
        }
    }

    /// Validates a configuration document. Every problem is reported, each with its key path.
    public static func parse(_ data: Data, relativeTo baseDirectory: String) throws(ConfigIssues) -> SwitchboardConfiguration {
        let root: ConfigValue
        do {
            // Strict JSON first: Foundation's decoder also takes trailing commas, which any other
            // tool reading this file (jq, an editor, a deploy script) refuses.
            _ = try JSONParser.parse(Array(data))
        } catch {
            throw ConfigIssues([ConfigIssue(path: "", reason: "not valid JSON: \(error)")])
        }
        do {
            root = try JSONDecoder().decode(ConfigValue.self, from: data)
        } catch {
            throw ConfigIssues([ConfigIssue(path: "", reason: "not valid JSON: \(Self.describeJSONError(error))")])
        }
        let diagnostics = ConfigDiagnostics()
        let object = ConfigObject(root, path: "", diagnostics: diagnostics)
        _ = object.optionalString("$comment", allowEmpty: true)  // room for a note to the reader

        let stateDirectory = object.string("stateDirectory", default: "state")

        let db = object.object("database") ?? ConfigObject(.object([:]), path: "database", diagnostics: diagnostics)
        let url = db.optionalString("url")
        if let url {
            Self.checkConnectionString(url, path: db.keyPath("url"), diagnostics: diagnostics)
        }
        let password = db.object("password").flatMap(SecretReference.read).map { Self.resolve($0, relativeTo: baseDirectory) }
        let embeddedObject = db.object("embedded") ?? ConfigObject(.object([:]), path: "database.embedded", diagnostics: diagnostics)
        let embedded = Database.Embedded(
            binDirectory: embeddedObject.optionalString("binDirectory"),
            runAsUser: embeddedObject.string("runAsUser", default: "postgres")
        )
        embeddedObject.finish()
        let database = Database(
            url: url,
            password: password,
            poolSize: db.integer("poolSize", in: 1...200, default: 10),
            acquireTimeoutSeconds: db.number("acquireTimeoutSeconds", in: 0.01...300, default: 5),
            connectTimeoutSeconds: db.integer("connectTimeoutSeconds", in: 1...300, default: 5),
            embedded: embedded
        )
        db.finish()

        let httpObject = object.object("http") ?? ConfigObject(.object([:]), path: "http", diagnostics: diagnostics)
        let http = HTTP(
            host: httpObject.string("host", default: "127.0.0.1"),
            port: httpObject.integer("port", in: 0...65535, default: 8080)
        )
        httpObject.finish()

        let loggingObject = object.object("logging") ?? ConfigObject(.object([:]), path: "logging", diagnostics: diagnostics)
        let logging = Logging(level: loggingObject.choice("level", default: LogLevelName.info).level)
        loggingObject.finish()

        func secret(_ object: ConfigObject, _ key: String) -> SecretReference? {
            guard let reference = object.object(key).flatMap(SecretReference.read) else {
                if object.value(key) == nil { object.report(key, "required: {\"file\": \"/path\"} or {\"credential\": \"name\"}") }
                return nil
            }
            return Self.resolve(reference, relativeTo: baseDirectory)
        }
        var whatsapp: WhatsApp?
        if let whatsappObject = object.object("whatsapp") {
            let appSecret = secret(whatsappObject, "appSecret")
            let verifyToken = secret(whatsappObject, "verifyToken")
            let accessToken = whatsappObject.object("accessToken").flatMap(SecretReference.read).map { Self.resolve($0, relativeTo: baseDirectory) }
            let graphObject = whatsappObject.object("graphAPI") ?? ConfigObject(.object([:]), path: "whatsapp.graphAPI", diagnostics: diagnostics)
            let baseURL = graphObject.string("baseURL", default: "https://graph.facebook.com")
            if !(baseURL.hasPrefix("https://") || baseURL.hasPrefix("http://")) || URL(string: baseURL)?.host == nil {
                graphObject.report("baseURL", "not an http(s) URL with a host: \(baseURL)")
            }
            let version = graphObject.string("version", default: "v24.0")
            if version.range(of: #"^v[0-9]+\.[0-9]+$"#, options: .regularExpression) == nil {
                graphObject.report("version", "not a Graph API version like \"v24.0\": \(version)")
            }
            let graphAPI = WhatsApp.GraphAPI(baseURL: baseURL, version: version, timeoutSeconds: graphObject.number("timeoutSeconds", in: 1...120, default: 15))
            graphObject.finish()
            let templates = Self.templates(whatsappObject)
            whatsappObject.finish()
            if let appSecret, let verifyToken {
                whatsapp = WhatsApp(appSecret: appSecret, verifyToken: verifyToken, accessToken: accessToken, graphAPI: graphAPI, templates: templates)
            }
        }
        let ticketsObject = object.object("tickets") ?? ConfigObject(.object([:]), path: "tickets", diagnostics: diagnostics)
        let tickets = Tickets(reopenWithinHours: ticketsObject.number("reopenWithinHours", in: 0...8760, default: 24))
        ticketsObject.finish()
        let ingestObject = object.object("ingest") ?? ConfigObject(.object([:]), path: "ingest", diagnostics: diagnostics)
        let ingest = Ingest(
            maxBatchDeliveries: ingestObject.integer("maxBatchDeliveries", in: 1...1000, default: 64),
            maxConcurrentTransactions: ingestObject.integer("maxConcurrentTransactions", in: 1...100, default: 4),
            lingerMilliseconds: ingestObject.integer("lingerMilliseconds", in: 0...1000, default: 0),
            rawRetentionDays: ingestObject.number("rawRetentionDays", in: 0.01...3650, default: 7)
        )
        ingestObject.finish()
        let mediaObject = object.object("media") ?? ConfigObject(.object([:]), path: "media", diagnostics: diagnostics)
        let media = Media(fetchConcurrency: mediaObject.integer("fetchConcurrency", in: 1...64, default: 4),
                          retentionDays: mediaObject.number("retentionDays", in: 1...36_500, default: 365),
                          fetchLeaseSeconds: mediaObject.integer("fetchLeaseSeconds", in: 5...3600, default: 60))
        mediaObject.finish()
        let outboundObject = object.object("outbound") ?? ConfigObject(.object([:]), path: "outbound", diagnostics: diagnostics)
        let retryBase = outboundObject.number("retryBaseSeconds", in: 0.01...3600, default: 2)
        let retryMax = outboundObject.number("retryMaxSeconds", in: 0.01...86400, default: 300)
        if retryMax < retryBase { outboundObject.report("retryMaxSeconds", "must not be less than retryBaseSeconds (\(retryBase))") }
        let outbound = Outbound(
            messagesPerSecond: outboundObject.number("messagesPerSecond", in: 0.1...10000, default: 80),
            perCustomerIntervalSeconds: outboundObject.number("perCustomerIntervalSeconds", in: 0...3600, default: 6),
            maxConcurrentSends: outboundObject.integer("maxConcurrentSends", in: 1...1000, default: 32),
            maxAttempts: outboundObject.integer("maxAttempts", in: 1...100, default: 8),
            retryBaseSeconds: retryBase,
            retryMaxSeconds: retryMax,
            markReadOnOpen: outboundObject.bool("markReadOnOpen", default: true),
            typingIndicator: outboundObject.bool("typingIndicator", default: true)
        )
        outboundObject.finish()

        let routing = RoutingConfiguration.read(object.object("routing"))
        let calendars = SLAConfigurationReader.calendars(object.object("calendars"))
        let slaPolicies = SLAConfigurationReader.policies(object.object("sla"), calendars: calendars, queues: Set(routing.queues.map(\.name)))
        let automation = AutomationConfiguration.read(object.object("automation"), references: .init(
            calendars: calendars, queues: Set(routing.queues.map(\.name)), routingRules: Set(routing.rules.map(\.name)),
            templates: whatsapp?.templates ?? []))

        let controlObject = object.object("control") ?? ConfigObject(.object([:]), path: "control", diagnostics: diagnostics)
        func grant(_ key: String) -> ControlAccess.Grant {
            guard let entry = controlObject.object(key) else { return ControlAccess.Grant() }
            func names(_ field: String) -> Set<String> {
                Set(entry.array(field).compactMap { path, value -> String? in
                    guard case .string(let name) = value, !name.isEmpty, !name.contains(" ") else {
                        diagnostics.report(path, "expected a Unix user or group name, got \(value.shownInError)")
                        return nil
                    }
                    return name
                })
            }
            let grant = ControlAccess.Grant(users: names("users"), groups: names("groups"))
            entry.finish()
            return grant
        }
        let control = Control(
            socketPath: Self.absolute(controlObject.string("socket", default: "/run/switchboard/control.sock"), relativeTo: baseDirectory),
            maxMessageBytes: controlObject.integer("maxMessageBytes", in: 1024...(16 << 20), default: 1 << 20),
            access: ControlAccess(admins: grant("admins"), supervisors: grant("supervisors"), agents: grant("agents"))
        )
        controlObject.finish()

        let apiObject = object.object("api") ?? ConfigObject(.object([:]), path: "api", diagnostics: diagnostics)
        let api = API(
            presenceSilenceSeconds: apiObject.number("presenceSilenceSeconds", in: 10...86_400, default: 120),
            eventRetentionCount: apiObject.integer("eventRetentionCount", in: 100...1_000_000, default: 10_000),
            eventRetentionSeconds: apiObject.number("eventRetentionMinutes", in: 1...1440, default: 15) * 60,
            maxPageSize: apiObject.integer("maxPageSize", in: 10...1000, default: 200),
            sessionIdleSeconds: apiObject.number("sessionIdleMinutes", in: 5...10_080, default: 480) * 60,
            sessionLifetimeSeconds: apiObject.number("sessionMaxHours", in: 1...720, default: 72) * 3600
        )
        apiObject.finish()

        let clusterObject = object.object("cluster") ?? ConfigObject(.object([:]), path: "cluster", diagnostics: diagnostics)
        let node = clusterObject.string("node", default: Cluster.defaultNode)
        if node.contains(where: { !($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
            clusterObject.report("node", "expected letters, digits, '-', '_' or '.', got \"\(node)\"")
        }
        let advertise = clusterObject.optionalString("advertiseURL")
        if let advertise, URL(string: advertise).flatMap({ ["http", "https"].contains($0.scheme ?? "") && $0.host != nil }) != true {
            clusterObject.report("advertiseURL", "expected an http:// or https:// URL with a host, such as http://10.0.0.11:8080, got \"\(advertise)\"")
        }
        let lease = clusterObject.number("leaseSeconds", in: 1...300, default: 3)
        let renew = clusterObject.number("renewSeconds", in: 0.1...100, default: min(1, lease / 3))
        if renew >= lease { clusterObject.report("renewSeconds", "must be less than leaseSeconds (\(lease)): the leader renews before its lease ends") }
        let cluster = Cluster(node: node, advertiseURL: advertise.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }, leaseSeconds: lease, renewSeconds: renew)
        clusterObject.finish()

        let grace = object.number("shutdownGraceSeconds", in: 1...300, default: 10)
        object.finish()
        try diagnostics.check()

        return SwitchboardConfiguration(
            stateDirectory: Self.absolute(stateDirectory, relativeTo: baseDirectory),
            database: database,
            http: http,
            logging: logging,
            shutdownGraceSeconds: grace,
            whatsapp: whatsapp,
            tickets: tickets,
            ingest: ingest,
            media: media,
            outbound: outbound,
            routing: routing,
            calendars: calendars,
            slaPolicies: slaPolicies,
            control: control,
            api: api,
            automation: automation,
            cluster: cluster
        )
    }

    /// Reads and validates a configuration file, and checks that its secrets can be read: all of
    /// them, or (`whatsappSecrets: false`, for `migrate`) only the database's.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            whatsappSecrets: Bool = true) throws(ConfigIssues) -> SwitchboardConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigIssues([ConfigIssue(path: "", reason: "cannot read \(path): \(error.localizedDescription)")])
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let configuration = try parse(data, relativeTo: directory)
        var secrets: [(String, SecretReference)] = []
        if let password = configuration.database.password { secrets.append(("database.password", password)) }
        if let whatsapp = configuration.whatsapp, whatsappSecrets {
            secrets += [("whatsapp.appSecret", whatsapp.appSecret), ("whatsapp.verifyToken", whatsapp.verifyToken)]
            if let accessToken = whatsapp.accessToken { secrets.append(("whatsapp.accessToken", accessToken)) }
        }
        var problems: [ConfigIssue] = []
        for (path, reference) in secrets {
            do {
                _ = try SecretReader(environment: environment).read(reference)
            } catch {
                problems.append(ConfigIssue(path: path, reason: error.description))
            }
        }
        if !problems.isEmpty { throw ConfigIssues(problems) }
        return configuration
    }

    private static func checkConnectionString(_ url: String, path: String, diagnostics: ConfigDiagnostics) {
        // libpq's own parser decides what is valid; a password in the body is refused.
        let keywords: [String: String]
        do {
            keywords = try ConnectionStringInspector.keywords(url)
        } catch {
            diagnostics.report(path, "not a valid libpq connection string or URI: \(error)")
            return
        }
        if let password = keywords["password"], !password.isEmpty {
            diagnostics.report(path, "contains a password; put it in a file or a systemd credential and name that in database.password")
        }
    }

    /// A secret file named by a relative path is found next to the configuration file.
    /// `whatsapp.templates`: each with a valid name, language and a non-empty text; a name and
    /// language given twice is refused.
    private static func templates(_ whatsapp: ConfigObject) -> [MessageTemplate] {
        var templates: [MessageTemplate] = []
        var seen: [String: String] = [:]
        for (path, value) in whatsapp.array("templates") {
            let object = ConfigObject(value, path: path, diagnostics: whatsapp.diagnosticsSink)
            let name = object.string("name", default: "", allowEmpty: true)
            let language = object.string("language", default: "", allowEmpty: true)
            let text = object.string("text", default: "", allowEmpty: true)
            var valid = true
            if !MessageTemplate.isValidName(name) { object.report("name", "the template's name as approved by Meta: lower-case letters, digits and _, got \"\(name)\""); valid = false }
            if !MessageTemplate.isValidLanguage(language) { object.report("language", "a language code as Meta lists them (en, en_US, pt_BR), got \"\(language)\""); valid = false }
            if text.allSatisfy(\.isWhitespace) { object.report("text", "the template's body text, with {{1}}, {{2}}… where its parameters go"); valid = false }
            object.finish()
            guard valid else { continue }
            let key = "\(name)/\(language)"
            if let first = seen[key] {
                whatsapp.diagnosticsSink.report(path, "template \(name) in \(language) is defined twice (first at \(first))")
                continue
            }
            seen[key] = path
            templates.append(MessageTemplate(name: name, language: language, text: text))
        }
        return templates
    }

    private static func resolve(_ reference: SecretReference, relativeTo base: String) -> SecretReference {
        if case .file(let path) = reference { return .file(absolute(path, relativeTo: base)) }
        return reference
    }

    private static func absolute(_ path: String, relativeTo base: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: base).appendingPathComponent(path).standardizedFileURL.path
    }

    private static func describeJSONError(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            if let underlying = context.underlyingError {
                return "\((underlying as NSError).userInfo[NSDebugDescriptionErrorKey] ?? underlying.localizedDescription)"
            }
            return context.debugDescription
        }
        return "\(error)"
    }

    /// What a SIGHUP can change in a running daemon, and what needs a restart.
    public func changesNeedingRestart(comparedTo new: SwitchboardConfiguration) -> [String] {
        var keys: [String] = []
        if stateDirectory != new.stateDirectory { keys.append("stateDirectory") }
        if database != new.database { keys.append("database") }
        if http != new.http { keys.append("http") }
        if shutdownGraceSeconds != new.shutdownGraceSeconds { keys.append("shutdownGraceSeconds") }
        if whatsapp != new.whatsapp { keys.append("whatsapp") }
        if tickets != new.tickets { keys.append("tickets") }
        if ingest != new.ingest { keys.append("ingest") }
        if media != new.media { keys.append("media") }
        if outbound != new.outbound { keys.append("outbound") }
        if control.socketPath != new.control.socketPath || control.maxMessageBytes != new.control.maxMessageBytes { keys.append("control.socket") }
        if api != new.api { keys.append("api") }
        if cluster != new.cluster { keys.append("cluster") }
        return keys
    }
}

/// The log levels as the configuration spells them.
enum LogLevelName: String, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level {
        switch self {
        case .trace: return .trace
        case .debug: return .debug
        case .info: return .info
        case .notice: return .notice
        case .warning: return .warning
        case .error: return .error
        case .critical: return .critical
        }
    }
}
