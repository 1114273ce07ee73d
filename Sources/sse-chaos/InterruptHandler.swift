import Foundation
import NIOConcurrencyHelpers

/// On Ctrl-C or SIGTERM, stops the nodes and servers of the scenario in progress before exiting, so an
/// interrupted run leaves no process behind.
enum InterruptHandler {
    private static let watched = NIOLockedValueBox<ChaosCluster?>(nil)
    private static let sources = NIOLockedValueBox<[Installed]>([])

    /// A signal source kept alive for the process's life; touched only under the lock.
    private struct Installed: @unchecked Sendable {
        let source: any DispatchSourceSignal
    }

    static func install() {
        sources.withLockedValue { sources in
            guard sources.isEmpty else { return }
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    FileHandle.standardError.write(Data("sse-chaos: interrupted; stopping nodes and servers\n".utf8))
                    watched.withLockedValue { $0 }?.emergencyStop()
                    exit(130)
                }
                source.resume()
                sources.append(Installed(source: source))
            }
        }
    }

    /// The cluster to stop on an interrupt; nil once it has been shut down.
    static func watch(_ cluster: ChaosCluster?) {
        watched.withLockedValue { $0 = cluster }
    }
}
