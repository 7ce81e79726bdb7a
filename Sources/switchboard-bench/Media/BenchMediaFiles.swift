import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization
import WhatsApp

/// The files of the media benchmark: distinct, deterministic and incompressible (like JPEG or
/// MP4), each named by its number and size, any range of which can be made again without the
/// rest. They start with a JPEG's or an MP4's first bytes but are not pictures or videos.
struct BenchMediaFile: Sendable, Hashable {
    let number: Int
    let size: Int

    /// Meta's media id for it: `bench-<size>-<number>`.
    var mediaID: String { "bench-\(size)-\(number)" }

    init(number: Int, size: Int) {
        self.number = number
        self.size = size
    }

    init?(mediaID: String) {
        let parts = mediaID.split(separator: "-")
        guard parts.count == 3, parts[0] == "bench", let size = Int(parts[1]), let number = Int(parts[2]), size > 0, number >= 0 else { return nil }
        self.init(number: number, size: size)
    }

    var isVideo: Bool { size > 5_000_000 }
    var mimeType: String { isVideo ? "video/mp4" : "image/jpeg" }
    var kind: String { isVideo ? "video" : "image" }

    /// Bytes `offset..<offset+count` of the file (offset a multiple of 8).
    func bytes(offset: Int, count: Int) -> [UInt8] {
        precondition(offset % 8 == 0)
        var out = [UInt8](repeating: 0, count: count)
        let seed = UInt64(number) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(size) &* 0xBF58_476D_1CE4_E5B9
        out.withUnsafeMutableBytes { raw in
            var word = UInt64(offset / 8)
            var index = 0
            while index < count {
                // splitmix64 of the word's position: any part of the file without the rest.
                var z = seed &+ word &* 0x9E37_79B9_7F4A_7C15
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                withUnsafeBytes(of: z.littleEndian) { word in
                    for byte in word where index < count {
                        raw[index] = byte
                        index += 1
                    }
                }
                word += 1
            }
        }
        if offset == 0 {
            let magic: [UInt8] = isVideo ? [0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70] : [0xFF, 0xD8, 0xFF, 0xE0]
            for (index, byte) in magic.enumerated() where index < count { out[index] = byte }
        }
        return out
    }

    /// The file in pieces of `piece` bytes.
    func forEachPiece(_ piece: Int = 65_536, _ body: ([UInt8]) throws -> Void) rethrows {
        var offset = 0
        while offset < size {
            let count = min(piece, size - offset)
            try body(bytes(offset: offset, count: count))
            offset += count
        }
    }

    /// Its SHA-256.
    func digest() -> [UInt8] {
        let hasher = SHA256Hasher()
        forEachPiece { piece in piece.withUnsafeBytes { hasher.update($0) } }
        return hasher.finish()
    }
}

/// The Graph API's media endpoints as Meta serves them, in this process, for any
/// `BenchMediaFile`: `GET /v24.0/{media-id}` with the bearer token answers the URL, type, hex
/// SHA-256 and size; `GET` of that URL with the token streams the bytes in 64 KiB pieces. Anything
/// without the token gets Meta's 401 with code 190.
final class BenchGraphAPI: Sendable {
    static let token = "bench-graph-token"
    let port: Int
    private let serverTask: Task<Void, any Error>
    private let digests: Mutex<[BenchMediaFile: String]>
    private let served = Atomic<Int>(0)

    var bytesServed: Int { served.load(ordering: .relaxed) }

    private init(port: Int, serverTask: Task<Void, any Error>, digests: [BenchMediaFile: String]) {
        self.port = port
        self.serverTask = serverTask
        self.digests = Mutex(digests)
    }

    /// Serves `files` (their digests known beforehand, as Meta knows them) on a free port.
    static func start(files: [BenchMediaFile: String]) async throws -> BenchGraphAPI {
        let box = Mutex<BenchGraphAPI?>(nil)
        let router = Router()
        router.get("download/:media") { request, context in
            guard let api = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return api.download(context.parameters.get("media") ?? "", authorization: request.headers[.authorization])
        }
        router.get(":version/:media") { request, context in
            guard let api = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return api.lookUp(context.parameters.get("media") ?? "", authorization: request.headers[.authorization])
        }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "graph-bench"),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "graph-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let serverTask = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw CancellationError() }
        let api = BenchGraphAPI(port: port, serverTask: serverTask, digests: files)
        box.withLock { $0 = api }
        return api
    }

    func add(_ files: [BenchMediaFile: String]) {
        digests.withLock { $0.merge(files) { $1 } }
    }

    func stop() {
        serverTask.cancel()
    }

    private static func refused(_ authorization: String?) -> Response? {
        guard authorization != "Bearer \(token)" else { return nil }
        let body = #"{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190,"fbtrace_id":"bench"}}"#
        return Response(status: .unauthorized, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    private func lookUp(_ id: String, authorization: String?) -> Response {
        if let refusal = Self.refused(authorization) { return refusal }
        guard let file = BenchMediaFile(mediaID: id), let digest = digests.withLock({ $0[file] }) else {
            let body = #"{"error":{"message":"Unsupported get request.","type":"GraphMethodException","code":100,"error_subcode":33,"fbtrace_id":"bench"}}"#
            return Response(status: .badRequest, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        let body = #"{"messaging_product":"whatsapp","url":"http://127.0.0.1:\#(port)/download/\#(id)","mime_type":"\#(file.mimeType)","sha256":"\#(digest)","file_size":"\#(file.size)","id":"\#(id)"}"#
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    private func download(_ id: String, authorization: String?) -> Response {
        if let refusal = Self.refused(authorization) { return refusal }
        guard let file = BenchMediaFile(mediaID: id) else { return Response(status: .notFound) }
        return Response(status: .ok, headers: [.contentType: file.mimeType], body: ResponseBody(contentLength: file.size) { [self] writer in
            var offset = 0
            while offset < file.size {
                let count = min(65_536, file.size - offset)
                try await writer.write(ByteBuffer(bytes: file.bytes(offset: offset, count: count)))
                offset += count
                self.served.add(count, ordering: .relaxed)
            }
            try await writer.finish(nil)
        })
    }
}
