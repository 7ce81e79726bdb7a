/// The words of `ticket_events.kind`: what happened to a ticket. One vocabulary for the store that
/// writes them, the daemon, the tests and BI (`docs/bi.md` lists what each one's `data` holds).
/// Stored as the raw value; a new kind is a new case here and a new row in `docs/bi.md`, never a
/// renamed one (BI queries name them).
public enum TicketEventKind: String, CaseIterable, Sendable, Codable {
    /// A customer's first message opened the ticket.
    case created
    /// A customer message was added (`data.message_id`, `data.type`).
    case messageReceived = "message_received"
    /// The business sent a message from the WhatsApp Business app on the same number (a
    /// coexistence echo; actor `business_app`; `data.message_id`, `data.type`).
    case messageEchoed = "message_echoed"
    /// Open, pending or resolved changed (`from`, `to`, `by`).
    case statusChanged = "status_changed"
    /// A customer wrote after the ticket was resolved; it returned to routing.
    case reopened
    /// Classified: rule, queue, priority, required skills, tags, language.
    case routed
    /// Given to an agent, by routing or by hand (`agent`, `queue`, `strategy`, `step`, `reason`, `detail`).
    case assigned
    /// Taken back from its agent to its queue (`agent`, `reason`).
    case unassigned
    /// The agent neither accepted nor answered within the queue's acceptance time (`agent`, `reason`).
    case acceptanceMissed = "acceptance_missed"
    /// The ticket's agent accepted the assignment, which stops the acceptance timeout (`agent`,
    /// `assigned_at`, `seconds_after_assignment`).
    case accepted
    /// Moved to another queue (`from`, `to`, `reason`).
    case moved
    /// The priority changed (`from`, `to`, `reason`).
    case priorityChanged = "priority_changed"
    /// A tag was added (`tag`, `reason`).
    case tagged
    /// A tag was removed (`tag`).
    case untagged
    /// An internal note was added (`note`: its id).
    case noteAdded = "note_added"
    /// A reply was recorded in the outbox (`outbound_id`, `type`).
    case replyQueued = "reply_queued"
    /// The Graph API accepted a reply (`outbound_id`, `wamid`).
    case replySent = "reply_sent"
    /// The Graph API accepted a read receipt.
    case readReceiptSent = "read_receipt_sent"
    /// A reply failed for good (`outbound_id`, `type`, `error_code`, `error`).
    case replyFailed = "reply_failed"
    /// The SLA policy was fixed on the ticket and its clocks started (`policy`, `reopened`, deadlines).
    case slaStarted = "sla_started"
    /// An SLA clock passed its warning threshold (`policy`, `clock`, `due_at`, `late`).
    case slaWarning = "sla_warning"
    /// An SLA clock passed its deadline (`policy`, `clock`, `due_at`, `late`).
    case slaBreach = "sla_breach"
    /// A tag was added to the ticket's customer (`tag`, `customer`: their id, `reason`); routing
    /// rules' `customerTags` see it from the customer's next ticket on.
    case customerTagged = "customer_tagged"
    /// A tag was removed from the ticket's customer (`tag`, `customer`, `reason`).
    case customerUntagged = "customer_untagged"
    /// A triage menu was sent instead of routing at once (`rule`).
    case triageStarted = "triage_started"
    /// Triage ended (`rule`, `outcome`: chosen, unanswered or timed_out; `choice`; `why`).
    case triageEnded = "triage_ended"
    /// Auto-close resolved the ticket: the customer was silent too long (`quiet_since`, `after_seconds`).
    case autoResolved = "auto_resolved"
    /// A satisfaction survey went out (`channel`: interactive or template; `expires_at`).
    case csatSent = "csat_sent"
    /// The customer rated the ticket (`rating` 1–5; `agent`, `queue` credited).
    case csatRated = "csat_rated"
    /// An automatic message was decided but not sent (`reason`, `rule`, `why`).
    case automationSkipped = "automation_skipped"
}
