import Foundation
import Postgres
import SwitchboardStore

/// The same bytes as the daemon's main run written to PostgreSQL without the daemon: by `psql`
/// (`COPY` in binary and in text with hex bytea, `\lo_import` one file per transaction) and by this
/// repository's client (one `INSERT` per chunk, as the fetcher writes, without HTTP). Each into a
/// fresh table shaped like `media_chunks` (or large objects), timed, with its growth and WAL.
enum MediaStorageBaseline {
    struct Row {
        let how: String
        let transactions: String
        let seconds: Double
        let bytes: Int
        let growth: Int
        let wal: Int

        var megabytesPerSecond: Double { Double(bytes) / 1e6 / seconds }
        var growthPerByte: Double { Double(growth) / Double(bytes) }
        var walPerByte: Double { Double(wal) / Double(bytes) }
    }

    static func run(cluster: EmbeddedPostgres, files: [BenchMediaFile], directory: String, connections: Int) async throws -> [Row] {
        try await cluster.createDatabaseIfMissing("baseline")
        let conninfo = cluster.connectionString(database: "baseline")
        let psql = try locatePsql()
        let connection = try await PostgresConnection.connect(.init(connectionString: conninfo))
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS chunks (media_id bigint NOT NULL, seq integer NOT NULL, bytes bytea NOT NULL, PRIMARY KEY (media_id, seq))
            """)
        try await connection.query("ALTER TABLE chunks ALTER COLUMN bytes SET STORAGE EXTERNAL")
        let total = files.reduce(0) { $0 + $1.size }
        let work = directory + "/baseline-files"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try writeFiles(files, to: work)

        func measured(_ how: String, _ transactions: String, relations: [String], _ body: () async throws -> Void) async throws -> Row {
            let sizes = relations.map { "pg_total_relation_size('\($0)')" }.joined(separator: " + ")
            let before = try await connection.query("SELECT (\(sizes))::bigint, pg_current_wal_lsn()::text").first
            let sizeBefore = try before?.decode(0, as: Int64.self) ?? 0, lsn = try before?.decode(1, as: String.self) ?? "0/0"
            let start = ContinuousClock.now
            try await body()
            let seconds = (ContinuousClock.now - start).seconds
            let after = try await connection.query("SELECT (\(sizes))::bigint, pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)::bigint", [lsn]).first
            return Row(how: how, transactions: transactions, seconds: seconds, bytes: total, growth: Int((try after?.decode(0, as: Int64.self) ?? 0) - sizeBefore),
                       wal: Int(try after?.decode(1, as: Int64.self) ?? 0))
        }
        func psqlRun(_ arguments: [String]) async throws {
            let output = try await ChildCommand.run(psql, [conninfo, "-X", "-q", "-v", "ON_ERROR_STOP=1"] + arguments)
            guard output.status == 0 else { throw PgBench.Failure(description: "psql exited with \(output.status): \(output.stderr.suffix(500))") }
        }
        let chunkCount = files.reduce(0) { $0 + ($1.size + MediaStore.chunkSize - 1) / MediaStore.chunkSize }
        var rows: [Row] = []
        try await connection.query("TRUNCATE chunks")
        rows.append(try await measured("psql COPY FROM STDIN (FORMAT binary), one COPY", "1", relations: ["chunks"]) {
            try await psqlRun(["-c", "\\copy chunks FROM '\(work)/chunks.bin' WITH (FORMAT binary)"])
        })
        try await connection.query("TRUNCATE chunks")
        rows.append(try await measured("psql COPY FROM STDIN (text, bytea as hex), one COPY", "1", relations: ["chunks"]) {
            try await psqlRun(["-c", "\\copy chunks FROM '\(work)/chunks.txt'"])
        })
        try await connection.query("TRUNCATE chunks")
        rows.append(try await measured("psql \\lo_import, a file per transaction", "\(files.count)",
                                       relations: ["pg_largeobject", "pg_largeobject_metadata"]) {
            try await psqlRun(["-f", "\(work)/lo_import.sql"])
        })
        let pool = PostgresPool(configuration: .init(connection: .init(connectionString: conninfo), size: connections))
        rows.append(try await measured("this client: INSERT per 256 KiB chunk (bytea as hex text), \(connections) connections", "\(chunkCount)",
                                       relations: ["chunks"]) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<connections {
                    group.addTask {
                        for file in files where file.number % connections == lane {
                            var seq = 0, offset = 0
                            while offset < file.size {
                                let count = min(MediaStore.chunkSize, file.size - offset)
                                try await pool.query("INSERT INTO chunks (media_id, seq, bytes) VALUES ($1, $2, $3)",
                                                     [Int64(1_000_000 + file.number), seq, PostgresBytes(file.bytes(offset: offset, count: count))])
                                seq += 1
                                offset += count
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        })
        await pool.close()
        await connection.close()
        return rows
    }

    /// The COPY files (binary and text) and one file per image for `\lo_import`, with its script.
    private static func writeFiles(_ files: [BenchMediaFile], to work: String) throws {
        _ = FileManager.default.createFile(atPath: work + "/chunks.bin", contents: nil)
        _ = FileManager.default.createFile(atPath: work + "/chunks.txt", contents: nil)
        let binary = try FileHandle(forWritingTo: URL(fileURLWithPath: work + "/chunks.bin"))
        let text = try FileHandle(forWritingTo: URL(fileURLWithPath: work + "/chunks.txt"))
        defer {
            try? binary.close()
            try? text.close()
        }
        func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
        try binary.write(contentsOf: Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + bigEndian(Int32(0)) + bigEndian(Int32(0)))
        let hexDigits = Array("0123456789abcdef".utf8)
        var script = ""
        for file in files {
            let path = work + "/file-\(file.number)"
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let single = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            var seq = 0, offset = 0
            while offset < file.size {
                let count = min(MediaStore.chunkSize, file.size - offset)
                let bytes = file.bytes(offset: offset, count: count)
                try single.write(contentsOf: bytes)
                let id = Int64(1_000_000 + file.number)
                try binary.write(contentsOf: bigEndian(Int16(3)) + bigEndian(Int32(8)) + bigEndian(id) + bigEndian(Int32(4)) + bigEndian(Int32(seq))
                    + bigEndian(Int32(count)) + bytes)
                var line = Array("\(id)\t\(seq)\t\\\\x".utf8)
                line.reserveCapacity(line.count + count * 2 + 1)
                for byte in bytes {
                    line.append(hexDigits[Int(byte >> 4)])
                    line.append(hexDigits[Int(byte & 0x0F)])
                }
                line.append(UInt8(ascii: "\n"))
                try text.write(contentsOf: line)
                seq += 1
                offset += count
            }
            try single.close()
            script += "\\lo_import '\(path)'\n"
        }
        try binary.write(contentsOf: bigEndian(Int16(-1)))
        try script.write(toFile: work + "/lo_import.sql", atomically: true, encoding: .utf8)
    }

    /// What turning the main run's chunks into text parameters costs this client (hex, then the
    /// C string libpq is given), without any I/O.
    static func hexEncodingCost(files: [BenchMediaFile]) -> (seconds: Double, secondsPerMB: Double) {
        let chunks = files.prefix(50).flatMap { file in
            stride(from: 0, to: file.size, by: MediaStore.chunkSize).map { file.bytes(offset: $0, count: min(MediaStore.chunkSize, file.size - $0)) }
        }
        let sample = chunks.reduce(0) { $0 + $1.count }
        let start = ContinuousClock.now
        for chunk in chunks {
            let text = PostgresBytes(chunk).postgresParameter.text
            free(strdup(text))
        }
        let seconds = (ContinuousClock.now - start).seconds
        let perMB = seconds / (Double(sample) / 1e6)
        let total = files.reduce(0) { $0 + $1.size }
        return (perMB * Double(total) / 1e6, perMB)
    }

    static func locatePsql() throws -> String {
        var candidates = ["/usr/bin/psql", "/usr/local/bin/psql"]
        if let bin = try? EmbeddedPostgres.binDirectory(configured: nil) { candidates.insert(bin + "/psql", at: 0) }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw PgBench.Failure(description: "psql not found; install the Debian package postgresql-client (or postgresql)")
        }
        return found
    }
}
