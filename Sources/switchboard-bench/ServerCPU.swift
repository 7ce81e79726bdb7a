import Foundation

/// CPU time PostgreSQL spent, all of its processes together: the postmaster's own and its reaped
/// children's (`cutime`, `cstime`), plus every live child's. The difference of two readings is the
/// server's CPU over that interval, backends that exited meanwhile included, so "database CPU per
/// message" is measured on the server, not guessed from statement timings.
struct ServerCPU {
    let postmasterPID: Int32

    /// The postmaster of the cluster in `dataDirectory` (first line of `postmaster.pid`).
    init?(dataDirectory: String) {
        guard let contents = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = contents.split(separator: "\n").first, let pid = Int32(first) else { return nil }
        postmasterPID = pid
    }

    /// Seconds of CPU so far.
    func seconds() -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0
        if let own = Self.stat(postmasterPID) { total += Double(own.utime + own.stime + own.cutime + own.cstime) }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), pid != postmasterPID, let stat = Self.stat(pid), stat.ppid == postmasterPID else { continue }
            total += Double(stat.utime + stat.stime)
        }
        return total / ticks
    }

    private struct Stat { var ppid: Int32, utime: Int, stime: Int, cutime: Int, cstime: Int }

    /// Fields of `/proc/PID/stat` after the command name (which may hold spaces, so split after its `)`).
    private static func stat(_ pid: Int32) -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is the state; ppid is field 4 of the file, utime 14, stime 15, cutime 16, cstime 17.
        guard fields.count > 14, let ppid = Int32(fields[1]), let utime = Int(fields[11]), let stime = Int(fields[12]),
              let cutime = Int(fields[13]), let cstime = Int(fields[14]) else { return nil }
        return Stat(ppid: ppid, utime: utime, stime: stime, cutime: cutime, cstime: cstime)
    }
}
