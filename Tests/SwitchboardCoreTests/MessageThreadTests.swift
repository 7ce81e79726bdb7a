import Foundation
import SwitchboardCore
import Testing

@Suite("Message thread: edits, revokes and reactions apply to the message they change")
struct MessageThreadTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func anEditChangesTheTextARevokeDeletesAndBothStayForTheAudit() {
        let views = MessageThread.views([
            .init(id: 1, wamid: "w1", type: "text", body: "My order is 1234", at: t0),
            .init(id: 2, wamid: "w2", type: "edit", body: "My order is 1243", targetWamid: "w1", at: t0 + 5),
            .init(id: 3, wamid: "w3", type: "edit", body: "My order is 1342", targetWamid: "w1", at: t0 + 9),
            .init(id: 4, wamid: "w4", type: "image", body: "the box", at: t0 + 10),
            .init(id: 5, wamid: "w5", type: "revoke", body: nil, targetWamid: "w4", at: t0 + 20),
            // An edit after the deletion changes nothing; one of a message not on the ticket stands alone.
            .init(id: 6, wamid: "w6", type: "edit", body: "too late", targetWamid: "w4", at: t0 + 21),
            .init(id: 7, wamid: "w7", type: "edit", body: "elsewhere", targetWamid: "w-other", at: t0 + 22),
        ])
        #expect(views[1] == MessageThread.View(body: "My order is 1342", edited: true))
        #expect(views[2]?.appliesTo == 1 && views[3]?.appliesTo == 1 && views[2]?.body == "My order is 1243")
        #expect(views[4] == MessageThread.View(body: nil, deleted: true))
        #expect(views[5]?.appliesTo == 4 && views[6]?.appliesTo == 4)
        #expect(views[7] == MessageThread.View(body: "elsewhere"))
    }

    @Test func theLatestReactionShowsAndARemovedOneIsGone() {
        let views = MessageThread.views([
            .init(id: 1, wamid: "out-1", type: "text", body: "Your refund is on its way", at: t0),
            .init(id: 2, wamid: "r1", type: "reaction", body: "👍", reactionTarget: "out-1", at: t0 + 1),
            .init(id: 3, wamid: "r2", type: "reaction", body: "❤️", reactionTarget: "out-1", at: t0 + 2),
            .init(id: 4, wamid: "out-2", type: "text", body: "Anything else?", at: t0 + 3),
            .init(id: 5, wamid: "r3", type: "reaction", body: "😮", reactionTarget: "out-2", at: t0 + 4),
            .init(id: 6, wamid: "r4", type: "reaction", body: nil, reactionTarget: "out-2", reactionRemoved: true, at: t0 + 5),
        ])
        #expect(views[1]?.reaction?.emoji == "❤️" && views[1]?.reaction?.at == t0 + 2)
        #expect(views[4]?.reaction == nil)
        #expect([2, 3].allSatisfy { views[$0]?.appliesTo == 1 } && [5, 6].allSatisfy { views[$0]?.appliesTo == 4 })
    }
}
