import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import WhatsApp

/// The web inbox's files — plain HTML, CSS and JavaScript modules kept in the repository and built
/// into the binary (no build step, nothing fetched at run time) — served at `/` and `/assets/…`
/// with a Content-Security-Policy that allows only this origin's scripts and styles (no inline
/// script), `nosniff`, no framing, and an ETag so a browser revalidates instead of downloading
/// again.
public struct WebPages: Sendable {
    struct File: Sendable {
        let bytes: ByteBuffer
        let contentType: String
        let eTag: String
    }

    static let policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; media-src 'self'; connect-src 'self'; "
        + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    static let types = ["html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
                        "svg": "image/svg+xml", "png": "image/png"]

    private let files: [String: File]

    /// Reads the files once, at start (a few kilobytes).
    public init() throws {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Assets") else { throw MissingAssets() }
        var files: [String: File] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            guard let type = Self.types[(name as NSString).pathExtension] else { continue }
            let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
            files[name] = File(bytes: ByteBuffer(bytes: bytes), contentType: type, eTag: "\"\(SHA256Hasher.hex(bytes).prefix(32))\"")
        }
        guard files["index.html"] != nil else { throw MissingAssets() }
        self.files = files
    }

    struct MissingAssets: Error, CustomStringConvertible {
        var description: String { "the web inbox's files are missing from the build (Web/Assets)" }
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in self.respond("index.html", request) }
        router.get("/dashboard") { request, _ in self.respond("dashboard.html", request) }
        router.get("/assets/:name") { request, context in self.respond(context.parameters.get("name") ?? "", request) }
    }

    /// The total size of what the page loads (the benchmark's "bytes of JavaScript and CSS").
    public var totalBytes: Int { files.values.reduce(0) { $0 + $1.bytes.readableBytes } }

    func respond(_ name: String, _ request: Request) -> Response {
        guard let file = files[name] else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "no such page\n")))
        }
        var headers: HTTPFields = [.contentType: file.contentType, .contentSecurityPolicy: Self.policy, .cacheControl: "no-cache",
                                   HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "same-origin",
                                   HTTPField.Name("ETag")!: file.eTag]
        if request.headers[HTTPField.Name("If-None-Match")!] == file.eTag { return Response(status: .notModified, headers: headers) }
        headers[.contentLength] = "\(file.bytes.readableBytes)"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.bytes))
    }
}
