import Foundation
import Hummingbird
import HummingbirdTesting
import JSON
import Synchronization
import SwitchboardCore
import SwitchboardStore
import Testing
import TestSupport

/// `docs/openapi.json` says exactly what the server takes. Walking every path and method of the
/// document: the declared examples (parameters and bodies) are valid by the document and taken by
/// the server; each way of breaking them (a field removed, added, emptied, of the wrong type; a
/// query parameter empty, repeated or unknown) is invalid by the document and refused by the server
/// with 400 naming it; a method the path does not declare is answered 405 with `Allow`.
@Suite("The OpenAPI document against the server: every path and method")
struct OpenAPIConformanceTests {
    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    @Test func everyOperationTakesWhatTheDocumentDeclaresAndRefusesWhatItDoesNot() async throws {
        let harness = try await APIHarness.start("api_openapi_walk", configuration: AgentAPITests.configuration())
        defer { harness.stop() }
        let reference = try await harness.reference(try await harness.routing.customerWrites("447700900601", "Hello"))
        // A file on the same customer's ticket, for `/media/{id}` (not fetched: it answers 409, which the document declares).
        let fileTicket = try await harness.routing.customerSendsFile("447700900601", kind: "image", mediaID: "900601", mimeType: "image/jpeg", sha256: nil)
        let mediaID = try #require(try await harness.routing.mediaID(ofTicket: fileTicket))
        let token = try await harness.token("ada")
        // The canned response the document's example sends (`"canned": 1`).
        let canned = try await harness.store.cannedResponses.add(shortcut: "thanks", title: "Thanks", body: "Thanks, {{customer.name|there}}!",
                                                                 scope: .everyone, by: "test", now: Date())
        #expect(canned.id == 1)
        let document = harness.document
        guard case .object(let paths)? = document.document["paths"] else { Issue.record("no paths"); return }
        let walked = Mutex(Walk())
        try await harness.application().test(.live) { client async throws in
            let port = try #require(client.port)
            for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
                let concrete = path.replacingOccurrences(of: "{ref}", with: reference).replacingOccurrences(of: "{id}", with: "\(mediaID)")
                    .replacingOccurrences(of: "{agent}", with: "ada").replacingOccurrences(of: "{name}", with: "support")
                    .replacingOccurrences(of: "{tag}", with: "vip")
                guard case .object(let operations) = item else { continue }
                for (method, operation) in operations.sorted(by: { $0.key < $1.key }) {
                    let verb = HTTPRequest.Method(method.uppercased()) ?? .get
                    let queries = operation["parameters"]?.array.filter { $0["in"]?.string == "query" } ?? []
                    let label = "\(verb) \(path)"
                    walked.withLock { $0.operations += 1 }
                    if path == "/api/v1/events" {
                        // A stream: each declared parameter opens it.
                        for parameter in queries {
                            let name = parameter["name"]?.string ?? "", example = parameter["example"]?.text ?? ""
                            let stream = try EventStreamClient(port: port, path: "\(concrete)?\(name)=\(example)", headers: ["Authorization": "Bearer \(token)"])
                            #expect(await stream.waitFor("retry: 3000"), "\(label)?\(name)=\(example): \(stream.text)")
                        }
                    } else {
                        let examples = Self.bodyExamples(operation)
                        // A parameter naming a ticket names the one made here.
                        let query = queries.map { parameter in
                            let name = parameter["name"]?.string ?? ""
                            return "\(name)=\(name == "ticket" ? reference : parameter["example"]?.text ?? "")"
                        }.joined(separator: "&")
                        for body in examples {
                            let schema = Self.bodySchema(operation, for: body, in: document)
                            if let body, let schema {
                                #expect(document.problems(of: body, against: schema).isEmpty, "\(label): the document's own example \(JSONWriter.write(body))")
                            }
                            let url = query.isEmpty ? concrete : "\(concrete)?\(query)"
                            let taken = try await harness.call(client, verb, path, url, token: token, body: body)
                            #expect(![400, 404, 405].contains(taken.status), "\(label) \(url) \(body.map(JSONWriter.write) ?? ""): \(taken.status) \(taken.body.map(JSONWriter.write) ?? "")")
                            guard let body, let schema else { continue }
                            for (field, mutated) in Self.mutations(of: body, schema: document.resolve(schema), in: document) {
                                walked.withLock { $0.mutations += 1 }
                                #expect(!document.problems(of: mutated, against: schema).isEmpty, "\(label): the document takes \(JSONWriter.write(mutated))")
                                let refused = try await harness.call(client, verb, path, concrete, token: token, body: mutated)
                                #expect(refused.status == 400, "\(label) \(JSONWriter.write(mutated)): \(refused.status)")
                                #expect(refused.body?["error"]?["field"]?.string?.hasPrefix(field) == true,
                                        "\(label) \(JSONWriter.write(mutated)): named \(refused.body.map(JSONWriter.write) ?? "nothing"), not \(field)")
                            }
                        }
                    }
                    let body = Self.bodyExamples(operation).first ?? nil
                    // A parameter the operation does not declare.
                    let unknown = try await harness.call(client, verb, path, "\(concrete)?colour=blue", token: token, body: body)
                    #expect(unknown.status == 400 && unknown.body?["error"]?["field"]?.string == "colour", "\(label)?colour=: \(unknown.status)")
                    for parameter in queries {
                        let name = parameter["name"]?.string ?? "", example = parameter["example"]?.text ?? ""
                        #expect(!document.problems(of: "", against: parameter["schema"] ?? [:]).isEmpty, "\(label): the document takes an empty \(name)")
                        for url in ["\(concrete)?\(name)=", "\(concrete)?\(name)=\(example)&\(name)=\(example)"] {
                            let refused = try await harness.call(client, verb, path, url, token: token, body: body)
                            #expect(refused.status == 400 && refused.body?["error"]?["field"]?.string == name, "\(label) \(url): \(refused.status)")
                        }
                    }
                }
                // Methods the path does not declare.
                let declared = Set(operations.keys.map { $0.uppercased() })
                let allowed = declared.contains("GET") ? declared.union(["HEAD"]) : declared
                for verb in Self.methods where !allowed.contains(verb.rawValue) {
                    let response = try await client.execute(uri: concrete, method: verb, headers: [.authorization: "Bearer \(token)"])
                    walked.withLock { $0.refusedMethods += 1 }
                    #expect(response.status == .methodNotAllowed, "\(verb) \(path): \(response.status)")
                    let allow = Set((response.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                    #expect(allow == allowed, "\(verb) \(path): Allow \(response.headers[.allow] ?? "missing")")
                }
            }
        }
        // 31 operations on 30 paths; every body broken several ways; 6 of the 7 methods refused on
        // each path, one fewer on the 11 paths with GET (HEAD comes with it), and one fewer again on
        // the path with both GET and POST (a ticket's messages).
        let walk = walked.withLock { $0 }
        #expect(walk.operations == 31 && walk.mutations >= 50 && walk.refusedMethods == 30 * 6 - 11 - 1, "\(walk)")
    }

    /// What the walk covered, so it cannot pass by walking nothing.
    struct Walk: Sendable {
        var operations = 0, mutations = 0, refusedMethods = 0
    }

    /// The operation's request body examples (`example`, or every `examples` value); `[nil]` without a body.
    static func bodyExamples(_ operation: JSONValue) -> [JSONValue?] {
        guard let media = operation["requestBody"]?["content"]?["application/json"] else { return [nil] }
        if let example = media["example"] { return [example] }
        guard case .object(let examples)? = media["examples"] else { return [nil] }
        return examples.sorted { $0.key < $1.key }.compactMap { $0.value["value"] }
    }

    /// The body's schema; for a `oneOf`, the branch whose `type` constant the body names.
    static func bodySchema(_ operation: JSONValue, for body: JSONValue?, in document: OpenAPIDocument) -> JSONValue? {
        guard body != nil, let schema = operation["requestBody"]?["content"]?["application/json"]?["schema"] else { return nil }
        guard let options = document.resolve(schema)["oneOf"]?.array else { return schema }
        return options.first { $0["properties"]?["type"]?["const"] == body?["type"] } ?? schema
    }

    /// Each way of breaking a valid body, with the field the refusal must name: a required field
    /// removed, an undeclared one added, a string emptied, an object emptied, a flag given as text.
    static func mutations(of body: JSONValue, schema: JSONValue, in document: OpenAPIDocument) -> [(String, JSONValue)] {
        guard case .object(let members) = body else { return [] }
        var result: [(String, JSONValue)] = [("unexpected", .object(members.merging(["unexpected": 1]) { a, _ in a }))]
        for name in schema["required"]?.array.compactMap(\.string) ?? [] {
            var without = members
            without.removeValue(forKey: name)
            result.append((name, .object(without)))
        }
        for (name, value) in members.sorted(by: { $0.key < $1.key }) {
            var changed = members
            switch value {
            case .string: changed[name] = ""
            case .object(let nested) where !nested.isEmpty: changed[name] = [:]
            case .bool: changed[name] = "true"
            default: continue
            }
            result.append((name, .object(changed)))
        }
        return result
    }
}
