import Foundation
import Testing
import TestSupport

/// The web inbox and the supervisors' dashboard in a real browser: the release path's daemon with
/// the README's Graph API stand-in, passwords set with `switchboardctl set-password`, and
/// `Tests/Browser/inbox_flow.py` (Selenium driving Debian's headless Chromium, two windows at once)
/// signing in, receiving, answering (also with a canned response picked by /shortcut), sending the
/// queue's fallback template and then a template into a closed window, mentioning a colleague, resolving, watching and steering the queues, and trying what must fail.
/// Screenshots go to `$SWITCHBOARD_SCREENSHOTS` when set (the README's come from there:
/// `SWITCHBOARD_SCREENSHOTS=docs/screenshots`), else to the test's directory.
@Suite("Web inbox and dashboard in a real browser (Chromium through Selenium)")
struct WebInboxBrowserTests {
    @Test func agentsAnswerLiveAndASupervisorSteersTheQueuesFromTheDashboard() async throws {
        // The stage the media tests use: the README's Graph API stand-in, its output kept.
        let stage = try await MediaStage.start("inbox-browser")
        defer { stage.stop() }
        let repository = MediaStage.repository, directory = stage.directory, standInLog = directory + "/standin.out"
        // The example configuration, plus what the flows need: a template for the closed window,
        // and Olu, an agent of another team (sales) who must see nothing of support's tickets.
        let configuration = try stage.writeConfiguration { config in
            var whatsapp = config["whatsapp"] as? [String: Any] ?? [:]
            whatsapp["templates"] = [["name": "order_update", "language": "en",
                                      "text": "Hello {{1}}, your order {{2}} has an update. Reply here and we will help."]]
            config["whatsapp"] = whatsapp
            // The support queue's fallback for a text that meets a closed window.
            config["automation"] = ["templateFallbacks": [["queues": ["support"], "template": "order_update",
                                                           "parameters": ["{{customer.name|there}}", "{{ticket.reference}}"]]]]
            var routing = config["routing"] as? [String: Any] ?? [:]
            routing["queues"] = (routing["queues"] as? [[String: Any]] ?? []) + [["name": "sales", "strategy": "least-loaded", "steps": [["skills": [:]]]]]
            routing["agents"] = (routing["agents"] as? [[String: Any]] ?? []) + [[
                "id": "olu", "name": "Olu Adeyemi", "role": "agent", "teams": ["sales"], "capacity": 5, "skills": ["lang:en": 5],
                "queues": ["sales"], "presence": "online",
            ]]
            config["routing"] = routing
        }
        let started = try await stage.startDaemon(configuration, run: "browser")
        let password = "A long password for the browser test"
        for agent in ["ben", "sam", "olu"] {
            let set = try await runCommand(started.switchboardctl, ["set-password", agent, "--socket", stage.socket], input: password + "\n")
            #expect(set.status == 0, "\(agent): \(set.output)")
        }
        // Canned responses, written as a supervisor would on the shell: one for everyone, one for
        // the sales queue that Ben, of support, must not be offered.
        for arguments in [["thanks", "--title", "Thanks for waiting", "--body", "Hi {{customer.name|there}}, thanks for waiting. {{agent.name}} ({{ticket.reference}})"],
                          ["sales-deal", "--title", "Sales deal", "--body", "Our best offer, {{customer.name|there}}", "--queue", "sales"]] {
            let added = try await runCommand(started.switchboardctl, ["canned", "add"] + arguments + ["--socket", stage.socket])
            #expect(added.status == 0 && added.output.contains("canned response"), "\(added.output)")
        }
        let screenshots = ProcessInfo.processInfo.environment["SWITCHBOARD_SCREENSHOTS"].map {
            $0.hasPrefix("/") ? $0 : repository.appendingPathComponent($0).path
        } ?? directory
        let run = try await runCommand("/usr/bin/env", ["python3", repository.appendingPathComponent("Tests/Browser/inbox_flow.py").path,
                                                        "--base", "http://127.0.0.1:\(started.port)",
                                                        "--app-secret-file", repository.appendingPathComponent("dev/whatsapp-app-secret").path,
                                                        "--password", password, "--screenshot-dir", screenshots, "--standin-log", standInLog,
                                                        "--database", "host=\(directory)/state/postgres/data port=5432 user=switchboard dbname=switchboard"])
        #expect(run.status == 0, "\(run.output)\ndaemon log:\n\(started.process.log.suffix(20000))")
        for step in ["Ben signed in", "appeared in the list without a reload", "nothing the customer wrote ran", "second message appeared",
                     "stand-in took the reply", "sent tick appeared", "delivered tick appeared",
                     "offered the canned responses Ben may use", "canned response went out filled in",
                     "offered the queue's fallback template", "template went out and Ben's text stayed as a note",
                     "offers only templates, no free text", "template reply went out",
                     "note with a mention is in the thread", "whom the note could not notify", "mention reached Sam's page live", "toast opened the ticket", "resolved the ticket",
                     "opened the dashboard", "paused the support queue", "waiting count changed live", "reassigned a ticket from the dashboard",
                     "left Ben's list without a reload", "resuming the queue",
                     "another team gets nothing", "page says to wait"] {
            #expect(run.output.contains(step), "missing step: \(step)\n\(run.output)")
        }
        // The stand-in saw the reply the page sent, to the customer who wrote, and the template.
        let sends = stage.standInOutput
        #expect(sends.contains("to 447700900777") && sends.contains("Hi, it ships today."), "\(sends)")
        #expect(sends.contains("to 447700900778") && sends.contains("order_update"), "\(sends)")
        #expect(sends.contains("thanks for waiting. Ben Carter"), "\(sends)")
        started.process.signal(SIGTERM)
        #expect(await started.process.waitForExit() == 0)
    }
}
