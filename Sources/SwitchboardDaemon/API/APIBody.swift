import Hummingbird
import JSON

/// A request's JSON object body, with typed access that names the field when it is wrong.
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

    func string(_ field: String) throws -> String {
        guard let value = try optionalString(field) else { throw APIFailure.invalid(field, "required") }
        return value
    }

    func optionalString(_ field: String) throws -> String? {
        switch object[field] {
        case nil, .null?: return nil
        case .string(let text)?:
            guard !text.isEmpty else { throw APIFailure.invalid(field, "must not be empty") }
            return text
        default: throw APIFailure.invalid(field, "must be a string")
        }
    }

    func optionalStrings(_ field: String) throws -> [String]? {
        switch object[field] {
        case nil, .null?: return nil
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
        let value = try string(field)
        guard allowed.contains(value) else { throw APIFailure.invalid(field, "one of \(allowed.joined(separator: ", ")), got \"\(value)\"") }
        return value
    }
}
