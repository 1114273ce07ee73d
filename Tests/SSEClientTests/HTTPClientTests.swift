import SSEClient
import Testing

@Suite("HTTPClient", .timeLimit(.minutes(1)))
struct HTTPClientTests {
    let client = HTTPClient()

    @Test func postsABodyAndReadsAContentLengthResponse() async throws {
        try await ScriptedHTTPServer.with { server in
            let payload = Array(#"{"channel":"a","data":"héllo"}"#.utf8)
            async let response = client.request(
                "POST", server.baseURL + "/publish", headers: [("Content-Type", "application/json")], body: payload,
                timeout: .seconds(5))
            let request = try await server.nextRequest()
            #expect(request.method == "POST")
            #expect(request.target == "/publish")
            #expect(request.header("Content-Length") == String(payload.count))
            #expect(request.header("Content-Type") == "application/json")
            #expect(request.header("Host") == "127.0.0.1:\(server.port)")
            #expect(request.body == payload)
            // Keep-alive: the response must end by its length, not by the server closing.
            try await request.send(
                "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nX-Delivered: 3\r\nConnection: keep-alive\r\n\r\nok")
            let result = try await response
            #expect(result.status == 202)
            #expect(result.header("x-delivered") == "3")
            #expect(result.header("X-DELIVERED") == "3")
            #expect(result.header("missing") == nil)
            #expect(result.bodyString == "ok")
            #expect(result.body == Array("ok".utf8))
            await request.waitForClose()  // The client closes its connection once the response is read.
        }
    }

    @Test func connectsByHostName() async throws {
        try await ScriptedHTTPServer.with { server in
            // "localhost" goes through the resolver and Happy Eyeballs; the server listens on IPv4 only.
            async let response = client.request("GET", "http://localhost:\(server.port)/healthz", timeout: .seconds(5))
            let request = try await server.nextRequest()
            #expect(request.header("Host") == "localhost:\(server.port)")
            try await request.send("HTTP/1.1 204 No Content\r\n\r\n")
            #expect(try await response.status == 204)
        }
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhea\r\n4\r\nlthy\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhealthy",
    ])
    func readsChunkedAndCloseDelimitedResponses(response: String) async throws {
        try await ScriptedHTTPServer.with { server in
            async let result = client.request("GET", server.baseURL + "/healthz", timeout: .seconds(5))
            let request = try await server.nextRequest()
            #expect(request.method == "GET")
            #expect(request.body.isEmpty)
            try await request.send(response)
            if response.contains("Connection: close") { try await request.close() }
            #expect(try await result.bodyString == "healthy")
        }
    }

    @Test func timesOutWhenTheServerDoesNotAnswer() async throws {
        try await ScriptedHTTPServer.with { server in
            let result = Task {
                try await client.request("GET", server.baseURL + "/healthz", timeout: .milliseconds(300))
            }
            let request = try await server.nextRequest()
            await #expect(throws: SSEClientError.timeout) { try await result.value }
            await request.waitForClose()
        }
    }

    @Test func serverClosingBeforeTheResponseEndsThrows() async throws {
        try await ScriptedHTTPServer.with { server in
            let result = Task { try await client.request("GET", server.baseURL + "/healthz", timeout: .seconds(5)) }
            let request = try await server.nextRequest()
            try await request.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
            try await request.close()
            await #expect(throws: SSEClientError.connectionClosed) { try await result.value }
        }
    }

    @Test func connectingToAClosedPortThrowsQuickly() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: (any Error).self) {
            try await client.request("GET", "http://127.0.0.1:1/healthz", timeout: .seconds(30))
        }
        #expect(error as? SSEClientError != .timeout)
        #expect(clock.now - start < .seconds(5))
    }

    @Test func rejectsInvalidURLs() async throws {
        await #expect(throws: SSEClientError.invalidURL("127.0.0.1:8080/healthz")) {
            try await client.request("GET", "127.0.0.1:8080/healthz")
        }
    }
}
