import Hummingbird

/// One operation of the API as `docs/openapi.json` declares it: its method, its path (Hummingbird's
/// form, under `/api/v1`), the query parameters it takes (any other is refused), and its work. One
/// table, so the routes, the 405 answers and the parameter checks cannot drift apart; a test walks
/// the document against the server.
struct APIEndpoint: Sendable {
    let method: HTTPRequest.Method
    let path: String
    let query: Set<String>
    let run: @Sendable (AgentAPI, APICaller, Request, String) async throws -> Response

    init(_ method: HTTPRequest.Method, _ path: String, query: Set<String> = [],
         _ run: @escaping @Sendable (AgentAPI, APICaller, Request, String) async throws -> Response) {
        self.method = method
        self.path = path
        self.query = query
        self.run = run
    }

    static let all: [APIEndpoint] = [
        APIEndpoint(.get, "me") { api, caller, _, _ in try await api.me(caller) },
        APIEndpoint(.put, "me/presence") { api, caller, request, _ in try await api.setPresence(caller, request) },
        APIEndpoint(.post, "me/heartbeat") { _, _, _, _ in Response(status: .noContent) },
        APIEndpoint(.get, "queues") { api, caller, _, _ in try await api.queues(caller) },
        APIEndpoint(.get, "agents") { api, caller, _, _ in try await api.agents(caller) },
        APIEndpoint(.put, "agents/:ref/presence") { api, caller, request, id in try await api.setPresence(caller, of: id, request) },
        APIEndpoint(.post, "agents/:ref/drain") { api, caller, request, id in try await api.drain(caller, id, request) },
        APIEndpoint(.post, "queues/:ref/pause") { api, caller, _, name in try await api.pauseQueue(caller, name, paused: true) },
        APIEndpoint(.post, "queues/:ref/resume") { api, caller, _, name in try await api.pauseQueue(caller, name, paused: false) },
        APIEndpoint(.get, "dashboard") { api, caller, _, _ in try await api.dashboard(caller) },
        APIEndpoint(.get, "templates") { api, caller, _, _ in try await api.templates(caller) },
        APIEndpoint(.get, "canned-responses", query: ["q", "ticket"]) { api, caller, request, _ in try await api.cannedResponses(caller, request) },
        APIEndpoint(.get, "tickets", query: ["view", "status", "queue", "assignee", "priority", "tag", "q", "references", "limit", "cursor"]) { api, caller, request, _ in
            try await api.tickets(caller, request)
        },
        APIEndpoint(.get, "tickets/:ref", query: ["messages"]) { api, caller, request, ref in try await api.ticket(caller, ref, request) },
        APIEndpoint(.get, "tickets/:ref/messages", query: ["before", "limit"]) { api, caller, request, ref in try await api.messagePage(caller, ref, request) },
        APIEndpoint(.post, "tickets/:ref/transfer") { api, caller, request, ref in try await api.transfer(caller, ref, request) },
        APIEndpoint(.delete, "tickets/:ref/tags/:tag") { api, caller, request, ref in try await api.removeTag(caller, ref, request) },
        APIEndpoint(.post, "tickets/:ref/take") { api, caller, _, ref in try await api.take(caller, ref) },
        APIEndpoint(.post, "tickets/:ref/accept") { api, caller, _, ref in try await api.accept(caller, ref) },
        APIEndpoint(.post, "tickets/:ref/assign") { api, caller, request, ref in try await api.assign(caller, ref, request) },
        APIEndpoint(.post, "tickets/:ref/status") { api, caller, request, ref in try await api.status(caller, ref, request) },
        APIEndpoint(.post, "tickets/:ref/priority") { api, caller, request, ref in try await api.priority(caller, ref, request) },
        APIEndpoint(.post, "tickets/:ref/tags") { api, caller, request, ref in try await api.tag(caller, ref, request) },
        APIEndpoint(.post, "tickets/:ref/notes") { api, caller, request, ref in try await api.note(caller, ref, request) },
        APIEndpoint(.post, "tickets/:ref/messages") { api, caller, request, ref in try await api.reply(caller, ref, request) },
        APIEndpoint(.post, "tickets/:ref/typing") { api, caller, _, ref in try await api.typing(caller, ref) },
        APIEndpoint(.post, "tickets/:ref/customer/tags") { api, caller, request, ref in try await api.tagCustomer(caller, ref, request) },
        APIEndpoint(.delete, "tickets/:ref/customer/tags/:tag") { api, caller, request, ref in try await api.untagCustomer(caller, ref, request) },
        APIEndpoint(.get, "events", query: ["last_event_id"]) { api, caller, request, _ in try await api.follow(caller, request) },
        APIEndpoint(.post, "media", query: ["ticket", "filename"]) { api, caller, request, _ in try await api.upload(caller, request) },
        APIEndpoint(.get, "media/:ref") { api, caller, request, id in try await api.media(caller, request, id) },
    ]

    /// The methods declared on each path, in the table's order.
    static var methodsByPath: [(String, [HTTPRequest.Method])] {
        var paths: [String] = [], methods: [String: [HTTPRequest.Method]] = [:]
        for endpoint in all {
            if methods[endpoint.path] == nil { paths.append(endpoint.path) }
            methods[endpoint.path, default: []].append(endpoint.method)
        }
        return paths.map { ($0, methods[$0] ?? []) }
    }

    /// Methods answered 405 on a declared path that does not take them.
    static let answeredMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
}

/// Query strings: only the parameters a call declares, each once and not empty.
enum APIQuery {
    static func check(_ request: Request, takes declared: Set<String>) throws {
        var seen: Set<String> = []
        for (key, value) in request.uri.queryParameters {
            let name = String(key)
            guard declared.contains(name) else {
                let takes = declared.isEmpty ? "this call takes none" : "this call takes \(declared.sorted().joined(separator: ", "))"
                throw APIFailure.invalid(name, "unknown query parameter (\(takes))")
            }
            guard seen.insert(name).inserted else { throw APIFailure.invalid(name, "given more than once") }
            guard !value.isEmpty else { throw APIFailure.invalid(name, "must not be empty (leave the parameter out instead)") }
        }
    }
}
