/// Why a send did not succeed, as far as the decision of what to do next is concerned. The WhatsApp
/// module classifies Meta's error codes into these; the core decides what each means.
public enum SendFailure: Sendable, Equatable {
    /// Worth trying again later: a server error, a timeout, a connection that failed.
    case transient
    /// The business number sends too fast (130429, 80007, …): every send through it must wait.
    case numberThrottled
    /// Too many messages to this one customer (131056): only this customer's sends must wait.
    case customerThrottled
    /// Sending through this number cannot work until a person acts (190: access token expired).
    case sendingBlocked
    /// Meta refused this message for good (131026 undeliverable, 131047 window closed, 100 bad parameter…).
    case permanent
}
