import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Postgres
import SwitchboardStore
import WhatsApp

/// `GET` and `POST /webhooks/whatsapp`: the subscription handshake, and deliveries acknowledged only
/// once what they carried is committed.
public struct WebhookEndpoint: Sendable {
    /// Meta sends at most 3 MB per delivery.
    public static let maxBodyBytes = 3 * 1024 * 1024

    let signature: WebhookSignature
    let verifyToken: String
    let ingestor: WebhookIngestor
    let logger: Logger
    let now: @Sendable () -> Date
    let metrics: SwitchboardMetrics?

    public init(appSecret: String, verifyToken: String, ingestor: WebhookIngestor, logger: Logger, metrics: SwitchboardMetrics? = nil,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.metrics = metrics
        self.signature = WebhookSignature(appSecret: appSecret)
        self.verifyToken = verifyToken
        self.ingestor = ingestor
        self.logger = logger
        self.now = now
    }

    func handshake(_ request: Request) -> Response {
        let query = request.uri.queryParameters
        switch WebhookSubscription.answer(
            mode: query["hub.mode"].map(String.init), token: query["hub.verify_token"].map(String.init),
            challenge: query["hub.challenge"].map(String.init), expectedToken: verifyToken
        ) {
        case .accept(let challenge):
            logger.notice("webhook subscription verified")
            return Self.plain(.ok, challenge)
        case .reject(let reason):
            logger.warning("webhook subscription refused", metadata: ["reason": "\(reason)"])
            return Self.plain(.forbidden, "forbidden: \(reason)\n")
        }
    }

    func receive(_ request: Request, context: some RequestContext) async throws -> Response {
        let receivedAt = now()
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maxBodyBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            logger.warning("webhook body over 3 MB refused")
            metrics?.webhookDelivery(.tooLarge)
            return Self.plain(.contentTooLarge, "body larger than \(Self.maxBodyBytes) bytes\n")
        }
        let body = Array(buffer.readableBytesView)
        do {
            try signature.verify(header: request.headers[Self.signatureHeader], body: body)
        } catch {
            logger.warning("webhook refused", metadata: ["reason": "\(error)", "bytes": "\(body.count)"])
            metrics?.webhookDelivery(.badSignature)
            return Self.plain(.unauthorized, "unauthorized: \(error)\n")
        }
        let delivery: IncomingDelivery
        do {
            let batch = try WebhookDecoder.decode(body)
            delivery = IncomingDelivery(
                body: body,
                messages: batch.messages.map(IncomingMapping.message),
                statuses: batch.statuses.map(IncomingMapping.status),
                decodeProblem: batch.skipped.isEmpty ? nil : batch.skipped.joined(separator: "; "),
                receivedAt: receivedAt
            )
            for skipped in batch.skipped { logger.warning("webhook element skipped", metadata: ["element": "\(skipped)"]) }
            for change in batch.otherChanges where change.field != "messages" {
                logger.info("webhook change of another field stored raw", metadata: ["field": "\(change.field)"])
            }
        } catch {
            // Signed but unreadable: keep the bytes for a later fix and acknowledge, because Meta's
            // retry would bring the same bytes.
            logger.error("signed webhook body could not be decoded; stored raw", metadata: ["reason": "\(error)", "bytes": "\(body.count)"])
            delivery = IncomingDelivery(body: body, messages: [], statuses: [], decodeProblem: "\(error)", receivedAt: receivedAt)
        }
        do {
            let result = try await ingestor.submit(delivery)
            logger.debug("webhook committed", metadata: [
                "delivery": "\(result.deliveryID)", "stored": "\(result.stored.count)", "duplicates": "\(result.duplicates.count)",
                "statuses": "\(result.statusesRecorded)",
            ])
            for wamid in result.unplacedEchoes {
                logger.notice("an echo of the business app to a customer with no ticket on this number: kept raw", metadata: ["wamid": "\(wamid)"])
            }
            metrics?.webhookDelivery(delivery.decodeProblem == nil || !(delivery.messages.isEmpty && delivery.statuses.isEmpty) ? .stored : .storedRaw)
            return Self.plain(.ok, "ok\n")
        } catch let error as PostgresError where error.isConnectionProblem || Self.isPoolTimeout(error) {
            logger.error("webhook not stored: database unavailable; Meta will retry", metadata: ["error": "\(error)"])
            metrics?.webhookDelivery(.failed)
            var response = Self.plain(.serviceUnavailable, "database unavailable; retry later\n")
            response.headers[.retryAfter] = "5"
            return response
        } catch {
            logger.error("webhook not stored; Meta will retry", metadata: ["error": "\(error)"])
            metrics?.webhookDelivery(.failed)
            return Self.plain(.internalServerError, "not stored; retry later\n")
        }
    }

    static let signatureHeader: HTTPField.Name = {
        guard let name = HTTPField.Name("X-Hub-Signature-256") else { preconditionFailure("a valid header name") }
        return name
    }()

    private static func isPoolTimeout(_ error: PostgresError) -> Bool {
        if case .poolTimeout = error { return true }
        return false
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
