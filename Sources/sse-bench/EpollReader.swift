import CEpoll
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Subscriber streams read by one thread of their own with epoll and plain `read(2)`: no event loop, no
/// buffers allocated per read, no task switch per stream. Reading must cost the load tool far less than
/// writing costs the server, or the tool (not the server) sets the pace of the measurement: this reader
/// spends about a microsecond of CPU per read, and it reports its own thread's CPU time so every result
/// can show that it had room to spare (`DeliveryFigures.client`).
///
/// The thread opens the streams in batches (a `GET` each, counted open at its `200` response head), then
/// reads until `finish()`. Everything it counts lives on that thread; `finish()` stops it and hands the
/// totals over, `deliveryCount` can be read from anywhere meanwhile.
final class EpollReader: DeliverySource, @unchecked Sendable {
    private struct Stream {
        var fd: Int32 = -1
        var state = State.connecting
        /// The response head so far, until it is complete.
        var head: [UInt8] = []
        var scanner = EventScanner()
        var lastSequence: UInt64?
    }

    private enum State {
        case connecting
        case awaitingHead
        case streaming
        case closed
    }

    /// A response head is far smaller than this.
    private static let maximumHead = 16 * 1024
    /// epoll's user data for the wake-up eventfd (streams use their index).
    private static let wakeTag = UInt64.max

    private let endpoint: StreamEndpoint
    private let counters: LiveCounters
    private let epoll: Int32
    private let wake: Int32
    private var streams: [Stream] = []
    private var totals = DeliveryTotals()
    private var readBuffer = [UInt8](repeating: 0, count: 256 * 1024)
    /// What one `epoll_wait` reports.
    private var events = [epoll_event](repeating: epoll_event(), count: 1024)
    private let stopping = Atomic<Bool>(false)
    private let delivered = Atomic<Int>(0)
    private let lock = NSLock()
    private var thread: pthread_t?
    private var finished: DeliveryTotals?
    private var threadCPUClock = clockid_t(0)

    init(endpoint: StreamEndpoint, counters: LiveCounters) throws {
        self.endpoint = endpoint
        self.counters = counters
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wake = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard epoll >= 0, wake >= 0 else { throw BenchError.system("epoll: \(String(cString: strerror(errno)))") }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = Self.wakeTag
        epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event)
    }

    deinit {
        for stream in streams where stream.fd >= 0 { close(stream.fd) }
        close(epoll)
        close(wake)
    }

    /// Starts the reading thread, which opens `count` streams `batch` at a time (each batch must open within
    /// `timeout` seconds), and returns once they are open; the thread then goes on reading until `finish()`.
    func open(count: Int, batch: Int, timeout: Int) async -> RampOutcome {
        await withCheckedContinuation { continuation in
            ramp = Ramp(count: count, batch: batch, timeout: timeout, opened: continuation)
            let context = Unmanaged.passRetained(self).toOpaque()
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { context in
                Unmanaged<EpollReader>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, context)
            precondition(started == 0, "pthread_create failed")
            lock.withLock {
                self.thread = thread
                pthread_getcpuclockid(thread, &threadCPUClock)
            }
        }
    }

    /// What the thread opens first, and whom it tells when that is done (set before it starts).
    private struct Ramp {
        var count: Int
        var batch: Int
        var timeout: Int
        var opened: CheckedContinuation<RampOutcome, Never>
    }

    private var ramp: Ramp?

    /// The reading thread's CPU time so far, in seconds.
    var threadCPUSeconds: Double {
        var time = timespec()
        guard lock.withLock({ thread != nil && clock_gettime(threadCPUClock, &time) == 0 }) else { return 0 }
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    func deliveryCount() async -> Int { delivered.load(ordering: .relaxed) }

    /// Stops the reading thread and returns everything it counted.
    func totals() async -> DeliveryTotals {
        finish()
    }

    /// Closes every stream and stops the thread.
    func shutdown() async {
        _ = finish()
    }

    @discardableResult
    private func finish() -> DeliveryTotals {
        lock.lock()
        defer { lock.unlock() }
        if let finished { return finished }
        stopping.store(true, ordering: .releasing)
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
        if let thread { pthread_join(thread, nil) }
        for index in streams.indices where streams[index].fd >= 0 {
            close(streams[index].fd)
            streams[index].fd = -1
        }
        finished = totals
        return totals
    }

    // MARK: - The reading thread

    private func run() {
        guard let ramp else { return }
        self.ramp = nil
        ramp.opened.resume(returning: open(count: ramp.count, batch: ramp.batch, timeout: ramp.timeout))
        while !stopping.load(ordering: .acquiring) {
            poll(timeoutMilliseconds: 100)
        }
    }

    private func open(count: Int, batch: Int, timeout: Int) -> RampOutcome {
        let started = NIODeadline.now()
        var outcome = RampOutcome()
        streams.reserveCapacity(count)
        while streams.count < count, !stopping.load(ordering: .relaxed) {
            let first = streams.count
            let size = min(batch, count - first)
            for _ in 0..<size { connectNext(&outcome) }
            let deadline = NIODeadline.now() + .seconds(Int64(timeout))
            while streams[first...].contains(where: { $0.state == .connecting || $0.state == .awaitingHead }) {
                if NIODeadline.now() > deadline {
                    for index in first..<streams.count where streams[index].state == .connecting || streams[index].state == .awaitingHead {
                        fail(index, BenchError.openTimeout(seconds: timeout), &outcome)
                    }
                    break
                }
                poll(timeoutMilliseconds: 50, ramp: &outcome)
            }
        }
        outcome.seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        return outcome
    }

    private func connectNext(_ outcome: inout RampOutcome) {
        let index = streams.count
        streams.append(Stream())
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return fail(index, BenchError.system("socket: \(String(cString: strerror(errno)))"), &outcome) }
        streams[index].fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(endpoint.address.port ?? 80).bigEndian)
        inet_pton(AF_INET, endpoint.address.ipAddress ?? "127.0.0.1", &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 || errno == EINPROGRESS else {
            return fail(index, BenchError.system("connect: \(String(cString: strerror(errno)))"), &outcome)
        }
        var event = epoll_event()
        event.events = EPOLLOUT.rawValue | EPOLLIN.rawValue
        event.data.u64 = UInt64(index)
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
    }

    private func poll(timeoutMilliseconds: Int32) {
        var none = RampOutcome()
        poll(timeoutMilliseconds: timeoutMilliseconds, ramp: &none)
    }

    private func poll(timeoutMilliseconds: Int32, ramp outcome: inout RampOutcome) {
        let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), timeoutMilliseconds) }
        guard count > 0 else { return }
        for slot in 0..<Int(count) {
            let tag = events[slot].data.u64
            if tag == Self.wakeTag { continue }
            let index = Int(tag)
            let flags = events[slot].events
            switch streams[index].state {
            case .connecting:
                if flags & (EPOLLOUT.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { sendRequest(index, &outcome) }
            case .awaitingHead, .streaming:
                readable(index, &outcome)
            case .closed:
                break
            }
        }
    }

    private func sendRequest(_ index: Int, _ outcome: inout RampOutcome) {
        let fd = streams[index].fd
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else { return fail(index, BenchError.system("connect: \(String(cString: strerror(error)))"), &outcome) }
        let request = Self.requestBytes(endpoint.request(index: index))
        let written = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == request.count else { return fail(index, BenchError.system("the request did not fit the socket"), &outcome) }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = UInt64(index)
        epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event)
        streams[index].state = .awaitingHead
    }

    private func readable(_ index: Int, _ outcome: inout RampOutcome) {
        let fd = streams[index].fd
        let count = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0, errno == EAGAIN || errno == EINTR { return }
        guard count > 0 else {
            if streams[index].state == .streaming { totals.streamsClosed += 1 }
            return fail(index, count == 0 ? BenchError.closedBeforeResponse : BenchError.system("read: \(String(cString: strerror(errno)))"), &outcome)
        }
        // One clock read per read from the socket: every event in it arrived at the same time.
        let now = NIODeadline.now().uptimeNanoseconds
        readBuffer.withUnsafeBytes { all in
            var bytes = UnsafeRawBufferPointer(rebasing: all[0..<count])
            if streams[index].state == .awaitingHead {
                guard let rest = headRead(index, bytes, &outcome) else { return }
                bytes = rest
            }
            scan(index, bytes, at: now)
        }
    }

    /// Adds bytes to a stream's response head; once it is complete and says 200, the stream is open and
    /// the bytes after the head are returned for scanning.
    private func headRead(_ index: Int, _ bytes: UnsafeRawBufferPointer, _ outcome: inout RampOutcome) -> UnsafeRawBufferPointer? {
        let before = streams[index].head.count
        streams[index].head.append(contentsOf: bytes)
        let head = streams[index].head
        guard let end = head.firstRange(of: [13, 10, 13, 10]) else {
            if head.count > Self.maximumHead { fail(index, BenchError.badResponse("no response head in \(head.count) bytes"), &outcome) }
            return nil
        }
        let statusLine = String(decoding: head.prefix { $0 != 13 }, as: UTF8.self)
        guard statusLine.hasPrefix("HTTP/1.1 200 ") || statusLine.hasPrefix("HTTP/1.0 200 ") else {
            fail(index, BenchError.badResponse(statusLine), &outcome)
            return nil
        }
        streams[index].state = .streaming
        streams[index].head = []
        outcome.opened += 1
        counters.update { $0.opened += 1 }
        let consumed = end.upperBound - before
        return UnsafeRawBufferPointer(rebasing: bytes[consumed...])
    }

    private func scan(_ index: Int, _ bytes: UnsafeRawBufferPointer, at now: UInt64) {
        var found = 0
        // Scanned on copies and stored back: the closure must not reach into `streams` while it is scanned.
        var scanner = streams[index].scanner
        var lastSequence = streams[index].lastSequence
        scanner.scan(bytes) { sequence, sentAt in
            let inOrder = lastSequence.map { sequence > $0 } ?? true
            lastSequence = sequence
            totals.deliveries += 1
            if !inOrder { totals.outOfOrder += 1 }
            totals.latencies.record(nanoseconds: now >= sentAt ? now - sentAt : 0)
            found += 1
        }
        streams[index].scanner = scanner
        streams[index].lastSequence = lastSequence
        if found > 0 {
            totals.lastDeliveryAt = now
            delivered.add(found, ordering: .relaxed)
        }
    }

    private func fail(_ index: Int, _ error: BenchError, _ outcome: inout RampOutcome) {
        let state = streams[index].state
        if streams[index].fd >= 0 {
            close(streams[index].fd)
            streams[index].fd = -1
        }
        streams[index].state = .closed
        streams[index].head = []
        guard state == .connecting || state == .awaitingHead else { return }
        outcome.failed += 1
        counters.update { $0.openFailed += 1 }
        if outcome.firstError == nil { outcome.firstError = "\(error)" }
    }

    private static func requestBytes(_ head: HTTPRequestHead) -> [UInt8] {
        var text = "GET \(head.uri) HTTP/1.1\r\n"
        for (name, value) in head.headers { text += "\(name): \(value)\r\n" }
        return Array((text + "\r\n").utf8)
    }
}
