import Foundation
import JSON
import Testing
import WhatsApp

@Suite("JSON parser and writer")
struct JSONParserTests {
    /// Foundation's decoder is the reference: every fixture reads the same both ways, and writing then
    /// reading again gives the same value.
    @Test func everyFixtureReadsAsFoundationReadsIt() throws {
        let files = try Fixtures.webhookFiles()
        try #require(!files.isEmpty)
        for file in files {
            let bytes = try Fixtures.bytes(file)
            let ours = try JSONParser.parse(bytes)
            let reference = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
            #expect(ours == reference, "\(file.lastPathComponent)")
            #expect(try JSONParser.parse(Array(ours.jsonText.utf8)) == ours, "\(file.lastPathComponent) after writing")
            let reread = try JSONSerialization.jsonObject(with: Data(ours.jsonText.utf8)) as? [String: Any]
            #expect(reread != nil, "Foundation reads what we write: \(file.lastPathComponent)")
        }
    }

    /// The pretty form (switchboardctl --json): keys sorted, two-space indent, and the same value.
    @Test func thePrettyFormIsSortedIndentedAndReadsBackTheSame() throws {
        let value: JSONValue = ["b": [1, "two", ["x": true]], "a": .null, "c": [:], "d": []]
        #expect(JSONWriter.pretty(value) == """
            {
              "a" : null,
              "b" : [
                1,
                "two",
                {
                  "x" : true
                }
              ],
              "c" : {},
              "d" : []
            }
            """)
        #expect(try JSONParser.parse(Array(JSONWriter.pretty(value).utf8)) == value)
        for file in try Fixtures.webhookFiles() {
            let parsed = try JSONParser.parse(try Fixtures.bytes(file))
            #expect(try JSONParser.parse(Array(JSONWriter.pretty(parsed).utf8)) == parsed, "\(file.lastPathComponent)")
        }
    }

    @Test func escapesAndUnicode() throws {
        let text = #"{"a":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n\t","b":"ünïcødé 😀","c":[1,-2.5,3e2,0,-0.125E-1],"d":[true,false,null],"e":{}}"#
        let value = try JSONParser.parse(Array(text.utf8))
        #expect(value["a"]?.string == "café 😀 \"q\" \\ / \n\t")
        #expect(value["b"]?.string == "ünïcødé 😀")
        #expect(value["c"] == .array([.number(1), .number(-2.5), .number(300), .number(0), .number(-0.0125)]))
        #expect(value["d"] == .array([.bool(true), .bool(false), .null]))
        #expect(value["e"] == .object([:]))
        #expect(try JSONParser.parse(Array(value.jsonText.utf8)) == value)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "[1 2]", "tru", "nul", "01", "1.", "-", "1e", "\"abc", "\"\\x\"", "\"\\u12\"",
        "\"\\ud800\"", "\"\\udc00\"", "{\"a\":1}x", "[\"a\u{01}\"]", "{1:2}", "1e999",
    ])
    func invalidTextIsAnErrorWithAnOffset(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = Array(repeating: UInt8(ascii: "["), count: 1_000_000)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
        let fine = Array((String(repeating: "[", count: 500) + String(repeating: "]", count: 500)).utf8)
        #expect((try? JSONParser.parse(fine)) != nil)
    }

    @Test(arguments: 0..<30)
    func randomValuesSurviveWritingAndReading(seed: Int) throws {
        var random = SplitMix(state: UInt64(seed) &* 7919 &+ 17)
        let value = Self.randomValue(depth: 0, random: &random)
        let text = value.jsonText
        #expect(try JSONParser.parse(Array(text.utf8)) == value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) == value)
    }

    static func randomValue(depth: Int, random: inout SplitMix) -> JSONValue {
        let pick = depth > 4 ? Int(random.next() % 4) : Int(random.next() % 6)
        switch pick {
        case 0: return .null
        case 1: return .bool(random.next() % 2 == 0)
        case 2: return .number(Double(Int64(bitPattern: random.next()) % 1_000_000) / Double(1 + random.next() % 1000))
        case 3:
            let alphabet = Array("aé😀\"\\/\n\t\u{01}z 9")
            return .string(String((0..<Int(random.next() % 12)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }))
        case 4: return .array((0..<Int(random.next() % 5)).map { _ in randomValue(depth: depth + 1, random: &random) })
        default:
            var members: [String: JSONValue] = [:]
            for index in 0..<Int(random.next() % 5) { members["k\(index)\u{e9}"] = randomValue(depth: depth + 1, random: &random) }
            return .object(members)
        }
    }
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
