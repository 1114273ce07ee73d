import ArgumentParser

/// What reads the subscriber streams of a broadcast.
enum ReaderKind: String, ExpressibleByArgument, CaseIterable {
    /// One thread with epoll and plain read(2) (`EpollReader`): about a microsecond per read.
    case epoll
    /// SwiftNIO event loops (`SubscriberPool`, --client-threads of them): several times that.
    case nio
}
