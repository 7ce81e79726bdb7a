import Postgres

/// libpq's reading of a connection string, for configuration checks.
enum ConnectionStringInspector {
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    static func keywords(_ connectionString: String) throws(Invalid) -> [String: String] {
        do {
            return try PostgresConnectionConfiguration.parse(connectionString)
        } catch PostgresError.connectionFailed(let message) {
            throw Invalid(description: message)
        } catch {
            throw Invalid(description: "\(error)")
        }
    }
}
