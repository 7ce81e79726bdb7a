import Foundation
import Testing
import TestSupport

/// The web inbox in a real browser: the release path's daemon with the README's Graph API stand-in,
/// Ben's password set with `switchboardctl set-password`, and `Tests/Browser/inbox_flow.py`
/// (Selenium driving Debian's headless Chromium) signing in, receiving, reading and answering.
@Suite("Web inbox in a real browser (Chromium through Selenium)")
struct WebInboxBrowserTests {
    @Test func benSignsInSeesACustomersMessageLiveAndAnswersIt() async throws {
        let directory = try makeTemporaryDirectory("inbox-browser")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let repository = ExampleDaemon.repository
        let graphPort = try MediaEndToEndTests.freePort()
        let standIn = Process()
        standIn.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        standIn.arguments = ["python3", repository.appendingPathComponent("dev/graph-api-standin.py").path, "\(graphPort)"]
        let standInLog = directory + "/standin.log"
        #expect(FileManager.default.createFile(atPath: standInLog, contents: nil))
        standIn.standardOutput = FileHandle(forWritingAtPath: standInLog)
        try standIn.run()
        defer { kill(standIn.processIdentifier, SIGKILL) }
        let configPath = try ExampleDaemon.writeConfiguration(in: directory) { config in
            var whatsapp = config["whatsapp"] as? [String: Any] ?? [:]
            whatsapp["accessToken"] = ["file": repository.appendingPathComponent("dev/graph-access-token").path]
            whatsapp["graphAPI"] = ["baseURL": "http://127.0.0.1:\(graphPort)", "version": "v24.0", "timeoutSeconds": 5]
            config["whatsapp"] = whatsapp
        }
        let started = try await ExampleDaemon.start(configPath: configPath, directory: directory)
        let password = "Ben's long password"
        let set = try await runCommand(started.switchboardctl, ["set-password", "ben", "--socket", directory + "/control.sock"], input: password + "\n")
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
        let sends = (try? String(contentsOfFile: standInLog, encoding: .utf8)) ?? ""
        #expect(sends.contains("to 447700900777") && sends.contains("Hi, it ships today."), "\(sends)")
        started.process.signal(SIGTERM)
        #expect(await started.process.waitForExit() == 0)
    }
}
