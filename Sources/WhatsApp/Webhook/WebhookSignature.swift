import COpenSSL

/// Checks `X-Hub-Signature-256` — the HMAC-SHA256 of the raw body bytes under the app secret.
///
/// Always over the bytes exactly as received: re-serialized JSON differs (escaped `/`, accents, `@`)
/// and would fail. Compared in constant time.
public struct WebhookSignature: Sendable {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case missing
        case malformed
        case mismatch

        public var description: String {
            switch self {
            case .missing: return "no X-Hub-Signature-256 header"
            case .malformed: return "X-Hub-Signature-256 is not sha256=<64 hex digits>"
            case .mismatch: return "X-Hub-Signature-256 does not match the body"
            }
        }
    }

    private let secret: [UInt8]

    public init(appSecret: String) {
        precondition(!appSecret.isEmpty, "an empty app secret would accept forged webhooks")
        self.secret = Array(appSecret.utf8)
    }

    /// Throws unless `header` is the signature of `body`.
    public func verify(header: String?, body: some Collection<UInt8>) throws(Failure) {
        guard let header else { throw .missing }
        guard header.hasPrefix("sha256="), let expected = Self.hexBytes(header.dropFirst(7)), expected.count == 32 else {
            throw .malformed
        }
        let actual = sign(body)
        let equal = actual.withUnsafeBytes { a in
            expected.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, 32) == 0 }
        }
        guard equal else { throw .mismatch }
    }

    /// The HMAC-SHA256 of `body`.
    public func sign(_ body: some Collection<UInt8>) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let computed: UnsafeMutablePointer<UInt8>? = body.withContiguousStorageIfAvailable { bytes in
            secret.withUnsafeBufferPointer { key in
                HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), bytes.baseAddress, bytes.count, &digest, &length)
            }
        } ?? Array(body).withUnsafeBufferPointer { bytes in
            secret.withUnsafeBufferPointer { key in
                HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), bytes.baseAddress, bytes.count, &digest, &length)
            }
        }
        precondition(computed != nil, "libcrypto could not compute HMAC-SHA256")
        return Array(digest.prefix(Int(length)))
    }

    /// The header value Meta would send for `body` (for tests, the benchmark and the README's curl).
    public func headerValue(for body: some Collection<UInt8>) -> String {
        "sha256=" + sign(body).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    private static func hexBytes(_ text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
