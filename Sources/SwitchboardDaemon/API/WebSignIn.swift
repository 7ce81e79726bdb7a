import Foundation
import HTTPTypes
import Hummingbird
import JSON
import Logging
import NIOPosix
import Synchronization
import SwitchboardCore
import SwitchboardStore

/// Signing in to the web inbox with a handle and a password: `POST /auth/sign-in` starts a
/// server-side session held in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` behind TLS);
/// `POST /auth/sign-out` ends it. Wrong passwords are slowed down per handle and per address
/// (`SignInThrottle`); an unknown handle and a wrong password answer alike. The API then takes the
/// cookie as it takes a bearer token (`APICaller.authenticate`).
public final class WebSignIn: Sendable {
    static let cookieName = "switchboard_session"
    static let setCookie = HTTPField.Name("Set-Cookie")!
    static let cookie = HTTPField.Name("Cookie")!
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let realIP = HTTPField.Name("X-Real-IP")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let origin = HTTPField.Name("Origin")!
    static let fetchSite = HTTPField.Name("Sec-Fetch-Site")!

    let store: ControlStore
    let idle: TimeInterval
    let lifetime: TimeInterval
    let now: @Sendable () -> Date
    let logger: Logger
    private let throttle: Mutex<SignInThrottle>
    /// Password checks run here, one at a time, never on the cooperative pool or the shared thread
    /// pool (which the control socket uses): a flood of sign-ins slows sign-ins only.
    private let hashing: NIOThreadPool
    /// Checks waiting or running; past `maxChecks` a sign-in is answered `429` at once.
    private let checks = Mutex(0)
    static let maxChecks = 8

    public init(store: ControlStore, settings: SwitchboardConfiguration.API, policy: SignInThrottle.Policy = .init(),
                now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.store = store
        self.idle = settings.sessionIdleSeconds
        self.lifetime = settings.sessionLifetimeSeconds
        self.now = now
        self.logger = logger
        throttle = Mutex(SignInThrottle(policy: policy))
        hashing = NIOThreadPool(numberOfThreads: 1)
        hashing.start()
    }

    deinit {
        hashing.shutdownGracefully { _ in }
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.post("/auth/sign-in") { request, _ in await self.signIn(request) }
        router.post("/auth/sign-out") { request, _ in await self.signOut(request) }
    }

    func signIn(_ request: Request) async -> Response {
        do {
            guard Self.sameOrigin(request) else { throw Self.crossSite }
            let body = try await APIBody.read(request)
            try body.only(["handle", "password"])
            let handle = try body.string("handle"), password = try body.string("password")
            let address = Self.address(request)
            if case .wait(let until) = throttle.withLock({ $0.begin(handle: handle, address: address, now: now()) }) {
                let seconds = max(1, Int(until.timeIntervalSince(now()).rounded(.up)))
                var response = APIFailure(status: .tooManyRequests, code: "slowed_down",
                                          message: "too many wrong passwords; try again in \(seconds) s", extra: ["retry_after_seconds": .number(Double(seconds))]).response
                response.headers[.retryAfter] = "\(seconds)"
                return response
            }
            let stored = try await store.signIn.password(of: handle)
            // The same work whether the handle exists or not, so timing tells nothing.
            let hash = stored ?? Self.decoy
            let admitted = checks.withLock { waiting in
                guard waiting < Self.maxChecks else { return false }
                waiting += 1
                return true
            }
            guard admitted else {
                var response = APIFailure(status: .tooManyRequests, code: "busy", message: "too many sign-ins at once; try again in a moment").response
                response.headers[.retryAfter] = "1"
                return response
            }
            let matches: Bool
            do {
                defer { checks.withLock { $0 -= 1 } }
                matches = try await hashing.runIfActive { hash.verify(password) }
            }
            // The attempt was counted as a failure when it began (`SignInThrottle.begin`).
            guard stored != nil, matches, let record = try await store.agent(id: handle) else {
                logger.notice("sign-in refused", metadata: ["handle": "\(handle.prefix(64))", "address": "\(address ?? "-")"])
                throw APIFailure(status: .unauthorized, code: "invalid_credentials", message: "wrong handle or password")
            }
            throttle.withLock { $0.succeeded(handle: handle, address: address) }
            let token = try await store.signIn.startSession(agentID: record.id, address: address, userAgent: request.headers[.userAgent],
                                                             now: now(), lifetime: lifetime)
            logger.info("signed in", metadata: ["agent": "\(record.id)", "address": "\(address ?? "-")"])
            var response = APIResponse.json(["agent": .string(record.id), "role": .string(record.role.rawValue)])
            response.headers[Self.setCookie] = Self.cookie(token.text, maxAge: Int(lifetime), secure: Self.overTLS(request))
            return response
        } catch let failure as APIFailure {
            return failure.response
        } catch {
            logger.error("sign-in failed", metadata: ["error": "\(error)"])
            return APIFailure(status: .internalServerError, code: "internal", message: "the call failed inside Switchboard; see its log").response
        }
    }

    func signOut(_ request: Request) async -> Response {
        guard Self.sameOrigin(request) else { return Self.crossSite.response }
        if let token = Self.sessionToken(request), let session = try? await store.signIn.authenticate(token, now: now(), idle: idle) {
            _ = try? await store.signIn.endSession(session.sessionID, why: "signed out", now: now())
        }
        var response = Response(status: .noContent)
        response.headers[Self.setCookie] = Self.cookie("", maxAge: 0, secure: Self.overTLS(request))
        return response
    }

    /// Verifying against this takes as long as against a real hash; it matches no password.
    static let decoy = PasswordHash(encoded: "pbkdf2-sha256$\(PasswordHash.iterations)$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")

    static let crossSite = APIFailure(status: .forbidden, code: "cross_site_request",
                                      message: "a change with the session cookie must come from the inbox's own pages (Origin)")

    static func cookie(_ value: String, maxAge: Int, secure: Bool) -> String {
        "\(cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The session cookie's token, if the request carries one.
    static func sessionToken(_ request: Request) -> String? {
        for header in request.headers[values: cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == cookieName {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    /// A request from the inbox's own pages: its `Origin` is the scheme and host (with port) it was
    /// sent to — `https` behind the TLS proxy, whose `Host` carries the port (browsers send Origin
    /// with every POST) — or, without one, the browser says `Sec-Fetch-Site: same-origin`.
    static func sameOrigin(_ request: Request) -> Bool {
        if let origin = request.headers[Self.origin] {
            guard let host = request.head.authority else { return false }
            return origin == "\(overTLS(request) ? "https" : "http")://\(host)"
        }
        if let site = request.headers[fetchSite] { return site == "same-origin" || site == "none" }
        // Neither: not a browser (curl, a script): it cannot have been made to act by another site.
        return true
    }

    /// Behind a TLS proxy (nginx sets `X-Forwarded-Proto: https`), the cookie is `Secure`.
    static func overTLS(_ request: Request) -> Bool {
        request.headers[forwardedProto]?.lowercased() == "https"
    }

    /// The client's address as the proxy in front says it (`X-Real-IP`, else the first
    /// `X-Forwarded-For`); nil for a direct connection.
    static func address(_ request: Request) -> String? {
        if let real = request.headers[realIP], !real.isEmpty { return String(real.prefix(64)) }
        return request.headers[forwardedFor]?.split(separator: ",").first.map { String($0.trimmingCharacters(in: .whitespaces).prefix(64)) }
    }
}
