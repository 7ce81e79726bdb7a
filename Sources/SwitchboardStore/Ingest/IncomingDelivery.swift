import Foundation
import SwitchboardCore

/// One webhook delivery as the store writes it: the raw body and what was read from it.
public struct IncomingDelivery: Sendable {
    public var body: [UInt8]
    public var messages: [IncomingMessage]
    public var statuses: [IncomingStatus]
    /// Why (part of) the body could not be read; nil when all of it was.
    public var decodeProblem: String?
    /// When Switchboard received it (its own clock).
    public var receivedAt: Date

    public init(body: [UInt8], messages: [IncomingMessage], statuses: [IncomingStatus], decodeProblem: String?, receivedAt: Date) {
        self.body = body
        self.messages = messages
        self.statuses = statuses
        self.decodeProblem = decodeProblem
        self.receivedAt = receivedAt
    }
}

/// What storing a delivery did.
public struct IngestResult: Sendable, Equatable {
    /// A message stored for the first time, and where it went.
    public struct StoredMessage: Sendable, Equatable {
        public var wamid: String
        public var messageID: Int64
        public var ticketID: Int64
        public var ticketReference: String
        /// How threading placed it.
        public var threading: TicketThreading.Decision
        /// Whether the customer waits for an answer to it (`TicketThreading.asksForAnswer`).
        public var asksForAnswer: Bool = true
        /// Sent by the business from the WhatsApp Business app.
        public var isEcho: Bool = false
        /// An echo that says something (`ConversationTurn`): an answer, for the SLA clocks.
        public var answersCustomer: Bool = false

        public init(wamid: String, messageID: Int64, ticketID: Int64, ticketReference: String, threading: TicketThreading.Decision,
                    asksForAnswer: Bool = true, isEcho: Bool = false, answersCustomer: Bool = false) {
            self.wamid = wamid
            self.messageID = messageID
            self.ticketID = ticketID
            self.ticketReference = ticketReference
            self.threading = threading
            self.asksForAnswer = asksForAnswer
            self.isEcho = isEcho
            self.answersCustomer = answersCustomer
        }
    }

    public var deliveryID: Int64
    public var stored: [StoredMessage] = []
    /// Messages already stored by an earlier (or concurrent) delivery: no-ops.
    public var duplicates: [String] = []
    /// Statuses recorded for the first time.
    public var statusesRecorded: Int = 0
    /// Echoes from the business app to a customer with no ticket on that number: kept in the raw
    /// delivery only (no conversation of the support team to put them on).
    public var unplacedEchoes: [String] = []
    /// Our messages whose delivery status moved forward (sent, delivered, read, failed).
    public var statusChanges: [StatusChange] = []

    public struct StatusChange: Sendable, Equatable {
        public var messageID: Int64
        public var ticketID: Int64
        public var status: String

        public init(messageID: Int64, ticketID: Int64, status: String) {
            self.messageID = messageID
            self.ticketID = ticketID
            self.status = status
        }
    }
}
