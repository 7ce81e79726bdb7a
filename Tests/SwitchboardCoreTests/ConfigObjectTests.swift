import Foundation
import SwitchboardCore
import Testing

@Suite("Reading configuration objects")
struct ConfigObjectTests {
    private func read(_ json: String, _ body: (ConfigObject) -> Void) -> [String] {
        let diagnostics = ConfigDiagnostics()
        let value = (try? JSONDecoder().decode(ConfigValue.self, from: Data(json.utf8))) ?? .null
        let object = ConfigObject(value, path: "", diagnostics: diagnostics)
        body(object)
        object.finish()
        return diagnostics.issues.map(\.description)
    }

    @Test func wrongTypesNameTheKeyPathAndTheValue() {
        let issues = read(#"{"http": {"port": "80a", "host": 5}, "flag": "yes"}"#) { object in
            if let http = object.object("http") {
                _ = http.integer("port", in: 1...65535, default: 80)
                _ = http.string("host", default: "x")
                http.finish()
            }
            _ = object.bool("flag", default: false)
        }
        #expect(issues == [
            #"http.port: expected an integer 1–65535, got "80a""#,
            "http.host: expected a string, got 5",
            #"flag: expected true or false, got "yes""#,
        ])
    }

    @Test func outOfRangeNumbers() {
        let issues = read(#"{"size": 0, "ratio": 1.5, "big": 1e3}"#) { object in
            _ = object.integer("size", in: 1...200, default: 1)
            _ = object.number("ratio", in: 0...1, default: 0.5)
            _ = object.integer("big", in: 1...10, default: 1)
        }
        #expect(issues == [
            "size: expected an integer 1–200, got 0",
            "ratio: expected a number from 0 to 1, got 1.5",
            "big: expected an integer 1–10, got 1000",  // JSON 1e3 is the integer 1000
        ])
    }

    @Test func unknownKeysAreErrorsWithASuggestion() {
        let issues = read(#"{"prot": 80, "zzzz": 1, "host": "a"}"#) { object in
            _ = object.integer("port", in: 1...65535, default: 80)
            _ = object.string("host", default: "")
        }
        #expect(issues == [
            #"prot: unknown key; did you mean "port"?"#,
            #"zzzz: unknown key (known keys here: "host", "port")"#,
        ])
    }

    @Test func arraysAndNestedPathsAndChoices() {
        enum Mode: String, CaseIterable { case fast, safe }
        let issues = read(#"{"rules": [{"mode": "fast"}, {"mode": "quick"}, 3]}"#) { object in
            for element in object.array("rules") {
                let rule = ConfigObject(element.value, path: element.path, diagnostics: object.diagnosticsSink)
                _ = rule.choice("mode", default: Mode.safe)
                rule.finish()
            }
        }
        #expect(issues == [
            #"rules[1].mode: expected one of "fast", "safe", got "quick""#,
            "rules[2]: expected an object, got 3",
        ])
    }

    @Test func nullMeansAbsentAndEmptyStringsAreRefused() {
        var port = -1
        let issues = read(#"{"port": null, "name": ""}"#) { object in
            port = object.integer("port", in: 1...9, default: 7)
            _ = object.optionalString("name")
        }
        #expect(port == 7)
        #expect(issues == ["name: must not be empty"])
    }

    @Test func secretReferences() {
        var references: [SecretReference?] = []
        let issues = read(#"{"a": {"file": "/run/x"}, "b": {"credential": "db"}, "c": {"file": "x", "credential": "y"}, "d": {}, "e": {"credential": "../etc"}}"#) { object in
            for key in ["a", "b", "c", "d", "e"] {
                references.append(object.object(key).flatMap(SecretReference.read))
            }
        }
        #expect(references == [.file("/run/x"), .credential("db"), nil, nil, nil])
        #expect(issues == [
            #"c: give either "file" or "credential", not both"#,
            #"d: expected {"file": "/path"} or {"credential": "name"}"#,
            #"e.credential: a credential name cannot contain "/""#,
        ])
    }
}
