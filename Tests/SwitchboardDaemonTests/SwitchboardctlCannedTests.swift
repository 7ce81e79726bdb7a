import Foundation
import JSON
import Postgres
import SwitchboardCore
import SwitchboardDaemon
import Testing
import TestSupport

/// `switchboardctl canned …` and `customer-tag` as a person uses them against the control socket
/// served in process: the table, the options before or after the nested command, bad input named
/// with nothing stored, and every change audited.
@Suite("switchboardctl canned and customer-tag")
struct SwitchboardctlCannedTests {
    typealias Output = SwitchboardctlOutputTests

    @Test func cannedResponsesAreAddedListedEditedAndRemovedFromTheShellAndAudited() async throws {
        let harness = try await Output.start("ctl_canned")
        defer { harness.stop() }
        let socket = harness.socket
        let added = try await Output.ctl(["--socket", socket, "canned", "add", "refund", "--title", "Refund policy",
                                          "--body", "Hi {{customer.name|there}}, refunds take 5 days.", "--team", "care"])
        #expect(added.status == 0, "\(added.output)")
        #expect(added.output.contains("canned response 1 /refund (team care) added"), "\(added.output)")
        #expect(try await Output.ctl(["canned", "add", "hello", "--title", "Hello", "--body", "Hello!", "--socket", socket]).status == 0)

        let listed = try await Output.ctl(["canned", "--socket", socket])
        #expect(listed.status == 0)
        let lines = listed.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("ID  SHORTCUT  FOR") == true, "\(listed.output)")
        #expect(lines.dropFirst().map { $0.split(separator: " ").prefix(2).joined(separator: " ") } == ["2 /hello", "1 /refund"], "\(listed.output)")
        let found = try await Output.ctl(["--json", "--socket", socket, "canned", "list", "refu"])
        let json = try JSONParser.parse(Array(found.output.utf8))
        #expect(json["canned"]?.array.compactMap { $0["shortcut"]?.string } == ["refund"])

        // Bad input is named and changes nothing.
        let unknownVariable = try await Output.ctl(["--socket", socket, "canned", "add", "back", "--title", "Back", "--body", "Back {{team.back}}"])
        #expect(unknownVariable.status == 64 && unknownVariable.output.contains("argument body"), "\(unknownVariable.output)")
        let badShortcut = try await Output.ctl(["--socket", socket, "canned", "add", "Re fund", "--title", "X", "--body", "Y"])
        #expect(badShortcut.status == 64 && badShortcut.output.contains("argument shortcut"), "\(badShortcut.output)")
        let unknownTeam = try await Output.ctl(["--socket", socket, "canned", "add", "x", "--title", "X", "--body", "Y", "--team", "nobody"])
        #expect(unknownTeam.status == 64 && unknownTeam.output.contains("no agent is in team"), "\(unknownTeam.output)")
        let taken = try await Output.ctl(["--socket", socket, "canned", "add", "refund", "--title", "Again", "--body", "Y", "--team", "care"])
        #expect(taken.status == 64 && taken.output.contains("already a canned response for team care"), "\(taken.output)")
        #expect(try await harness.routing.pool.query("SELECT count(*)::int FROM switchboard.canned_responses").first?.decode(0, as: Int.self) == 2)

        let edited = try await Output.ctl(["--socket", socket, "canned", "edit", "1", "--title", "Refunds", "--queue", "support"])
        #expect(edited.status == 0 && edited.output.contains("/refund (queue support) changed"), "\(edited.output)")
        let removed = try await Output.ctl(["--socket", socket, "canned", "remove", "2"])
        #expect(removed.status == 0 && removed.output.contains("canned response 2 /hello (everyone) removed"), "\(removed.output)")
        #expect(try await Output.ctl(["--socket", socket, "canned", "remove", "2"]).status == 2)

        let audit = try await harness.routing.pool.query("""
            SELECT method || ' ' || result FROM switchboard.control_audit WHERE method LIKE '%Canned%' ORDER BY id
            """).map { try $0.decode(0, as: String.self) }
        #expect(audit == ["io.switchboard.Control.AddCannedResponse ok", "io.switchboard.Control.AddCannedResponse ok",
                          "io.switchboard.Control.AddCannedResponse InvalidArgument", "io.switchboard.Control.AddCannedResponse InvalidArgument",
                          "io.switchboard.Control.AddCannedResponse InvalidArgument", "io.switchboard.Control.AddCannedResponse InvalidArgument",
                          "io.switchboard.Control.EditCannedResponse ok", "io.switchboard.Control.RemoveCannedResponse ok",
                          "io.switchboard.Control.RemoveCannedResponse NotFound"])
    }

    @Test func aCustomerIsTaggedByTicketOrByNumber() async throws {
        let harness = try await Output.start("ctl_customer_tag")
        defer { harness.stop() }
        let ticket = try await harness.routing.customerWrites("447700900801", "Hello")
        let reference = try #require(try await harness.routing.pool.query("SELECT reference FROM switchboard.tickets WHERE id = $1", [ticket]).first?.decode(0, as: String.self))
        let tagged = try await Output.ctl(["--socket", harness.socket, "customer-tag", reference, "add", "vip", "gold"])
        #expect(tagged.status == 0 && tagged.output.contains("customer of \(reference): tags vip, gold; added vip, gold"), "\(tagged.output)")
        let byNumber = try await Output.ctl(["--socket", harness.socket, "customer-tag", "447700900801", "remove", "gold", "silver"])
        #expect(byNumber.status == 0 && byNumber.output.contains("tags vip; removed gold"), "\(byNumber.output)")
        let bad = try await Output.ctl(["--socket", harness.socket, "customer-tag", reference, "add", "very important"])
        #expect(bad.status == 64 && bad.output.contains("argument add"), "\(bad.output)")
        #expect(try await Output.ctl(["--socket", harness.socket, "customer-tag", "449999999999", "add", "vip"]).status == 2)
        #expect(try await Output.ctl(["--socket", harness.socket, "customer-tag", reference, "tag", "vip"]).status == 64)
        let events = try await harness.routing.pool.query("""
            SELECT kind || ' ' || (data->>'tag') FROM switchboard.ticket_events WHERE ticket_id = $1 AND kind LIKE 'customer_%' ORDER BY id
            """, [ticket]).map { try $0.decode(0, as: String.self) }
        #expect(events == ["customer_tagged vip", "customer_tagged gold", "customer_untagged gold"])
    }
}
