import Foundation
import Hummingbird
import JSON
import SwitchboardCore
import WhatsApp

/// `POST /api/v1/media?ticket=T-1042[&filename=…]`: an agent's file for a ticket, as the request's
/// body with its type in `Content-Type`. Checked against WhatsApp's types and limits before
/// anything is sent, kept like a customer's file and uploaded to Meta; the answer's `id` is what a
/// reply (`{"type": "media", "media": id}`) carries.
extension AgentAPI {
    func upload(_ caller: APICaller, _ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let reference = query["ticket"].map(String.init) else { throw APIFailure.invalid("ticket", "required: the ticket the file is for") }
        let fileName = query["filename"].map(String.init)
        if let fileName, let problem = Self.fileNameProblem(fileName) { throw APIFailure.invalid("filename", problem) }
        let ticketID = try await ticketID(reference, caller, Permissions.Operation.changeTicket)
        guard let uploads else { throw APIFailure(status: .serviceUnavailable, code: "sending_not_configured", message: ReplyRefusal.sendingNotConfigured.description) }
        let uploaded: MediaUploader.Uploaded
        do {
            uploaded = try await uploads.upload(ticketID: ticketID, agent: caller.agentID, contentType: request.headers[.contentType],
                                                declaredSize: request.headers[.contentLength].flatMap { Int($0) }, fileName: fileName, body: request.body)
        } catch let failure as MediaUploader.Failure {
            throw Self.apiFailure(failure)
        }
        return APIResponse.json(["id": .number(Double(uploaded.id)), "ticket": .string(reference), "kind": .string(uploaded.kind.rawValue),
                                 "mime_type": .string(uploaded.mimeType), "file_name": .string(uploaded.fileName), "size": R.int(uploaded.size),
                                 "sha256": .string(uploaded.sha256Hex), "url": .string("/api/v1/media/\(uploaded.id)")], status: .created)
    }

    private typealias R = APIResponse

    /// A name the customer's phone shows and saves: at most 240 characters, no path, no control characters.
    static func fileNameProblem(_ name: String) -> String? {
        if name.unicodeScalars.count > 240 { return "at most 240 characters" }
        if name.contains("/") || name.contains("\\") { return "a file name, not a path" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "must not contain control characters" }
        if name.allSatisfy(\.isWhitespace) { return "must not be blank" }
        return nil
    }

    static func apiFailure(_ failure: MediaUploader.Failure) -> APIFailure {
        switch failure {
        case .refused(let refusal):
            switch refusal {
            case .missingType, .unsupportedType:
                return APIFailure(status: .unsupportedMediaType, code: "unsupported_media_type", message: refusal.description, field: "Content-Type")
            case .tooLarge:
                return APIFailure(status: .contentTooLarge, code: "too_large", message: refusal.description)
            case .empty:
                return APIFailure.invalid("body", refusal.description)
            }
        case .bodyBroken(let why):
            return APIFailure.invalid("body", "the file broke off before its end: \(why)")
        case .graph(let error):
            switch error.kind {
            case .sendingBlocked:
                return APIFailure(status: .serviceUnavailable, code: "sending_paused", message: "the Graph API refuses the access token: \(error)")
            case .transient, .numberThrottled, .customerThrottled:
                return APIFailure(status: .serviceUnavailable, code: "graph_api_unavailable", message: "the Graph API did not take the file now; try again: \(error)")
            case .outsideCustomerWindow, .permanent:
                return APIFailure(status: .unprocessableContent, code: "media_refused", message: "the Graph API refused the file: \(error)")
            }
        }
    }
}
