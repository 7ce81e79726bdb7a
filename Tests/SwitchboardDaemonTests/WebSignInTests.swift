import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSON
import NIOCore
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import SwitchboardStore
import Testing
import TestSupport

/// Signing in to the web inbox: a password checked against its PBKDF2 hash, a session cookie the
/// browser cannot read or send cross-site, the API taking it, wrong passwords slowed down.
@Suite("Web sign-in: passwords, session cookies, slowing down guesses")
struct WebSignInTests {
    static let password = "correct horse battery staple"
    static let setCookie = HTTPField.Name("Set-Cookie")!
    static let cookie = HTTPField.Name("Cookie")!
    static let origin = HTTPField.Name("Origin")!

    static func application(_ harness: APIHarness, _ signIn: WebSignIn) -> some ApplicationProtocol {
        let router = Router()
        harness.api.register(on: router)
        signIn.register(on: router)
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: TestDatabase.quietLogger)
    }

    static func signIn(_ client: some TestClientProtocol, _ handle: String, _ password: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await client.execute(uri: "/auth/sign-in", method: .post, headers: headers,
                                        body: ByteBuffer(string: JSONWriter.write(["handle": .string(handle), "password": .string(password)])))
    }

    /// `switchboard_session=…` from a Set-Cookie header.
    static func session(_ response: TestResponse) -> String? {
        response.headers[setCookie]?.split(separator: ";").first.map(String.init)
    }

    @Test func anAgentSignsInUsesTheAPIWithTheCookieAndSignsOut() async throws {
        let harness = try await APIHarness.start("web_sign_in", configuration: AgentAPITests.configuration())
        defer { harness.stop() }
        #expect(try await harness.store.signIn.setPassword(agentID: "ana", hash: PasswordHash.make(Self.password), by: "test", now: Date()) == 0)
        let signIn = WebSignIn(store: harness.store, settings: .init(), logger: TestDatabase.quietLogger)
        try await Self.application(harness, signIn).test(.router) { client async throws in
            // A wrong password and an unknown handle answer alike.
            let wrong = try await Self.signIn(client, "ana", "correct horse battery stapler")
            let unknown = try await Self.signIn(client, "nobody", Self.password)
            #expect(wrong.status == .unauthorized && unknown.status == .unauthorized)
            #expect(try JSONParser.parse(Array(buffer: wrong.body)) == JSONParser.parse(Array(buffer: unknown.body)))
            #expect(wrong.headers[Self.setCookie] == nil)

            let signedIn = try await Self.signIn(client, "ana", Self.password)
            #expect(signedIn.status == .ok)
            let setCookie = try #require(signedIn.headers[Self.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/") && !setCookie.contains("Secure"))
            let cookie = try #require(Self.session(signedIn))
            #expect(cookie.hasPrefix("switchboard_session=sbs_"))
            // Behind TLS (the proxy says so) the cookie is Secure too.
            let overTLS = try await Self.signIn(client, "ana", Self.password, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(overTLS.headers[Self.setCookie]?.hasSuffix("; Secure") == true)

            let me = try await client.execute(uri: "/api/v1/me", method: .get, headers: [Self.cookie: cookie])
            #expect(me.status == .ok && (try? JSONParser.parse(Array(buffer: me.body)))?["id"]?.string == "ana")
            // A change carried by the cookie from another site is refused; from the inbox's own page it is not.
            let foreign = try await client.execute(uri: "/api/v1/me/heartbeat", method: .post,
                                                   headers: [Self.cookie: cookie, Self.origin: "https://evil.example"])
            #expect(foreign.status == .forbidden && String(buffer: foreign.body).contains("cross_site_request"))
            let own = try await client.execute(uri: "/api/v1/me/heartbeat", method: .post,
                                               headers: [Self.cookie: cookie, Self.origin: "http://localhost"])
            #expect(own.status == .noContent)

            // The session is listed (never its token), then ended by signing out.
            let open = try await harness.store.signIn.sessions(of: "ana", includingEnded: false, now: Date(), idle: 3600)
            #expect(open.count == 2)
            let out = try await client.execute(uri: "/auth/sign-out", method: .post, headers: [Self.cookie: cookie])
            #expect(out.status == .noContent && out.headers[Self.setCookie]?.contains("Max-Age=0") == true)
            let after = try await client.execute(uri: "/api/v1/me", method: .get, headers: [Self.cookie: cookie])
            #expect(after.status == .unauthorized)
            let ended = try await harness.store.signIn.sessions(of: "ana", includingEnded: true, now: Date(), idle: 3600)
            #expect(ended.map(\.endedWhy).contains("signed out"))

            // A new password ends the other session too.
            let other = try #require(Self.session(overTLS))
            #expect(try await harness.store.signIn.setPassword(agentID: "ana", hash: PasswordHash.make("another long password"), by: "test", now: Date()) == 1)
            #expect(try await client.execute(uri: "/api/v1/me", method: .get, headers: [Self.cookie: other]).status == .unauthorized)
        }
    }

    @Test func aSessionEndsWhenIdleOrAtItsEndAndItsTokenIsOnlyStoredHashed() async throws {
        let harness = try await APIHarness.start("web_sessions", configuration: AgentAPITests.configuration())
        defer { harness.stop() }
        let store = harness.store.signIn
        let t0 = Date()
        let token = try await store.startSession(agentID: "ben", address: "203.0.113.7", userAgent: "Firefox", now: t0, lifetime: 10 * 3600)
        #expect(try await store.authenticate(token.text, now: t0 + 60, idle: 3600)?.agentID == "ben")
        #expect(try await store.authenticate(token.text, now: t0 + 3 * 3600, idle: 3600) == nil)
        #expect(try await store.authenticate(token.text, now: t0 + 11 * 3600, idle: 100 * 3600) == nil)
        #expect(try await store.authenticate("sbs_" + String(token.text.dropFirst(4).reversed()), now: t0 + 60, idle: 3600) == nil)
        let stored = try await harness.routing.pool.query("SELECT count(*)::int FROM switchboard.web_sessions WHERE position($1::bytea IN token_hash) > 0",
                                                          [PostgresBytes(Array(token.text.utf8))]).first?.decode(0, as: Int.self)
        #expect(stored == 0)
        let listed = try await store.sessions(of: "ben", includingEnded: true, now: t0 + 3 * 3600, idle: 3600)
        #expect(listed.first?.endedWhy == "idle" && listed.first?.address == "203.0.113.7")

        // A removed agent's sessions end with them; added again, their old cookie stays dead.
        let fresh = try await store.startSession(agentID: "ben", address: nil, userAgent: nil, now: t0, lifetime: 10 * 3600)
        #expect(try await AgentStore(pool: harness.routing.pool).deactivate("ben", at: t0 + 60, actor: "test"))
        #expect(try await store.sessions(of: "ben", includingEnded: true, now: t0 + 60, idle: 3600).first?.endedWhy == "agent removed")
        try await harness.routing.pool.query("UPDATE switchboard.agents SET active = true WHERE id = 'ben'")
        #expect(try await store.authenticate(fresh.text, now: t0 + 120, idle: 3600) == nil)
    }

    @Test func fiveWrongPasswordsSlowTheNextAttemptDownEvenWithTheRightOne() async throws {
        let harness = try await APIHarness.start("web_throttle", configuration: AgentAPITests.configuration())
        defer { harness.stop() }
        #expect(try await harness.store.signIn.setPassword(agentID: "ben", hash: PasswordHash.make(Self.password), by: "test", now: Date()) == 0)
        let signIn = WebSignIn(store: harness.store, settings: .init(), logger: TestDatabase.quietLogger)
        try await Self.application(harness, signIn).test(.router) { client async throws in
            for attempt in 1...5 {
                #expect(try await Self.signIn(client, "ben", "guess number \(attempt)").status == .unauthorized)
            }
            let slowed = try await Self.signIn(client, "ben", Self.password)
            #expect(slowed.status == .tooManyRequests)
            let retryAfter = try #require(slowed.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter > 0 && retryAfter <= 30)
            #expect(slowed.headers[Self.setCookie] == nil)
            // Another agent is not held up by Ben's guesser.
            #expect(try await harness.store.signIn.setPassword(agentID: "ana", hash: PasswordHash.make(Self.password), by: "test", now: Date()) == 0)
            #expect(try await Self.signIn(client, "ana", Self.password).status == .ok)
        }
    }

    @Test func thePasswordHashIsPBKDF2AtOWASPsCostAndComparesOnlyTheRightPassword() {
        let hash = PasswordHash.make("a long enough password")
        let parts = hash.encoded.split(separator: "$")
        #expect(parts.count == 4 && parts[0] == "pbkdf2-sha256" && parts[1] == "600000")
        #expect(hash.verify("a long enough password"))
        #expect(!hash.verify("a long enough passwore") && !hash.verify(""))
        #expect(PasswordHash.make("a long enough password") != hash)
        #expect(!PasswordHash(encoded: "md5$x").verify("x"))
        // RFC 6070-style check against a known vector (PBKDF2-HMAC-SHA256, "password", "salt", 1 iteration).
        let known = PasswordHash(encoded: "pbkdf2-sha256$1$c2FsdA==$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs=")
        #expect(known.verify("password") && !known.verify("passwort"))
    }
}
