import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// A child process (a node, or scripts/services.sh) whose standard output and error are appended to a
/// log file, so every run leaves a record of what each process said.
///
/// Spawned with posix_spawn rather than Foundation's `Process`: that one notices an exit only when
/// every copy of a pipe it hands the child is closed, which never happens while a daemon the child
/// started (redis-server, rabbitmq-server) lives on. Here the child also gets default handling of SIGINT
/// and SIGTERM back (this process ignores them, to clean up itself). Every descriptor above standard
/// error is closed in the child: SwiftNIO's client sockets are not close-on-exec, and a node started
/// mid-run (a restart) would otherwise hold a copy of every client connection open at that moment,
/// keeping it open after the client closed it.
final class LoggedProcess: Sendable {
    let pid: Int32
    let logPath: String
    /// The exit code (or 128 + the signal that ended it) once reaped.
    private let exitStatus = NIOLockedValueBox<Int32?>(nil)

    private init(pid: Int32, logPath: String) {
        self.pid = pid
        self.logPath = logPath
    }

    /// Starts `executable` with `arguments` and `environment` (default: this process's). `banner` is
    /// written to the log first, so restarts of the same node are easy to find in one file.
    static func launch(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logPath: String,
        banner: String? = nil
    ) throws -> LoggedProcess {
        if let banner {
            try appendLine("\n=== \(Date()) \(banner) ===", to: logPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        closeInheritedDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL)
        }
        return LoggedProcess(pid: pid, logPath: logPath)
    }

    /// The exit code (or 128 + signal), nil while the process runs. Reaps the child once it is done.
    var status: Int32? {
        exitStatus.withLockedValue { status in
            if status == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid {
                    // The <sys/wait.h> macros are not visible to Swift: low 7 bits are the signal, if any.
                    let signal = raw & 0x7f
                    status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
                }
            }
            return status
        }
    }

    var isRunning: Bool { status == nil }

    func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits until the process has exited, at most `timeout`; returns its status, or nil if it still runs.
    func waitForExit(timeout: Duration) async throws -> Int32? {
        _ = try await BoundedPoll.until(timeout: timeout, every: .milliseconds(50)) { !isRunning }
        return status
    }

    /// The last `lines` lines of the log, for error messages.
    func logTail(lines: Int = 20) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    private static func appendLine(_ line: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up at run time: Swift
    /// does not see its declaration. Without it, every descriptor open now is marked close-on-exec instead.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "posix_spawn_file_actions_addclosefrom_np") {
            if unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3) == 0 { return }
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let descriptor = Int32(name), descriptor > 2 { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        }
    }
}
