import Foundation
import Testing
import TestSupport

/// The web inbox in a real browser: the release path's daemon with the README's Graph API stand-in,
/// Ben's password set with `switchboardctl set-password`, and `Tests/Browser/inbox_flow.py`
/// (Selenium driving Debian's headless Chromium) signing in, receiving, reading and answering.
@Suite("Web inbox in a real browser (Chromium through Selenium)")
struct WebInboxBrowserTests {
    @Test func benSignsInSeesACustomersMessageLiveAndAnswersIt() async throws {
        // The stage the media tests use: the README's Graph API stand-in, its output kept.
        let stage = try await MediaStage.start("inbox-browser")
        defer { stage.stop() }
        let repository = MediaStage.repository, directory = stage.directory, standInLog = directory + "/standin.out"
        let started = try await stage.startDaemon(try stage.writeConfiguration(), run: "browser")
        let password = "Ben's long password"
        let set = try await runCommand(started.switchboardctl, ["set-password", "ben", "--socket", stage.socket], input: password + "\n")
        #expect(set.status == 0, "\(set.output)")

        let run = try await runCommand("/usr/bin/env", ["python3", repository.appendingPathComponent("Tests/Browser/inbox_flow.py").path,
                                                        "--base", "http://127.0.0.1:\(started.port)",
                                                        "--app-secret-file", repository.appendingPathComponent("dev/whatsapp-app-secret").path,
                                                        "--password", password, "--screenshot", directory + "/inbox.png", "--standin-log", standInLog])
        #expect(run.status == 0, "\(run.output)\ndaemon log:\n\(started.process.log)")
        for step in ["Ben signed in", "appeared in the list without a reload", "nothing the customer wrote ran", "second message appeared",
                     "stand-in took the reply", "delivered tick appeared", "page says to wait"] {
            #expect(run.output.contains(step), "missing step: \(step)\n\(run.output)")
        }
        // The stand-in saw the reply the page sent, to the customer who wrote.
        let sends = stage.standInOutput
        #expect(sends.contains("to 447700900777") && sends.contains("Hi, it ships today."), "\(sends)")
        started.process.signal(SIGTERM)
        #expect(await started.process.waitForExit() == 0)
    }
}
