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
}
