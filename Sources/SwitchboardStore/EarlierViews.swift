import Foundation

/// The views of one schema as the migrations before a given version left them, created again under
/// another schema of the same database, so a rewrite of those views can be compared with what they
/// answered before, on the same rows (the BI benchmark and the tests of migration 0016 both do so).
public struct EarlierViews: Sendable {
    /// Each view's last definition before `version`, in the order the views were first created (a
    /// view that reads another comes after it), written as `CREATE OR REPLACE VIEW` on `schema`.
    public let definitions: [(view: String, sql: String)]
    public let schema: String
    public let copySchema: String

    public enum Failure: Error, CustomStringConvertible {
        case noViews(schema: String, before: Int)
        public var description: String {
            switch self {
            case .noViews(let schema, let version): return "no views of schema \(schema) in the migrations before \(version)"
            }
        }
    }

    /// Reads the statements `CREATE [OR REPLACE] VIEW schema.name` of the migrations before `version`
    /// (statements end with `;` at the end of a line, as every migration of this repository writes them).
    public init(schema: String = "bi", before version: Int, in migrations: [Migration], copySchema: String) throws {
        var order: [String] = []
        var latest: [String: String] = [:]
        for migration in migrations where migration.version < version {
            for statement in migration.sql.components(separatedBy: ";\n") {
                let code = statement.split(separator: "\n", omittingEmptySubsequences: false)
                    .drop { $0.trimmingCharacters(in: .whitespaces).isEmpty || $0.hasPrefix("--") }
                    .joined(separator: "\n")
                guard let prefix = ["CREATE VIEW \(schema).", "CREATE OR REPLACE VIEW \(schema)."].first(where: { code.hasPrefix($0) }),
                      let name = code.dropFirst(prefix.count).split(separator: " ").first.map(String.init)
                else { continue }
                if latest[name] == nil { order.append(name) }
                latest[name] = "CREATE OR REPLACE VIEW \(schema)." + code.dropFirst(prefix.count)
            }
        }
        guard !order.isEmpty else { throw Failure.noViews(schema: schema, before: version) }
        self.schema = schema
        self.copySchema = copySchema
        self.definitions = order.compactMap { name in latest[name].map { (name, $0) } }
    }

    /// The same SQL reading the earlier views: every `schema.` that is not the tail of a longer name
    /// becomes `copySchema.` (views that read each other then read the earlier ones too).
    public func onEarlierViews(_ sql: String) -> String {
        sql.replacingOccurrences(of: "(?<![A-Za-z0-9_.])\(schema)\\.", with: "\(copySchema).", options: .regularExpression)
    }

    /// The statements that create the copy: the schema, then every view, with the migrations' own
    /// search path (their tables are named without a schema).
    public func creationScript(tablesSchema: String = "switchboard") -> String {
        (["CREATE SCHEMA \(copySchema);", "SET search_path = \(tablesSchema);"]
            + definitions.map { onEarlierViews($0.sql) + ";" }
            + ["RESET search_path;"]).joined(separator: "\n")
    }
}
