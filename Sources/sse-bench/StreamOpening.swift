import Foundation
import NIOCore
import SSEClient

/// Reads the first bytes of a stream until it counts as open: a `200` response head, and, when
/// `awaitConnected`, sse-fanout's first event, which must be `event: connected` (the server sends it once
/// the stream's registration is written, so a publish after it finds the stream). Bytes after that point
/// are handed back for the event scanner. Keeps bytes only until then.
struct StreamOpening {
    enum Step {
        case needMore
        /// Open. The greeting is read only with `readGreeting`; `rest` holds the bytes that followed.
        case opened(StreamGreeting?, rest: ByteBuffer?)
        case failed(BenchError)
    }

    /// A response head and a first event are far smaller than this.
    private static let maximumSize = 16 * 1024
    private static let headEnd: [UInt8] = Array("\r\n\r\n".utf8)

    private let awaitConnected: Bool
    private let readGreeting: Bool
    private var pending: ByteBuffer?
    private var headRead = false

    init(awaitConnected: Bool, readGreeting: Bool) {
        self.awaitConnected = awaitConnected || readGreeting
        self.readGreeting = readGreeting
    }

    mutating func feed(_ bytes: ByteBuffer) -> Step {
        var buffer: ByteBuffer
        if var earlier = pending {
            pending = nil
            var more = bytes
            earlier.writeBuffer(&more)
            buffer = earlier
        } else {
            buffer = bytes
        }
        if !headRead {
            guard let end = buffer.readableBytesView.firstRange(of: Self.headEnd) else { return keep(buffer) }
            let statusLine = String(decoding: buffer.readableBytesView.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
            guard statusLine.hasPrefix("HTTP/1.1 200 ") || statusLine.hasPrefix("HTTP/1.0 200 ") else {
                return .failed(.badResponse(statusLine))
            }
            headRead = true
            buffer.moveReaderIndex(forwardBy: end.upperBound - buffer.readableBytesView.startIndex)
            if !awaitConnected { return .opened(nil, rest: buffer.readableBytes > 0 ? buffer : nil) }
        }
        // Blocks that end in a blank line, until one holds an event (comments alone do not).
        while let end = Self.blockEnd(in: buffer) {
            let block = buffer.readSlice(length: end)!
            var parser = SSEParser()
            guard let event = parser.feed(block).first else { continue }
            guard event.event == "connected" else {
                return .failed(.badResponse("the first event is '\(event.event)', not 'connected'"))
            }
            var greeting: StreamGreeting?
            if readGreeting {
                greeting = try? JSONDecoder().decode(StreamGreeting.self, from: Data(event.data.utf8))
                guard greeting != nil else { return .failed(.badResponse("no connectionId in 'connected': \(event.data)")) }
            }
            return .opened(greeting, rest: buffer.readableBytes > 0 ? buffer : nil)
        }
        return keep(buffer)
    }

    private mutating func keep(_ buffer: ByteBuffer) -> Step {
        guard buffer.readableBytes <= Self.maximumSize else {
            return .failed(.badResponse("not open after \(buffer.readableBytes) bytes"))
        }
        pending = buffer
        return .needMore
    }

    /// The length of the first block ending in a blank line (LF LF, or LF CR LF), with that line.
    private static func blockEnd(in buffer: ByteBuffer) -> Int? {
        let view = buffer.readableBytesView
        var index = view.startIndex
        var previousLineFeed = false
        while index < view.endIndex {
            switch view[index] {
            case UInt8(ascii: "\n"):
                if previousLineFeed { return index + 1 - view.startIndex }
                previousLineFeed = true
            case UInt8(ascii: "\r"):
                break
            default:
                previousLineFeed = false
            }
            index += 1
        }
        return nil
    }
}
