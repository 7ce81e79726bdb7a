/// Reads one JSON object of a configuration, key by key, with a typed accessor per key.
///
/// Each accessor checks the value and reports a problem under the key's full path; `finish()` reports
/// every key that no accessor asked for, because an unknown key is usually a misspelt one.
public final class ConfigObject {
    public let path: String
    private let values: [String: ConfigValue]
    private let diagnostics: ConfigDiagnostics
    private var readKeys: Set<String> = []

    /// Reads `value` as an object at `path`; reports a problem and reads as empty if it is not one.
    public init(_ value: ConfigValue, path: String, diagnostics: ConfigDiagnostics) {
        self.path = path
        self.diagnostics = diagnostics
        if case .object(let values) = value {
            self.values = values
        } else {
            self.values = [:]
            diagnostics.report(path, "expected an object, got \(value.shownInError)")
        }
    }

    /// The keys present, for objects whose keys are data (skills, weekdays).
    public var keys: [String] { Array(values.keys) }

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public var diagnosticsSink: ConfigDiagnostics { diagnostics }

    /// The raw value of a key, marking it as known. Nil when absent; JSON null counts as absent.
    public func value(_ key: String) -> ConfigValue? {
        readKeys.insert(key)
        guard let value = values[key], value != .null else { return nil }
        return value
    }

    public func report(_ key: String, _ reason: String) {
        diagnostics.report(keyPath(key), reason)
    }

    public func string(_ key: String, default defaultValue: String, allowEmpty: Bool = false) -> String {
        optionalString(key, allowEmpty: allowEmpty) ?? defaultValue
    }

    public func optionalString(_ key: String, allowEmpty: Bool = false) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else {
            report(key, "expected a string, got \(value.shownInError)")
            return nil
        }
        if !allowEmpty && text.isEmpty {
            report(key, "must not be empty")
            return nil
        }
        return text
    }

    public func integer(_ key: String, in range: ClosedRange<Int>, default defaultValue: Int) -> Int {
        optionalInteger(key, in: range) ?? defaultValue
    }

    public func optionalInteger(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = value(key) else { return nil }
        let expectation = "expected an integer \(range.lowerBound)–\(range.upperBound)"
        guard case .integer(let number) = value else {
            report(key, "\(expectation), got \(value.shownInError)")
            return nil
        }
        guard range.contains(number) else {
            report(key, "\(expectation), got \(number)")
            return nil
        }
        return number
    }

    public func number(_ key: String, in range: ClosedRange<Double>, default defaultValue: Double) -> Double {
        guard let value = value(key) else { return defaultValue }
        let expectation = "expected a number from \(Self.show(range.lowerBound)) to \(Self.show(range.upperBound))"
        let number: Double
        switch value {
        case .integer(let n): number = Double(n)
        case .number(let n): number = n
        default:
            report(key, "\(expectation), got \(value.shownInError)")
            return defaultValue
        }
        guard range.contains(number) else {
            report(key, "\(expectation), got \(Self.show(number))")
            return defaultValue
        }
        return number
    }

    public func bool(_ key: String, default defaultValue: Bool) -> Bool {
        guard let value = value(key) else { return defaultValue }
        guard case .bool(let flag) = value else {
            report(key, "expected true or false, got \(value.shownInError)")
            return defaultValue
        }
        return flag
    }

    /// One of a fixed set of words.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default defaultValue: T) -> T where T.RawValue == String {
        guard let value = value(key) else { return defaultValue }
        let allowed = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        guard case .string(let text) = value, let choice = T(rawValue: text) else {
            report(key, "expected one of \(allowed), got \(value.shownInError)")
            return defaultValue
        }
        return choice
    }

    /// A nested object; nil when the key is absent (or not an object, which is reported).
    public func object(_ key: String) -> ConfigObject? {
        guard let value = value(key) else { return nil }
        return ConfigObject(value, path: keyPath(key), diagnostics: diagnostics)
    }

    /// The elements of an array with their key paths (`key[0]`, `key[1]`, …).
    public func array(_ key: String) -> [(path: String, value: ConfigValue)] {
        guard let value = value(key) else { return [] }
        guard case .array(let elements) = value else {
            report(key, "expected an array, got \(value.shownInError)")
            return []
        }
        return elements.enumerated().map { ("\(keyPath(key))[\($0.offset)]", $0.element) }
    }

    /// Reports keys that were never read, with a suggestion when one is close to a known key.
    public func finish() {
        for key in values.keys.sorted() where !readKeys.contains(key) {
            if let suggestion = readKeys.min(by: { editDistance(key, $0) < editDistance(key, $1) }),
               editDistance(key, suggestion) <= max(1, suggestion.count / 3) {
                diagnostics.report(keyPath(key), "unknown key; did you mean \"\(suggestion)\"?")
            } else {
                let known = readKeys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                diagnostics.report(keyPath(key), "unknown key (known keys here: \(known))")
            }
        }
    }

    private static func show(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }
}

/// Edit distance counting a swap of two neighbouring letters as one edit (optimal string alignment),
/// for "did you mean" suggestions: `prot` is one edit from `port`.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased()), b = Array(b.lowercased())
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[a.count][b.count]
}
