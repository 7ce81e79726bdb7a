/// The messages that carry a file Switchboard fetches from the Graph API and keeps (a voice note is
/// an `audio` message with `voice` set; an animated sticker is a `sticker`).
public enum MediaKind: String, Sendable, CaseIterable {
    case image, audio, video, document, sticker

    /// The kind of file a message of this WhatsApp type carries, if any.
    public init?(messageType: String) {
        self.init(rawValue: messageType)
    }
}
