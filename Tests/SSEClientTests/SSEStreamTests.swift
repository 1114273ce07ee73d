import Testing

@testable import SSEClient

@Suite("SSEStream", .timeLimit(.minutes(1)))
struct SSEStreamTests {
    static let streamHead =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
    static let chunkedHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"

    private static func chunk(_ text: String) -> String {
        String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n"
    }

    /// Connects to `target` on `server` and answers the request with `response`, returning the open stream
    /// and the server's side of the request.
    private static func open(
        _ server: ScriptedHTTPServer,
        _ target: String = "/events?channel=a",
        headers: [(String, String)] = [],
        response: String = streamHead
    ) async throws -> (SSEStream, ScriptedRequest) {
        async let stream = SSEStream.connect(server.baseURL + target, headers: headers, timeout: .seconds(5))
        let request = try await server.nextRequest()
        try await request.send(response)
        return (try await stream, request)
    }

    @Test func receivesEventsOverCloseDelimitedBody() async throws {
        try await ScriptedHTTPServer.with { server in
            let (stream, request) = try await Self.open(
                server, headers: [("Last-Event-ID", "41"), ("Origin", "https://app.example")],
                response: Self.streamHead + ": welcome\n\nid: 42\nevent: tick\ndata: one\n\n")
            #expect(request.method == "GET")
            #expect(request.target == "/events?channel=a")
            #expect(request.header("Accept") == "text/event-stream")
            #expect(request.header("Host") == "127.0.0.1:\(server.port)")
            #expect(request.header("Last-Event-ID") == "41")
            #expect(request.header("Origin") == "https://app.example")
            #expect(stream.status == 200)
            #expect(stream.header("content-type") == "text/event-stream")

            #expect(try await stream.next() == SSEEvent(id: "42", event: "tick", data: "one"))
            #expect(stream.commentCount == 1)

            try await request.send(": hb\n\ndata: two\ndata: lines\n\ndata: unfinished\n")
            try await request.close()
            #expect(try await stream.next() == SSEEvent(id: "42", data: "two\nlines"))
            #expect(try await stream.next() == nil)
            #expect(stream.commentCount == 2)
            #expect(stream.eventCount == 2)
        }
    }

    @Test func receivesEventsOverChunkedBody() async throws {
        try await ScriptedHTTPServer.with { server in
            let (stream, request) = try await Self.open(
                server, response: Self.chunkedHead + Self.chunk(": hi\r\ndata: he"))
            // Chunk boundaries fall inside a value and between the CR and LF of a line ending.
            try await request.send(Self.chunk("llo\r") + Self.chunk("\n\r\nid: 9\ndata: wor"))
            #expect(try await stream.next() == SSEEvent(data: "hello"))
            try await request.send(Self.chunk("ld\n\n") + "0\r\n\r\n")
            #expect(try await stream.next() == SSEEvent(id: "9", data: "world"))
            // The terminating chunk ends the stream although the server keeps the connection open.
            #expect(try await stream.next() == nil)
            #expect(stream.commentCount == 1)
            try await stream.waitClosed(timeout: .seconds(5))
        }
    }

    @Test func chunkedBodyCutShortByTheServerClosingEndsTheStream() async throws {
        try await ScriptedHTTPServer.with { server in
            let (stream, request) = try await Self.open(server, response: Self.chunkedHead + Self.chunk("data: a\n\n"))
            try await request.send("20\r\ndata: cut")
            try await request.close()
            #expect(try await stream.next() == SSEEvent(data: "a"))
            #expect(try await stream.next() == nil)
        }
    }

    @Test func eventsSequenceYieldsEverythingUntilTheServerCloses() async throws {
        try await ScriptedHTTPServer.with { server in
            let (stream, request) = try await Self.open(server, response: Self.streamHead + "data: 1\n\n")
            try await request.send("data: 2\n\ndata: 3\n\n")
            try await request.close()
            var received: [String] = []
            for try await event in stream.events {
                received.append(event.data)
            }
            #expect(received == ["1", "2", "3"])
        }
    }

    @Test(arguments: [
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 10\r\n\r\noverloaded",
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\noverloaded",
        "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nover\r\n6\r\nloaded\r\n0\r\n\r\n",
    ])
    func nonOKStatusThrowsWithTheBody(response: String) async throws {
        try await ScriptedHTTPServer.with { server in
            let stream = Task { try await SSEStream.connect(server.baseURL + "/events", timeout: .seconds(5)) }
            let request = try await server.nextRequest()
            try await request.send(response)
            if response.contains("Connection: close") { try await request.close() }
            await #expect(throws: SSEClientError.unexpectedStatus(503, "overloaded")) { try await stream.value }
        }
    }

    @Test func connectingToAClosedPortThrowsQuickly() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: (any Error).self) {
            try await SSEStream.connect("http://127.0.0.1:1/events", timeout: .seconds(30))
        }
        #expect(error as? SSEClientError != .timeout)
        #expect(clock.now - start < .seconds(5))
    }

    @Test func connectTimesOutWhenNoResponseHeadArrives() async throws {
        try await ScriptedHTTPServer.with { server in
            let stream = Task { try await SSEStream.connect(server.baseURL + "/events", timeout: .milliseconds(300)) }
            let request = try await server.nextRequest()
            await #expect(throws: SSEClientError.timeout) { try await stream.value }
            // The client gives up its connection too.
            await request.waitForClose()
        }
    }

    @Test func connectionClosedBeforeTheHeadThrows() async throws {
        try await ScriptedHTTPServer.with { server in
            let stream = Task { try await SSEStream.connect(server.baseURL + "/events", timeout: .seconds(5)) }
            try await server.nextRequest().close()
            await #expect(throws: SSEClientError.connectionClosed) { try await stream.value }
        }
    }

    @Test func waitClosedReturnsWhenTheServerCloses() async throws {
        try await ScriptedHTTPServer.with { server in
            let (stream, request) = try await Self.open(server)
            #expect(stream.isOpen)
            try await request.close()
            try await stream.waitClosed(timeout: .seconds(5))
            #expect(!stream.isOpen)
        }
    }

    @Test func waitClosedTimesOutWhileTheServerKeepsTheConnectionOpen() async throws {
        try await ScriptedHTTPServer.with { server in
            let (stream, _) = try await Self.open(server)
            await #expect(throws: SSEClientError.timeout) { try await stream.waitClosed(timeout: .milliseconds(200)) }
            #expect(stream.isOpen)
        }
    }

    @Test func nextTimesOutWithoutEndingTheStream() async throws {
        try await ScriptedHTTPServer.with { server in
            let (stream, request) = try await Self.open(server)
            await #expect(throws: SSEClientError.timeout) { try await stream.next(timeout: .milliseconds(200)) }
            try await request.send("data: late\n\n")
            #expect(try await stream.next() == SSEEvent(data: "late"))
        }
    }

    @Test func cancellingAWaitingConsumerKeepsTheStream() async throws {
        try await ScriptedHTTPServer.with { server in
            let (stream, request) = try await Self.open(server)
            let waiting = Task { try await stream.next(timeout: .seconds(30)) }
            // Cancel only once the consumer is suspended, so the cancellation handler path is the one tested.
            while !stream.isConsumerWaiting { await Task.yield() }
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            // A task cancelled before it asks takes the other path.
            let cancelledFirst = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await stream.next(timeout: .seconds(30))
            }
            await #expect(throws: CancellationError.self) { try await cancelledFirst.value }
            try await request.send("data: after\n\n")
            #expect(try await stream.next() == SSEEvent(data: "after"))
        }
    }

    @Test func closeEndsTheStreamAndTheConnection() async throws {
        try await ScriptedHTTPServer.with { server in
            let (stream, request) = try await Self.open(server)
            await stream.close()
            await request.waitForClose()
            #expect(!stream.isOpen)
            #expect(try await stream.next() == nil)
        }
    }

    @Test func connectRejectsInvalidURLs() async throws {
        await #expect(throws: SSEClientError.invalidURL("https://example.com/events")) {
            try await SSEStream.connect("https://example.com/events")
        }
    }
}
