@testable import SwitchboardDaemon
import Testing

/// A log event is one line without control characters, whatever a customer or a payload put in it.
@Suite("Log lines")
struct LogLineTests {
    @Test func controlCharactersAreEscapedAndPrintableTextIsKept() {
        #expect(StderrLogHandler.oneLine("two\nlines\r\n\ttab") == #"two\nlines\r\n\ttab"#)
        #expect(StderrLogHandler.oneLine("nul\u{0}bell\u{7}esc\u{1B}[31mdel\u{7F}c1\u{85}") == #"nul\u{0}bell\u{7}esc\u{1b}[31mdel\u{7f}c1\u{85}"#)
        #expect(StderrLogHandler.oneLine("Olá 👋 \\ back") == "Olá 👋 \\ back")
    }
}
