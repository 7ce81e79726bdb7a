/// Meta's subscription handshake: `GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`.
public enum WebhookSubscription {
    public enum Answer: Sendable, Equatable {
        /// 200 with the challenge as the body.
        case accept(challenge: String)
        /// 403: wrong mode, wrong token, or no challenge.
        case reject(reason: String)
    }

    public static func answer(mode: String?, token: String?, challenge: String?, expectedToken: String) -> Answer {
        guard mode == "subscribe" else { return .reject(reason: "hub.mode is not subscribe") }
        guard let token, !expectedToken.isEmpty, constantTimeEqual(token, expectedToken) else {
            return .reject(reason: "hub.verify_token does not match")
        }
        guard let challenge, !challenge.isEmpty else { return .reject(reason: "no hub.challenge") }
        return .accept(challenge: challenge)
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = x.count ^ y.count
        for index in 0..<min(x.count, y.count) { difference |= Int(x[index] ^ y[index]) }
        return difference == 0
    }
}
