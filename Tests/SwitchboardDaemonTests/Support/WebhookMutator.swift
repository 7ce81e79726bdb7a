import Foundation
import JSON
import SwitchboardCore

/// Seeded mutations of WhatsApp webhook bodies, for the fuzzer: bytes flipped, keys deleted, values
/// of the wrong type, huge numbers, deep nesting, NUL characters and invalid UTF-8 in strings. The
/// same seed gives the same bodies, so a failure names the seed and the mutation that found it.
struct WebhookMutator {
    /// A JSON document whose strings and numbers are kept as the bytes to write, so a mutation can
    /// put there what no JSON library would write (raw NUL, invalid UTF-8, `1e400`).
    indirect enum Node {
        case literal([UInt8])          // null, true, false, a number
        case string([UInt8])           // the bytes between the quotes, escapes included
        case array([Node])
        case object([(key: [UInt8], value: Node)])
    }

    enum Mutation: String, CaseIterable {
        case flipBytes, deleteKey, wrongType, hugeNumber, deepNesting, nulInAString, nulInEveryString, invalidUTF8, rawControlByte,
             loneSurrogate, longString
    }

    var random: SeededRandom

    init(seed: UInt64) {
        random = SeededRandom(seed: seed)
    }

    /// One mutated body of `document`, and what was done to it.
    mutating func mutate(_ document: Node) -> (body: [UInt8], mutation: Mutation) {
        let mutation = Mutation.allCases.randomElement(using: &random) ?? .flipBytes
        var node = document
        switch mutation {
        case .flipBytes:
            var bytes = Self.write(node)
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            return (bytes, mutation)
        case .deleteKey:
            let objects = Self.paths(in: node) { if case .object(let members) = $0 { !members.isEmpty } else { false } }
            if let path = objects.randomElement(using: &random) {
                node = Self.replacing(node, at: path) { target in
                    guard case .object(var members) = target else { return target }
                    members.remove(at: Int.random(in: 0..<members.count, using: &random))
                    return .object(members)
                }
            }
        case .wrongType:
            let others: [Node] = [.literal(Array("null".utf8)), .literal(Array("true".utf8)), .literal(Array("42".utf8)), .string(Array("text".utf8)),
                                  .array([]), .object([]), .array([.literal(Array("1".utf8)), .string(Array("a".utf8))]),
                                  .object([(Array("x".utf8), .literal(Array("1".utf8)))])]
            node = replaceRandomNode(node) { _, random in others.randomElement(using: &random) ?? .array([]) }
        case .hugeNumber:
            let numbers = ["1e400", "-1e400", "123456789012345678901234567890123", "1.7976931348623157e309", "1e-400", "-0", "9223372036854775808",
                           "18446744073709551616", "0.1e99999"]
            node = replaceRandomNode(node) { _, random in .literal(Array((numbers.randomElement(using: &random) ?? "1e400").utf8)) }
        case .deepNesting:
            let depth = [300, 511, 513, 2_000, 20_000].randomElement(using: &random) ?? 2_000
            let asObjects = Bool.random(using: &random)
            // Written as one literal: a tree this deep would overflow the writer's recursion.
            let open = asObjects ? Array(#"{"a":"#.utf8) : Array("[".utf8)
            let close = asObjects ? Array("}".utf8) : Array("]".utf8)
            let nested = Array([[UInt8]](repeating: open, count: depth).joined()) + Array("1".utf8) + Array([[UInt8]](repeating: close, count: depth).joined())
            node = replaceRandomNode(node) { _, _ in .literal(nested) }
        case .nulInAString:
            node = mutateRandomString(node) { bytes, random in Self.inserting(Array("\\u0000".utf8), into: bytes, using: &random) }
        case .nulInEveryString:
            let alsoKeys = Bool.random(using: &random)
            node = Self.everyString(node, keys: alsoKeys) { $0 + Array("\\u0000".utf8) }
        case .invalidUTF8:
            let sequences: [[UInt8]] = [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xE2, 0x82]]
            node = mutateRandomString(node) { bytes, random in Self.inserting(sequences.randomElement(using: &random) ?? [0xFF], into: bytes, using: &random) }
        case .rawControlByte:
            node = mutateRandomString(node) { bytes, random in Self.inserting([[0x00], [0x01], [0x1B], [0x0A]].randomElement(using: &random) ?? [0], into: bytes, using: &random) }
        case .loneSurrogate:
            node = mutateRandomString(node) { bytes, random in Self.inserting(Array(["\\ud800", "\\udfff", "\\ud83d x"].randomElement(using: &random)!.utf8), into: bytes, using: &random) }
        case .longString:
            node = mutateRandomString(node) { bytes, _ in bytes + Array(repeating: UInt8(ascii: "x"), count: 200_000) }
        }
        return (Self.write(node), mutation)
    }

    // MARK: Choosing and replacing nodes

    private mutating func replaceRandomNode(_ node: Node, with make: (Node, inout SeededRandom) -> Node) -> Node {
        let all = Self.paths(in: node) { _ in true }.filter { !$0.isEmpty }
        guard let path = all.randomElement(using: &random) else { return node }
        return Self.replacing(node, at: path) { make($0, &random) }
    }

    private mutating func mutateRandomString(_ node: Node, _ change: ([UInt8], inout SeededRandom) -> [UInt8]) -> Node {
        let strings = Self.paths(in: node) { if case .string = $0 { true } else { false } }
        guard let path = strings.randomElement(using: &random) else { return node }
        return Self.replacing(node, at: path) { target in
            guard case .string(let bytes) = target else { return target }
            return .string(change(bytes, &random))
        }
    }

    private static func inserting(_ insert: [UInt8], into bytes: [UInt8], using random: inout SeededRandom) -> [UInt8] {
        // Never inside an escape sequence: only before a byte that is not a backslash's follower.
        var positions = [0, bytes.count]
        for index in 1..<max(1, bytes.count) where bytes[index - 1] != UInt8(ascii: "\\") { positions.append(index) }
        let at = positions.randomElement(using: &random) ?? 0
        return Array(bytes[..<at]) + insert + Array(bytes[at...])
    }

    /// Paths (indices into arrays and objects' member lists) of the nodes `matching` accepts.
    static func paths(in node: Node, matching: (Node) -> Bool) -> [[Int]] {
        var found: [[Int]] = []
        func walk(_ node: Node, _ path: [Int]) {
            if matching(node) { found.append(path) }
            switch node {
            case .array(let elements): for (index, element) in elements.enumerated() { walk(element, path + [index]) }
            case .object(let members): for (index, member) in members.enumerated() { walk(member.value, path + [index]) }
            case .literal, .string: break
            }
        }
        walk(node, [])
        return found
    }

    static func replacing(_ node: Node, at path: [Int], _ change: (Node) -> Node) -> Node {
        guard let first = path.first else { return change(node) }
        let rest = Array(path.dropFirst())
        switch node {
        case .array(var elements):
            elements[first] = replacing(elements[first], at: rest, change)
            return .array(elements)
        case .object(var members):
            members[first].value = replacing(members[first].value, at: rest, change)
            return .object(members)
        case .literal, .string:
            return node
        }
    }

    static func everyString(_ node: Node, keys: Bool, _ change: ([UInt8]) -> [UInt8]) -> Node {
        switch node {
        case .string(let bytes): return .string(change(bytes))
        case .literal: return node
        case .array(let elements): return .array(elements.map { everyString($0, keys: keys, change) })
        case .object(let members): return .object(members.map { (keys ? change($0.key) : $0.key, everyString($0.value, keys: keys, change)) })
        }
    }

    // MARK: Reading and writing

    /// Reads a well-formed JSON document (a fixture).
    static func read(_ data: Data) throws -> Node {
        node(try JSONParser.parse(Array(data)))
    }

    private static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: return .literal(Array("null".utf8))
        case .bool(let flag): return .literal(Array((flag ? "true" : "false").utf8))
        case .number(let number):
            let text = number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            return .literal(Array(text.utf8))
        case .string(let string): return .string(escaped(string))
        case .array(let elements): return .array(elements.map(node))
        case .object(let members): return .object(members.keys.sorted().map { (escaped($0), node(members[$0] ?? .null)) })
        }
    }

    /// A string's content as JSON writes it between quotes.
    static func escaped(_ string: String) -> [UInt8] {
        var out: [UInt8] = []
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += Array("\\\"".utf8)
            case "\\": out += Array("\\\\".utf8)
            case "\n": out += Array("\\n".utf8)
            case "\r": out += Array("\\r".utf8)
            case "\t": out += Array("\\t".utf8)
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += Array(("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
                } else {
                    out += Array(String(scalar).utf8)
                }
            }
        }
        return out
    }

    static func write(_ node: Node) -> [UInt8] {
        var out: [UInt8] = []
        func emit(_ node: Node) {
            switch node {
            case .literal(let bytes): out += bytes
            case .string(let bytes): out.append(UInt8(ascii: "\"")); out += bytes; out.append(UInt8(ascii: "\""))
            case .array(let elements):
                out.append(UInt8(ascii: "["))
                for (index, element) in elements.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    emit(element)
                }
                out.append(UInt8(ascii: "]"))
            case .object(let members):
                out.append(UInt8(ascii: "{"))
                for (index, member) in members.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    emit(.string(member.key))
                    out.append(UInt8(ascii: ":"))
                    emit(member.value)
                }
                out.append(UInt8(ascii: "}"))
            }
        }
        emit(node)
        return out
    }
}
