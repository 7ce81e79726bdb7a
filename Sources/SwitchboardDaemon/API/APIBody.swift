import Hummingbird
import JSON
import SwitchboardCore

/// A request's JSON object body, with typed access that names the field when it is wrong. What it
/// accepts is what `docs/openapi.json` declares: a field the call does not take, a null, an empty
/// or blank string where text is needed, is refused (400 naming it), never silently ignored.
struct APIBody: Sendable {
    static let maxBytes = 64 * 1024
    let object: JSONValue

    static func read(_ request: Request) async throws -> APIBody {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch {
            throw APIFailure(status: .contentTooLarge, code: "too_large", message: "the body is larger than \(maxBytes) bytes")
        }
        guard buffer.readableBytes > 0 else { throw APIFailure.invalid("body", "a JSON object is needed") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(buffer.readableBytesView)
        } catch {
            throw APIFailure.invalid("body", "not JSON: \(error)")
        }
        guard value.isObject else { throw APIFailure.invalid("body", "a JSON object is needed") }
        return APIBody(object: value)
    }

    /// Refuses a field this call does not take (the first in name order, so the answer is stable).
    func only(_ fields: Set<String>) throws {
        guard case .object(let members) = object else { return }
        if let unknown = members.keys.sorted().first(where: { !fields.contains($0) }) {
            throw APIFailure.invalid(unknown, "not a field of this call (it takes \(fields.sorted().joined(separator: ", ")))")
        }
    }

    func string(_ field: String) throws -> String {
        guard let value = try optionalString(field) else { throw APIFailure.invalid(field, "required") }
        return value
    }

    /// Absent is nil; present, it must be a non-empty string (null is not a string).
    func optionalString(_ field: String) throws -> String? {
        switch object[field] {
        case nil: return nil
        case .string(let text)?:
            guard !text.isEmpty else { throw APIFailure.invalid(field, "must not be empty") }
            return text
        default: throw APIFailure.invalid(field, "must be a string")
        }
    }

    /// Text for people (notes, replies): at most `limit` characters as JSON Schema counts them
    /// (Unicode code points, `maxLength`), and not blank (`pattern: \S`, ECMAScript's whitespace).
    func text(_ field: String, limit: Int) throws -> String {
        let text = try string(field)
        guard text.unicodeScalars.count <= limit else { throw APIFailure.invalid(field, "at most \(limit) characters") }
        guard text.unicodeScalars.contains(where: { !APIText.isWhitespace($0) }) else { throw APIFailure.invalid(field, "must not be blank") }
        return text
    }

    func optionalBool(_ field: String) throws -> Bool? {
        switch object[field] {
        case nil: return nil
        case .bool(let value)?: return value
        default: throw APIFailure.invalid(field, "must be true or false")
        }
    }

    func optionalStrings(_ field: String) throws -> [String]? {
        switch object[field] {
        case nil: return nil
        case .array(let values)?:
            return try values.map { value in
                guard let text = value.string else { throw APIFailure.invalid(field, "must be a list of strings") }
                return text
            }
        default: throw APIFailure.invalid(field, "must be a list of strings")
        }
    }

    /// One of the allowed words.
    func choice(_ field: String, _ allowed: [String]) throws -> String {
        guard let value = object[field] else { throw APIFailure.invalid(field, "required") }
        guard let text = value.string, allowed.contains(text) else {
            throw APIFailure.invalid(field, "one of \(allowed.joined(separator: ", ")), got \(JSONWriter.write(value))")
        }
        return text
    }
}

/// Text rules shared by bodies and query strings, written as the OpenAPI document's schemas say them.
enum APIText {
    /// ECMAScript's `\s` (what a JSON Schema `pattern` means by whitespace): the core's rule.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool { TagRule.isWhitespace(scalar) }
}
