import Foundation
import Testing
import WhatsApp

@Suite("Decoding webhook bodies")
struct WebhookDecoderTests {
    @Test func theFixturesAreThere() throws {
        let files = try Fixtures.webhookFiles()
        #expect(files.count >= 50, "expected the shared fixtures at \(Fixtures.directory.path)")
    }

    @Test(arguments: try Fixtures.webhookFiles())
    func everyMessageAndStatusOfAFixtureIsRead(file: URL) throws {
        let batch = try WebhookDecoder.decode(Fixtures.bytes(file))
        let messages = try Fixtures.messages(file)
        let statuses = try Fixtures.statuses(file)
        #expect(batch.skipped.isEmpty, "\(batch.skipped)")
        #expect(batch.messages.map(\.wamid) == messages.map { $0["id"] as? String ?? "?" })
        #expect(batch.statuses.map(\.wamid) == statuses.map { $0["id"] as? String ?? "?" })
        #expect(batch.statuses.map(\.status.description) == statuses.map { $0["status"] as? String ?? "?" })
        for (decoded, original) in zip(batch.messages, messages) {
            #expect(decoded.type == original["type"] as? String)
            #expect(decoded.customer.waID != nil || decoded.customer.userID != nil)
            #expect(decoded.businessNumber.phoneNumberID.isEmpty == false)
            if let seconds = (original["timestamp"] as? String).flatMap(Double.init) ?? (original["timestamp"] as? Double) {
                #expect(decoded.sentAt == Date(timeIntervalSince1970: seconds))
            }
            if decoded.type == "text" {
                #expect(decoded.text == (original["text"] as? [String: Any])?["body"] as? String)
            }
            if let errors = original["errors"] as? [[String: Any]] {
                #expect(decoded.errors.map(\.code) == errors.map { $0["code"] as? Int })
            }
        }
        // Changes of other fields are kept whole, one per change.
        let otherFields = try Fixtures.changes(file).filter { !Fixtures.readFields.contains($0.field) }.map(\.field)
        #expect(batch.otherChanges.map(\.field).filter { !Fixtures.readFields.contains($0) } == otherFields)
    }

    @Test func theBusinessAppsEchoesAreReadAsMessagesToTheirCustomer() throws {
        let text = try WebhookDecoder.decode(Fixtures.bytes(Fixtures.directory.appendingPathComponent("pywa-smb-message-echoes-text.json")))
        let echo = try #require(text.messages.first)
        #expect(text.messages.count == 1 && echo.isEcho && echo.type == "text" && echo.text == "Test message")
        #expect(echo.customer.waID == "<WHATSAPP_USER_PHONE_NUMBER>" && echo.customer.userID == "<BSUID>")
        #expect(echo.businessNumber.phoneNumberID == "1122334455667")
        // This sample has the numbers the other way round: the customer is the one that is not the business.
        let edit = try WebhookDecoder.decode(Fixtures.bytes(Fixtures.directory.appendingPathComponent("pywa-smb-message-echoes-edit.json")))
        let edited = try #require(edit.messages.first)
        #expect(edited.isEcho && edited.type == "edit" && edited.targetWamid == "wamid.zzzzzz" && edited.text == "Text was edited")
        #expect(edited.customer.waID == "972987654321" && edited.customer.profileName == "Test Name")
        // A customer's own message is not an echo.
        let own = try WebhookDecoder.decode(Fixtures.bytes(Fixtures.directory.appendingPathComponent("meta-openapi-text.json")))
        #expect(own.messages.allSatisfy { !$0.isEcho })
        // Without the business number an echo cannot be placed: kept raw, and said.
        let orphan = #"{"entry":[{"changes":[{"field":"smb_message_echoes","value":{"message_echoes":[{"id":"wamid.E","to":"34600000001","type":"text","text":{"body":"hi"}}]}}]}]}"#
        let raw = try WebhookDecoder.decode(Array(orphan.utf8))
        #expect(raw.messages.isEmpty && raw.otherChanges.map(\.field) == ["smb_message_echoes"])
        #expect(raw.skipped == ["entry[0].changes[0]: an smb_message_echoes change without metadata.phone_number_id (1 echoes kept raw, not read)"])
    }

    @Test func absurdTimestampsAndCodesAreDroppedNotTrusted() throws {
        let body = #"{"entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"id":"wamid.A","from":"49","timestamp":1e300,"type":"text","text":{"body":"x"},"errors":[{"code":1e30}]}],"statuses":[{"id":"wamid.B","status":"failed","timestamp":"99999999999999","errors":[{"code":"NaN"}]}]}}]}]}"#
        let batch = try WebhookDecoder.decode(Array(body.utf8))
        #expect(batch.messages.first?.sentAt == nil)
        #expect(batch.statuses.first?.at == nil)
        #expect(batch.statuses.first?.errors.first?.code == nil)
    }

    @Test func aBatchOfTwoChangesKeepsBothEvenWithOneWamid() throws {
        let file = Fixtures.directory.appendingPathComponent("netflie-batch-two-changes-one-entry.json")
        let batch = try WebhookDecoder.decode(Fixtures.bytes(file))
        let bodies = try Fixtures.messages(file).map { ($0["text"] as? [String: Any])?["body"] as? String }
        #expect(batch.messages.count == 2)
        #expect(batch.messages.map(\.text) == bodies)
    }

    @Test func mediaLocationChoicesReactionsAndContextAreRead() throws {
        func first(_ name: String) throws -> (InboundMessage, [String: Any]) {
            let file = Fixtures.directory.appendingPathComponent(name)
            let decoded = try #require(try WebhookDecoder.decode(Fixtures.bytes(file)).messages.first)
            return (decoded, try #require(try Fixtures.messages(file).first))
        }
        let (image, imageJSON) = try first("meta-openapi-image.json")
        let imageObject = try #require(imageJSON["image"] as? [String: Any])
        #expect(image.media?.id == imageObject["id"] as? String)
        #expect(image.media?.mimeType == imageObject["mime_type"] as? String)
        #expect(image.text == imageObject["caption"] as? String)

        let (location, locationJSON) = try first("meta-openapi-location.json")
        let place = try #require(locationJSON["location"] as? [String: Any])
        #expect(location.location?.latitude == place["latitude"] as? Double)
        #expect(location.location?.longitude == place["longitude"] as? Double)

        let (list, listJSON) = try first("meta-openapi-interactive-list-reply.json")
        let row = try #require((listJSON["interactive"] as? [String: Any])?["list_reply"] as? [String: Any])
        #expect(list.choice?.kind == "list_reply")
        #expect(list.choice?.id == row["id"] as? String)
        #expect(list.choice?.title == row["title"] as? String)
        #expect(list.context?.wamid == (listJSON["context"] as? [String: Any])?["id"] as? String)

        let (removedEmpty, _) = try first("pywa-reaction-removed-empty-emoji.json")
        let (removedMissing, _) = try first("pywa-reaction-removed-no-emoji-key.json")
        let (reaction, _) = try first("pywa-reaction.json")
        #expect(removedEmpty.reaction?.isRemoval == true)
        #expect(removedMissing.reaction?.isRemoval == true)
        #expect(reaction.reaction?.isRemoval == false)

        let (edit, editJSON) = try first("pywa-edit-image-caption.json")
        #expect(edit.targetWamid == (editJSON["edit"] as? [String: Any])?["original_message_id"] as? String)
        #expect(edit.text == "Updated image caption")

        let (cards, cardsJSON) = try first("pywa-contacts-multiple.json")
        let shared = try #require(cardsJSON["contacts"] as? [[String: Any]])
        #expect(cards.contacts.count == shared.count && shared.count > 1)
        #expect(cards.contacts.map { $0["name"]?["formatted_name"]?.string } == shared.map { ($0["name"] as? [String: Any])?["formatted_name"] as? String })
        #expect(cards.contacts.first?["phones"]?.array.first?["phone"]?.string
            == ((shared.first?["phones"] as? [[String: Any]])?.first?["phone"] as? String))

        let (malformed, _) = try first("pywa-interactive-missing-body.json")
        #expect(malformed.type == "interactive")
        #expect(malformed.choice == nil)
    }

    @Test func aCustomerWithoutAPhoneNumberIsKeyedByUserID() throws {
        let body = #"{"entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"from_user_id":"US.1","id":"wamid.A","timestamp":1700000000,"type":"text","text":{"body":"hi"}}]}}]}]}"#
        let batch = try WebhookDecoder.decode(Array(body.utf8))
        #expect(batch.messages.first?.customer == CustomerIdentity(waID: nil, userID: "US.1"))
        #expect(batch.messages.first?.sentAt == Date(timeIntervalSince1970: 1_700_000_000))
    }

    @Test func unreadableElementsAreSkippedAndTheRestKept() throws {
        let body = #"{"entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"type":"text"},{"from":"49151","id":"wamid.B","type":"hologram","hologram":{"x":1}}],"statuses":[{"status":"read"}]}}]}]}"#
        let batch = try WebhookDecoder.decode(Array(body.utf8))
        #expect(batch.messages.map(\.wamid) == ["wamid.B"])
        #expect(batch.messages.first?.type == "hologram")
        #expect(batch.messages.first?.raw["hologram"] != nil)
        #expect(batch.skipped == [
            "entry[0].changes[0].value.messages[0]: no message id or no sender",
            "entry[0].changes[0].value.statuses[0]: no message id or no status",
        ])
    }

    /// Seen in other projects' test payloads: a `messages` change without the business number.
    @Test func aMessagesChangeWithoutTheBusinessNumberIsKeptRawAndSaysWhy() throws {
        let body = #"{"entry":[{"changes":[{"field":"messages","value":{"metadata":{"display_phone_number":"15550783881"},"messages":[{"from":"49151","id":"wamid.C","type":"text","text":{"body":"hi"}}]}}]}]}"#
        let batch = try WebhookDecoder.decode(Array(body.utf8))
        #expect(batch.messages.isEmpty)
        #expect(batch.otherChanges.map(\.field) == ["messages"])
        #expect(batch.skipped == ["entry[0].changes[0]: a messages change without metadata.phone_number_id (1 messages, 0 statuses kept raw, not read)"])
    }

    @Test(arguments: ["", "not json", "[]", #"{"object":"whatsapp_business_account"}"#, #"{"entry": 3}"#])
    func bodiesThatAreNotWebhooksAreRefused(body: String) {
        #expect(throws: WebhookDecoder.Failure.self) { try WebhookDecoder.decode(Array(body.utf8)) }
    }
}
