import Foundation

/// What WhatsApp takes from a business (Meta's "supported media types"): each file type maps to one
/// kind of message, with that kind's size limit. Checked before a byte is sent to Meta, so an
/// agent hears at once what would otherwise fail minutes later as a failed delivery.
public enum MediaUpload {
    /// Why a file cannot be sent, naming what is wrong.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case missingType
        case unsupportedType(String)
        case empty
        case tooLarge(MediaKind, limit: Int)

        public var description: String {
            switch self {
            case .missingType:
                return "the file's type is needed (Content-Type, e.g. image/jpeg)"
            case .unsupportedType(let type):
                return "WhatsApp does not carry \(type) files; it takes \(MediaUpload.supported.map(\.type).joined(separator: ", "))"
            case .empty:
                return "the file is empty"
            case .tooLarge(let kind, let limit):
                return "WhatsApp takes \(kind.rawValue) files of at most \(MediaUpload.readable(limit)); this one is larger"
            }
        }
    }

    public struct Format: Sendable, Equatable {
        public var type: String
        /// For a file sent without a name (the customer sees it on a document).
        public var fileExtension: String
        public var kind: MediaKind
        public var limit: Int
    }

    static let megabyte = 1024 * 1024

    /// Meta's table, in its order. WebP is only a sticker (an animated one may have 500 KB, a static
    /// one 100 KB; which it is cannot be told without decoding it, so the larger limit applies).
    public static let supported: [Format] = [
        Format(type: "image/jpeg", fileExtension: "jpg", kind: .image, limit: 5 * megabyte),
        Format(type: "image/png", fileExtension: "png", kind: .image, limit: 5 * megabyte),
        Format(type: "image/webp", fileExtension: "webp", kind: .sticker, limit: 500 * 1024),
        Format(type: "audio/aac", fileExtension: "aac", kind: .audio, limit: 16 * megabyte),
        Format(type: "audio/amr", fileExtension: "amr", kind: .audio, limit: 16 * megabyte),
        Format(type: "audio/mpeg", fileExtension: "mp3", kind: .audio, limit: 16 * megabyte),
        Format(type: "audio/mp4", fileExtension: "m4a", kind: .audio, limit: 16 * megabyte),
        Format(type: "audio/ogg", fileExtension: "ogg", kind: .audio, limit: 16 * megabyte),
        Format(type: "video/mp4", fileExtension: "mp4", kind: .video, limit: 16 * megabyte),
        Format(type: "video/3gpp", fileExtension: "3gp", kind: .video, limit: 16 * megabyte),
        Format(type: "text/plain", fileExtension: "txt", kind: .document, limit: 100 * megabyte),
        Format(type: "application/pdf", fileExtension: "pdf", kind: .document, limit: 100 * megabyte),
        Format(type: "application/msword", fileExtension: "doc", kind: .document, limit: 100 * megabyte),
        Format(type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", fileExtension: "docx", kind: .document, limit: 100 * megabyte),
        Format(type: "application/vnd.ms-excel", fileExtension: "xls", kind: .document, limit: 100 * megabyte),
        Format(type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", fileExtension: "xlsx", kind: .document, limit: 100 * megabyte),
        Format(type: "application/vnd.ms-powerpoint", fileExtension: "ppt", kind: .document, limit: 100 * megabyte),
        Format(type: "application/vnd.openxmlformats-officedocument.presentationml.presentation", fileExtension: "pptx", kind: .document, limit: 100 * megabyte),
    ]

    /// The format of a `Content-Type` (parameters such as `; codecs=opus` are ignored, case is not
    /// significant), and whether a file of `size` bytes (nil: not known yet) fits it.
    public static func format(contentType: String?, size: Int?) -> Result<Format, Refusal> {
        guard let contentType, let essence = contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces), !essence.isEmpty else {
            return .failure(.missingType)
        }
        guard let format = supported.first(where: { $0.type == essence.lowercased() }) else { return .failure(.unsupportedType(essence)) }
        if let size {
            if size == 0 { return .failure(.empty) }
            if size > format.limit { return .failure(.tooLarge(format.kind, limit: format.limit)) }
        }
        return .success(format)
    }

    /// How long Meta keeps an uploaded file's id usable.
    public static let metaKeepsUploadsFor: Double = 30 * 86_400

    static func readable(_ bytes: Int) -> String {
        bytes >= megabyte ? "\(bytes / megabyte) MB" : "\(bytes / 1024) KB"
    }
}
