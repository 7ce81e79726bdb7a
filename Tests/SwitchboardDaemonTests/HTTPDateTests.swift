import SwitchboardDaemon
import Testing

@Suite("The HTTP Date header")
struct HTTPDateTests {
    @Test func formatsRFC9110sExampleAndAYearBoundary() {
        // RFC 9110, 5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT" is 784111777 seconds after the epoch.
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        // 2026-12-31 23:59:59 and a second later (2026-12-31 is a Thursday).
        #expect(HTTPDate.format(1_798_761_599) == "Thu, 31 Dec 2026 23:59:59 GMT")
        #expect(HTTPDate.format(1_798_761_600) == "Fri, 01 Jan 2027 00:00:00 GMT")
    }
}
