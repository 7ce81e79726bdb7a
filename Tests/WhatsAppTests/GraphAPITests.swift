import Foundation
import Testing
import WhatsApp

@Suite("Graph API send requests and error classification")
struct GraphAPITests {
    func error(_ status: Int, _ json: String) -> GraphAPIError {
        GraphAPIError(httpStatus: status, body: Array(json.utf8))
    }

    @Test func readsMetasErrorBody() {
        let parsed = error(400, #"{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_subcode":2494010,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}"#)
        #expect(parsed.code == 131047)
        #expect(parsed.subcode == 2494010)
        #expect(parsed.title == "Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
        #expect(parsed.fbtraceID == "Az8or2yhqkZfEZ-_4Qn_Bam")
        #expect(parsed.kind == .outsideCustomerWindow)
        #expect(parsed.description.contains("code 131047"))
    }

    @Test(arguments: [
        (190, 401, GraphAPIError.Kind.sendingBlocked), (131031, 400, .sendingBlocked),
        (130429, 400, .numberThrottled), (80007, 400, .numberThrottled), (4, 400, .numberThrottled),
        (131056, 400, .customerThrottled), (131047, 400, .outsideCustomerWindow),
        (131000, 500, .transient), (1, 500, .transient), (133004, 503, .transient),
        (131026, 400, .permanent), (100, 400, .permanent), (131051, 400, .permanent), (132001, 404, .permanent),
    ])
    func classifiesByCode(code: Int, status: Int, kind: GraphAPIError.Kind) {
        #expect(error(status, #"{"error":{"message":"m","type":"OAuthException","code":\#(code),"fbtrace_id":"x"}}"#).kind == kind)
    }

    @Test func absurdNumbersInAnErrorBodyAreNotCodes() {
        let parsed = error(400, #"{"error":{"message":"m","code":1e19,"error_subcode":"inf"}}"#)
        #expect(parsed.code == nil)
        #expect(parsed.subcode == nil)
        #expect(error(429, #"{"error":{"message":"slow down","code":999999}}"#).kind == .transient)
    }

    @Test func withoutAGraphBodyTheHTTPStatusDecides() {
        #expect(error(502, "<html>Bad Gateway</html>").kind == .transient)
        #expect(error(429, "").kind == .transient)
        #expect(error(404, "not found").kind == .permanent)
        #expect(error(502, "<html>Bad Gateway</html>").description.contains("HTTP 502"))
        #expect(GraphAPIError(httpStatus: nil, code: nil, message: "connection refused").kind == .transient)
    }

    @Test func textRequestToAPhoneNumber() {
        let body = SendRequest.body(.text(body: "Hi / ¿qué tal?", previewURL: true), to: .phone("5215512345678"), callbackData: "abc")
        #expect(body == .object([
            "messaging_product": .string("whatsapp"), "recipient_type": .string("individual"), "to": .string("5215512345678"),
            "type": .string("text"), "text": .object(["body": .string("Hi / ¿qué tal?"), "preview_url": .bool(true)]),
            "biz_opaque_callback_data": .string("abc"),
        ]))
    }

    @Test func readReceiptHasNoRecipientAndNoCallback() {
        let body = SendRequest.body(.markAsRead(messageID: "wamid.X"), to: .phone("1"), callbackData: "abc")
        #expect(body == .object(["messaging_product": .string("whatsapp"), "status": .string("read"), "message_id": .string("wamid.X")]))
    }

    @Test func mediaTemplateReactionAndUserID() {
        let document = SendRequest.body(.media(.document, mediaID: "42", caption: "Invoice", filename: "invoice.pdf"), to: .userID("US.1"), callbackData: "c")
        #expect(document["recipient"]?.string == "US.1")
        #expect(document["to"] == nil)
        #expect(document["document"] == .object(["id": .string("42"), "caption": .string("Invoice"), "filename": .string("invoice.pdf")]))
        let audio = SendRequest.body(.media(.audio, mediaID: "7", caption: "ignored"), to: .phone("1"), callbackData: "c")
        #expect(audio["audio"] == .object(["id": .string("7")]))
        let template = SendRequest.body(.template(name: "hello", languageCode: "en_US"), to: .phone("1"), callbackData: "c")
        #expect(template["template"] == .object(["name": .string("hello"), "language": .object(["code": .string("en_US")])]))
        let reaction = SendRequest.body(.reaction(toMessage: "wamid.Y", emoji: ""), to: .phone("1"), callbackData: "c")
        #expect(reaction["reaction"] == .object(["message_id": .string("wamid.Y"), "emoji": .string("")]))
    }

    @Test func contentProblemsNameTheField() {
        #expect(OutboundContent.text(body: " ").problem == "text.body is empty")
        #expect(OutboundContent.text(body: String(repeating: "x", count: 4097)).problem == "text.body is longer than 4096 characters")
        #expect(OutboundContent.template(name: "", languageCode: "en").problem == "template.name is empty")
        #expect(OutboundContent.template(name: "t", languageCode: "en", components: .object([:])).problem == "template.components must be an array")
        #expect(OutboundContent.template(name: "t", languageCode: "en", components: .array([])).problem == nil)
        #expect(OutboundContent.media(.image, mediaID: "").problem == "media id is empty")
        #expect(OutboundContent.interactive(.object(["body": .object([:])])).problem == "interactive.type is missing")
        #expect(OutboundContent.text(body: "ok").problem == nil)
        #expect(OutboundContent.template(name: "t", languageCode: "en").isFreeForm == false)
        #expect(OutboundContent.reaction(toMessage: "w", emoji: "👍").isFreeForm)
    }
}
