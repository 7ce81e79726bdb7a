import COpenSSL
import Foundation

/// An agent's password as stored: PBKDF2-HMAC-SHA256 (libcrypto) with a random 16-byte salt and
/// OWASP's current cost for it (600,000 iterations), written `pbkdf2-sha256$<iterations>$<salt>$<hash>`
/// in base64, so a later build can raise the cost and still verify what is stored. Hashing takes a
/// good fraction of a second on purpose: call it off the cooperative pool.
public struct PasswordHash: Sendable, Equatable {
    public static let iterations = 600_000
    public let encoded: String

    public init(encoded: String) {
        self.encoded = encoded
    }

    /// Hashes `password` with a new salt (blocking).
    public static func make(_ password: String, iterations: Int = iterations) -> PasswordHash {
        var salt = [UInt8](repeating: 0, count: 16)
        let ok = salt.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
        precondition(ok == 1, "libcrypto's random generator is not seeded")
        let derived = derive(password, salt: salt, iterations: iterations)
        return PasswordHash(encoded: "pbkdf2-sha256$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())")
    }

    /// Whether `password` is the one hashed (blocking; compared in constant time). A stored value
    /// this build cannot read matches nothing.
    public func verify(_ password: String) -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let iterations = Int(parts[1]), (1...10_000_000).contains(iterations),
              let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3])), expected.count == 32 else {
            return false
        }
        let derived = Self.derive(password, salt: Array(salt), iterations: iterations)
        return derived.withUnsafeBytes { a in Array(expected).withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, 32) == 0 } }
    }

    private static func derive(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let length = Int32(password.utf8.count)
        let ok = password.withCString { pass in
            salt.withUnsafeBufferPointer { salt in
                PKCS5_PBKDF2_HMAC(pass, length, salt.baseAddress, Int32(salt.count), Int32(iterations), EVP_sha256(), 32, &out)
            }
        }
        precondition(ok == 1, "libcrypto could not derive a key")
        return out
    }
}
