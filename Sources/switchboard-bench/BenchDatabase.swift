import Foundation
import Logging
import Postgres

/// The database a benchmark runs against: an external one named on the command line, or a throwaway
/// embedded cluster (the same launcher the daemon and the tests use).
struct BenchDatabase {
    let connectionString: String
    /// Arguments that point `pgbench` and `psql` at the same database.
    let clientArguments: [String]
    let embedded: EmbeddedPostgres?
    let directory: String?

    static func open(url: String?, settings: [String: String]) async throws -> BenchDatabase {
        let logger = Logger(label: "bench")
        if let url {
            return BenchDatabase(connectionString: url, clientArguments: [url], embedded: nil, directory: nil)
        }
        let directory = "/tmp/sbbench-\(getpid())"
        var configuration = EmbeddedPostgres.Configuration(directory: directory)
        configuration.settings = settings
        let cluster = EmbeddedPostgres(configuration: configuration, logger: logger)
        try await cluster.start()
        let conninfo = cluster.connectionString()
        return BenchDatabase(connectionString: conninfo, clientArguments: [conninfo], embedded: cluster, directory: directory)
    }

    func close() async {
        await embedded?.stop()
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }
}
