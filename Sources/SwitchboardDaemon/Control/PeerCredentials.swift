import Foundation
import Glibc
import NIOCore
import NIOPosix

/// Who is on the other end of a Unix socket, from the kernel (`SO_PEERCRED`), with the user's name
/// and groups from the system's user database.
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// The user's name (`uid:1234` when the user database does not know it).
    public var user: String
    /// The names of the user's groups, primary group included.
    public var groups: [String]

    public init(pid: Int32, uid: UInt32, gid: UInt32, user: String, groups: [String]) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.user = user
        self.groups = groups
    }

    /// Reads the peer of an accepted connection. The user database lookups may block (NSS can be
    /// remote), so they run on NIO's blocking thread pool, not the cooperative pool.
    static func of(_ channel: any Channel) async throws -> PeerCredentials {
        precondition(MemoryLayout<KernelCredentials>.size == 12, "struct ucred is three 32-bit fields on Linux")
        guard let provider = channel as? any SocketOptionProvider else { throw Failure.noCredentials }
        let credentials: KernelCredentials = try await provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)).get()
        let (user, groups) = try await NIOThreadPool.singleton.runIfActive { Self.lookUp(uid: credentials.uid, gid: credentials.gid) }
        return PeerCredentials(pid: credentials.pid, uid: credentials.uid, gid: credentials.gid, user: user, groups: groups)
    }

    enum Failure: Error {
        case noCredentials
    }

    /// Linux's `struct ucred` (pid_t, uid_t, gid_t: three 32-bit fields), which Swift's Glibc module
    /// does not export (it needs _GNU_SOURCE). The layout is the kernel ABI's; the size check below
    /// keeps it honest.
    struct KernelCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// Blocking: the user's name and group names.
    static func lookUp(uid: UInt32, gid: UInt32) -> (String, [String]) {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &found) == 0, found != nil, let namePointer = entry.pw_name else {
            return ("uid:\(uid)", groupName(gid).map { [$0] } ?? [])
        }
        let name = String(cString: namePointer)
        var count: Int32 = 64
        var ids = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(namePointer, gid, &ids, &count) < 0 {
            ids = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(namePointer, gid, &ids, &count)
        }
        let groups = ids.prefix(Int(max(0, count))).compactMap(groupName)
        return (name, Array(Set(groups)).sorted())
    }

    private static func groupName(_ gid: gid_t) -> String? {
        var entry = group()
        var found: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &found) == 0, found != nil, let name = entry.gr_name else { return nil }
        return String(cString: name)
    }
}
