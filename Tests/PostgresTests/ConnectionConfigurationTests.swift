import Postgres
import Testing

/// How long a connection may take to be established: the configuration's value, else the
/// connection string's `connect_timeout`, else 5 seconds.
@Suite("Connection configuration")
struct ConnectionConfigurationTests {
    @Test func theConnectTimeoutComesFromTheConfigurationThenTheStringThenTheDefault() {
        #expect(PostgresConnectionConfiguration(connectionString: "host=/tmp dbname=x").effectiveConnectTimeoutSeconds == 5)
        #expect(PostgresConnectionConfiguration(connectionString: "host=/tmp dbname=x connect_timeout=30").effectiveConnectTimeoutSeconds == 30)
        #expect(PostgresConnectionConfiguration(connectionString: "postgresql:///x?host=/tmp&connect_timeout=12").effectiveConnectTimeoutSeconds == 12)
        #expect(PostgresConnectionConfiguration(connectionString: "host=/tmp connect_timeout=30", connectTimeoutSeconds: 2).effectiveConnectTimeoutSeconds == 2)
    }
}
