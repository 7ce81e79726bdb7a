import Foundation
import Testing
import WhatsApp

@Suite("Webhook signatures and the subscription handshake")
struct WebhookSignatureTests {
    let signature = WebhookSignature(appSecret: "test-app-secret")

    @Test(arguments: try Fixtures.webhookFiles())
    func aFixtureSignedWithTheSecretVerifiesAndAChangedByteDoesNot(file: URL) throws {
        var bytes = try Fixtures.bytes(file)
        let header = signature.headerValue(for: bytes)
        try signature.verify(header: header, body: bytes)
        bytes[bytes.count / 2] ^= 0x01
        #expect(throws: WebhookSignature.Failure.mismatch) { try signature.verify(header: header, body: bytes) }
    }

    @Test func aKnownHMACVector() throws {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let jefe = WebhookSignature(appSecret: "Jefe")
        #expect(jefe.headerValue(for: Array("what do ya want for nothing?".utf8))
            == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func missingMalformedAndForeignSignaturesAreRefused() {
        let body = Array(#"{"entry":[]}"#.utf8)
        #expect(throws: WebhookSignature.Failure.missing) { try signature.verify(header: nil, body: body) }
        #expect(throws: WebhookSignature.Failure.malformed) { try signature.verify(header: "sha1=abcd", body: body) }
        #expect(throws: WebhookSignature.Failure.malformed) { try signature.verify(header: "sha256=xyz", body: body) }
        let other = WebhookSignature(appSecret: "another-secret").headerValue(for: body)
        #expect(throws: WebhookSignature.Failure.mismatch) { try signature.verify(header: other, body: body) }
        // Upper-case hex is the same signature.
        let upper = "sha256=" + signature.headerValue(for: body).dropFirst(7).uppercased()
        #expect(throws: Never.self) { try signature.verify(header: upper, body: body) }
    }

    @Test func subscriptionHandshake() {
        #expect(WebhookSubscription.answer(mode: "subscribe", token: "t0k", challenge: "1158201444", expectedToken: "t0k") == .accept(challenge: "1158201444"))
        #expect(WebhookSubscription.answer(mode: "subscribe", token: "wrong", challenge: "1", expectedToken: "t0k") == .reject(reason: "hub.verify_token does not match"))
        #expect(WebhookSubscription.answer(mode: "unsubscribe", token: "t0k", challenge: "1", expectedToken: "t0k") == .reject(reason: "hub.mode is not subscribe"))
        #expect(WebhookSubscription.answer(mode: "subscribe", token: "t0k", challenge: nil, expectedToken: "t0k") == .reject(reason: "no hub.challenge"))
    }
}
