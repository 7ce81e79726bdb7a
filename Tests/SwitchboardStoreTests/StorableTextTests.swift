import Testing
import SwitchboardStore

/// What PostgreSQL cannot hold (U+0000) is stored as U+FFFD; everything else is left exactly as it was.
@Suite("Text as PostgreSQL can store it")
struct StorableTextTests {
    @Test func aNulInTextBecomesTheReplacementCharacterAndNothingElseChanges() {
        #expect(StorableText.text("a\u{0}b\u{0}") == "a\u{FFFD}b\u{FFFD}")
        #expect(StorableText.text("Olá, ¿qué tal? 👋 \\u0000") == "Olá, ¿qué tal? 👋 \\u0000")
        #expect(StorableText.text(nil as String?) == nil)
    }

    @Test func aNulEscapeInJSONBecomesTheReplacementEscapeButAnEscapedBackslashBeforeItStays() {
        #expect(StorableText.json(#"{"a":"x\u0000y"}"#) == #"{"a":"x\ufffdy"}"#)
        // `\\u0000` is a backslash and the letters u0000: kept.
        #expect(StorableText.json(#"{"a":"x\\u0000y"}"#) == #"{"a":"x\\u0000y"}"#)
        #expect(StorableText.json(#"{"a":"x\\\u0000"}"#) == #"{"a":"x\\\ufffd"}"#)
        #expect(StorableText.json(#"{"a":"\n\"\u00e9"}"#) == #"{"a":"\n\"\u00e9"}"#)
        #expect(StorableText.json("{\"a\":\"x\u{0}\"}") == #"{"a":"x\ufffd"}"#)
    }
}
