import Foundation
import SwitchboardCore
import Testing

@Suite("Media rules: which messages carry files, Meta's SHA-256 in either encoding, byte ranges, what a failed fetch leads to")
struct MediaRulesTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func filesComeWithImagesAudioVideoDocumentsAndStickersOnly() {
        #expect(["image", "audio", "video", "document", "sticker"].allSatisfy { MediaKind(messageType: $0) != nil })
        #expect(["text", "location", "contacts", "interactive", "reaction", "unsupported"].allSatisfy { MediaKind(messageType: $0) == nil })
    }

    @Test func theDigestMatchesInHexOrBase64AndAMadeUpValueIsUncheckable() throws {
        // SHA-256 of "abc" (FIPS 180-2's example).
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        let digest = try #require(MediaDigest.decode(hex))
        let base64 = Data(digest).base64EncodedString()
        #expect(MediaDigest.check(digest, against: hex) == .matches)
        #expect(MediaDigest.check(digest, against: hex.uppercased()) == .matches)
        #expect(MediaDigest.check(digest, against: base64) == .matches)
        var other = digest
        other[0] ^= 1
        #expect(MediaDigest.check(other, against: base64) == .differs)
        // Values from sample payloads: truncated, placeholder, absent.
        for made in ["a1b2c3d4e5f6...", "4654+8g=", "SfInY0gGKTsJlUWbwxC1k+FAD0FZHv", ""] {
            #expect(MediaDigest.check(digest, against: made) == .uncheckable, "\(made)")
        }
        #expect(MediaDigest.check(digest, against: nil) == .uncheckable)
        #expect(MediaDigest.hex(digest) == hex)
    }

    @Test func rangesAsRFC9110ReadsThem() {
        let size = 1000
        #expect(ByteRange.request(nil, size: size) == .whole)
        #expect(ByteRange.request("bytes=0-499", size: size) == .part(.init(first: 0, last: 499)))
        #expect(ByteRange.request("bytes=500-", size: size) == .part(.init(first: 500, last: 999)))
        #expect(ByteRange.request("bytes=-100", size: size) == .part(.init(first: 900, last: 999)))
        #expect(ByteRange.request("bytes=-5000", size: size) == .part(.init(first: 0, last: 999)))
        #expect(ByteRange.request("bytes=900-5000", size: size) == .part(.init(first: 900, last: 999)))
        #expect(ByteRange.request("bytes=1000-", size: size) == .unsatisfiable)
        #expect(ByteRange.request("bytes=-0", size: size) == .unsatisfiable)
        // Not understood, or several ranges: the whole file.
        for header in ["bytes=0-1,5-9", "bytes=9-1", "items=0-1", "bytes=a-b", "bytes=-"] {
            #expect(ByteRange.request(header, size: size) == .whole, "\(header)")
        }
        #expect(ByteRange(first: 10, last: 19).count == 10)
    }

    @Test func aFailedFetchIsRetriedWithBackOffGivenUpOrPausesEveryFetchOnATokenProblem() {
        let policy = MediaFetchPolicy(maxAttempts: 4, firstRetry: 30, longestRetry: 100, tokenPause: 300)
        let serverError = MediaFetchPolicy.Failure.graph(httpStatus: 500, code: 131000, message: "Something went wrong")
        #expect(policy.afterFailure(serverError, attempts: 1, now: t0) == .retry(at: t0.addingTimeInterval(30)))
        #expect(policy.afterFailure(serverError, attempts: 2, now: t0) == .retry(at: t0.addingTimeInterval(60)))
        #expect(policy.afterFailure(serverError, attempts: 3, now: t0) == .retry(at: t0.addingTimeInterval(100)))
        #expect(policy.afterFailure(serverError, attempts: 4, now: t0) == .giveUp("gave up after 4 attempts: Something went wrong"))
        #expect(policy.afterFailure(.graph(httpStatus: nil, code: nil, message: "no answer"), attempts: 1, now: t0) == .retry(at: t0.addingTimeInterval(30)))
        #expect(policy.afterFailure(.graph(httpStatus: 429, code: nil, message: "slow down"), attempts: 1, now: t0) == .retry(at: t0.addingTimeInterval(30)))
        #expect(policy.afterFailure(.graph(httpStatus: 401, code: 190, message: "Session has expired"), attempts: 1, now: t0)
            == .pauseFetching(until: t0.addingTimeInterval(300)))
        #expect(policy.afterFailure(.graph(httpStatus: 400, code: 100, message: "Object with ID 'x' does not exist"), attempts: 1, now: t0)
            == .giveUp("the Graph API refused it: Object with ID 'x' does not exist"))
        #expect(policy.afterFailure(.digestDiffers, attempts: 1, now: t0) == .giveUp("the file's SHA-256 is not the one Meta gave"))
        #expect(policy.afterFailure(.tooLarge, attempts: 1, now: t0) == .giveUp("the file is larger than \(100 * 1024 * 1024) bytes"))
    }

    @Test func anUploadIsCheckedAgainstWhatWhatsAppTakesBeforeAnythingIsSent() {
        func kind(_ type: String?, _ size: Int?) -> String {
            switch MediaUpload.format(contentType: type, size: size) {
            case .success(let format): return format.kind.rawValue
            case .failure(let refusal): return "\(refusal)"
            }
        }
        #expect(kind("image/jpeg", 5 * 1024 * 1024) == "image")
        #expect(kind("IMAGE/PNG; charset=binary", nil) == "image")
        #expect(kind("audio/ogg; codecs=opus", 1000) == "audio")
        #expect(kind("image/webp", 500 * 1024) == "sticker")
        #expect(kind("application/pdf", 100 * 1024 * 1024) == "document")
        #expect(MediaUpload.format(contentType: "image/jpeg", size: 5 * 1024 * 1024 + 1) == .failure(.tooLarge(.image, limit: 5 * 1024 * 1024)))
        #expect(MediaUpload.format(contentType: "video/mp4", size: 16 * 1024 * 1024 + 1) == .failure(.tooLarge(.video, limit: 16 * 1024 * 1024)))
        #expect(MediaUpload.format(contentType: "image/webp", size: 500 * 1024 + 1) == .failure(.tooLarge(.sticker, limit: 500 * 1024)))
        #expect(MediaUpload.format(contentType: "image/gif", size: 10) == .failure(.unsupportedType("image/gif")))
        #expect(MediaUpload.format(contentType: "", size: 10) == .failure(.missingType))
        #expect(MediaUpload.format(contentType: nil, size: 10) == .failure(.missingType))
        #expect(MediaUpload.format(contentType: "text/plain", size: 0) == .failure(.empty))
        #expect(MediaUpload.Refusal.tooLarge(.sticker, limit: 500 * 1024).description == "WhatsApp takes sticker files of at most 500 KB; this one is larger")
        #expect(MediaUpload.supported.allSatisfy { $0.limit > 0 && !$0.fileExtension.isEmpty })
    }

    @Test func typingGoesOutOncePerIntervalPerTicketAndAgainAfterAFailure() {
        var throttle = TypingThrottle(interval: 20)
        #expect(throttle.admit(1, now: t0) == (true, t0 + 20))
        #expect(throttle.admit(1, now: t0 + 5) == (false, t0 + 20))
        #expect(throttle.admit(2, now: t0 + 5) == (true, t0 + 25))
        #expect(throttle.admit(1, now: t0 + 19.9) == (false, t0 + 20))
        #expect(throttle.admit(1, now: t0 + 20) == (true, t0 + 40))
        throttle.forget(2)
        #expect(throttle.admit(2, now: t0 + 6) == (true, t0 + 26))
        // Thousands of tickets typed in once each: the old ones are forgotten, the recent kept.
        for ticket in Int64(100)..<Int64(2200) { _ = throttle.admit(ticket, now: t0 + 100) }
        #expect(throttle.admit(150, now: t0 + 110) == (false, t0 + 120))
        #expect(throttle.admit(1, now: t0 + 125) == (true, t0 + 145))
    }
}

@Suite("Signing in: wrong passwords slow the next attempt down")
struct SignInThrottleTests {
    let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func attemptsAreCountedAsTheyBeginSoParallelGuessesAreHeldToo() {
        var throttle = SignInThrottle()
        // Five guesses sent at once all begin before any is checked; the sixth waits.
        for _ in 0..<5 { #expect(throttle.begin(handle: "ben", address: nil, now: t0) == .allowed) }
        #expect(throttle.begin(handle: "Ben", address: nil, now: t0) == .wait(until: t0 + 30))
        // Each further failure doubles the wait, up to fifteen minutes.
        throttle.failed(handle: "ben", address: nil, now: t0 + 31)
        #expect(throttle.decide(handle: "ben", address: nil, now: t0 + 32) == .wait(until: t0 + 31 + 60))
        for second in 0..<10 { throttle.failed(handle: "ben", address: nil, now: t0 + 100 + Double(second)) }
        #expect(throttle.decide(handle: "ben", address: nil, now: t0 + 110) == .wait(until: t0 + 109 + 900))
        // Others are not held up; past the window, failures are forgotten.
        #expect(throttle.decide(handle: "ana", address: nil, now: t0 + 110) == .allowed)
        #expect(throttle.decide(handle: "ben", address: nil, now: t0 + 109 + 901) == .allowed)
    }

    @Test func aRightPasswordClearsTheHandleAndAnAddressHasMoreRoom() {
        var throttle = SignInThrottle()
        for _ in 0..<4 { _ = throttle.begin(handle: "ana", address: "198.51.100.1", now: t0) }
        #expect(throttle.begin(handle: "ana", address: "198.51.100.1", now: t0) == .allowed)
        throttle.succeeded(handle: "ana", address: "198.51.100.1")
        #expect(throttle.begin(handle: "ana", address: "198.51.100.1", now: t0) == .allowed)
        // One office, many handles: twenty failures from the address before it waits.
        for index in 0..<15 { _ = throttle.begin(handle: "agent\(index)", address: "198.51.100.1", now: t0) }
        #expect(throttle.decide(handle: "someone", address: "198.51.100.1", now: t0) == .wait(until: t0 + 30))
        #expect(throttle.decide(handle: "someone", address: "203.0.113.9", now: t0) == .allowed)
    }
}
