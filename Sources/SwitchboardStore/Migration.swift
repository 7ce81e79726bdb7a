import COpenSSL
import Foundation

/// One numbered SQL file of the schema's history.
public struct Migration: Sendable, Equatable {
    public let version: Int
    /// The file name, `0001_schemas.sql`.
    public let fileName: String
    public let sql: String
    /// Hex SHA-256 of the file's bytes; an applied migration's file must never change.
    public let checksum: String

    public init(version: Int, fileName: String, sql: String) {
        self.version = version
        self.fileName = fileName
        self.sql = sql
        self.checksum = Self.sha256Hex(Array(sql.utf8))
    }

    /// Whether a database that recorded `checksum` applied this file: its bytes now, or a release of
    /// it that differed only in comments (`earlierReleases`).
    public func accepts(recordedChecksum: String) -> Bool {
        recordedChecksum == checksum || (Self.earlierReleases[fileName] ?? []).contains(recordedChecksum)
    }

    /// Checksums under which a file was also released, each differing from the file only in SQL
    /// comments. Never add one for a change to what the SQL does: that is a new migration.
    static let earlierReleases: [String: Set<String>] = [
        // A release edited a column comment of the outbox after 0003 had shipped; the shipped text is
        // back, and databases migrated by that release are accepted too.
        "0003_outbox_and_alerts.sql": ["050c7963692dc9251bd7bfcbe4160f11e985c2ee3f5651fc0e857655d8613cb8"],
    ]

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBufferPointer { input in
            EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha256(), nil)
        }
        precondition(ok == 1, "libcrypto could not compute SHA-256")
        return digest.prefix(Int(length)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

/// The migrations shipped with this build, as resources of this module.
public enum MigrationCatalog {
    public enum Failure: Error, CustomStringConvertible {
        case missingResources
        case badFileName(String)
        case duplicateVersion(Int, String, String)

        public var description: String {
            switch self {
            case .missingResources: return "the migration files are missing from this installation (SwitchboardStore resources)"
            case .badFileName(let name): return "migration file \(name) is not named NNNN_name.sql"
            case .duplicateVersion(let v, let a, let b): return "migrations \(a) and \(b) share version \(v)"
            }
        }
    }

    /// The bundled migrations in version order.
    public static func bundled() throws -> [Migration] {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Migrations") else {
            throw Failure.missingResources
        }
        return try load(from: directory)
    }

    /// Reads `NNNN_name.sql` files from a directory in version order.
    public static func load(from directory: URL) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        } catch {
            throw Failure.missingResources
        }
        var byVersion: [Int: Migration] = [:]
        for name in names {
            guard name.range(of: #"^[0-9]{4}_[a-z0-9_]+\.sql$"#, options: .regularExpression) != nil,
                  let version = Int(name.prefix(4))
            else { throw Failure.badFileName(name) }
            let sql = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            if let existing = byVersion[version] {
                throw Failure.duplicateVersion(version, existing.fileName, name)
            }
            byVersion[version] = Migration(version: version, fileName: name, sql: sql)
        }
        return byVersion.values.sorted { $0.version < $1.version }
    }
}
