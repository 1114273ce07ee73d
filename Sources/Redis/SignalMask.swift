#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum SignalMask {
    /// hiredis writes with write(2): on a socket the server has closed, that raises SIGPIPE, whose
    /// default action kills the process. Blocking it on the calling (worker) thread turns it into
    /// an EPIPE error for hiredis, without changing signal handling for the rest of the process.
    static func blockSIGPIPEOnCurrentThread() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }
}
