import COpenSSL
import Foundation

/// A bearer secret: an API token (`sbt_`) or a web session's cookie (`sbs_`), and 32 random bytes
/// (libcrypto's CSPRNG) in base64url. Only its SHA-256 is stored; whoever holds the text is the
/// agent it was issued to.
public struct APITokenSecret: Sendable, Equatable {
    public static let prefix = "sbt_"
    public let text: String

    /// A new random token.
    public static func generate(prefix: String = prefix) -> APITokenSecret {
        var bytes = [UInt8](repeating: 0, count: 32)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
        // RAND_bytes fails only if the CSPRNG cannot be seeded: issuing a guessable token is worse than stopping.
        precondition(ok == 1, "libcrypto's random generator is not seeded")
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return APITokenSecret(text: prefix + base64)
    }

    public init(text: String) {
        self.text = text
    }

    /// What is stored and looked up: the SHA-256 of the token's text.
    public var hash: [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let bytes = Array(text.utf8)
        let ok = bytes.withUnsafeBufferPointer { input in
            EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha256(), nil)
        }
        precondition(ok == 1 && length == 32, "libcrypto could not compute SHA-256")
        return Array(digest.prefix(32))
    }
}
