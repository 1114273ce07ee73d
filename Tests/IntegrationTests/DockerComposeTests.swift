import Foundation
import Testing

/// Checks the deployment files that cannot be run here (no Docker engine): the compose file
/// validates with `docker-compose config`, nginx's SSE settings are in place and the local
/// copy that scripts/cluster.sh writes passes `nginx -t`, and the node configs are sound.
@Suite("Deployment configuration (docker/, Configs/, scripts/cluster.sh)")
struct DockerComposeTests {
    /// The package root: this file is Tests/IntegrationTests/DockerComposeTests.swift.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let nodeServices = ["node1", "node2", "node3"]
    static let services = ["rabbitmq", "redis"] + nodeServices + ["nginx", "demo-publisher"]
    static let nodePorts = [8081, 8082, 8083]

    @Test("docker-compose config accepts docker/docker-compose.yml")
    func composeConfigValidates() async throws {
        let compose = try #require(
            Self.executable("docker-compose"),
            "docker-compose is not installed (apt-get install docker-compose, or WITH_COMPOSE=1 scripts/install-deps.sh)"
        )
        let result = try await Self.run(compose, ["-f", "docker/docker-compose.yml", "config"])
        try #require(result.status == 0, "docker-compose config failed (\(result.status)):\n\(result.stderr)\(result.stdout)")

        let names = Self.serviceNames(inComposeConfig: result.stdout)
        for service in Self.services {
            #expect(names.contains(service), "service \(service) missing; found \(names.sorted())")
        }
        for port in Self.nodePorts + [8080] {
            // docker-compose 1.29 prints `published: 8081`, `docker compose` v2 `published: "8081"`.
            let published = ["published: \(port)\n", "published: \"\(port)\"", "- \(port):\(port)", "- \"\(port):\(port)\""]
            #expect(published.contains { result.stdout.contains($0) }, "host port \(port) is not published")
        }
        #expect(result.stdout.contains("condition: service_healthy"))
        for port in Self.nodePorts {
            #expect(result.stdout.contains("- '\(port)'") || result.stdout.contains("- \"\(port)\""),
                    "no node is started with --port \(port)")
        }
    }

    @Test("docker/nginx.conf is set up for Server-Sent Events")
    func nginxConfigIsSetUpForSSE() throws {
        let conf = try String(contentsOf: Self.root.appendingPathComponent("docker/nginx.conf"), encoding: .utf8)
        let directives = Self.directives(conf)
        for expected in [
            "proxy_buffering off", "proxy_cache off", "proxy_http_version 1.1", "proxy_set_header Connection \"\"",
            "proxy_read_timeout 1h", "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for",
            "include sse-fanout.d/upstream.conf", "include sse-fanout.d/listen.conf",
        ] {
            let present = directives.contains(expected)
            #expect(present, "docker/nginx.conf lacks `\(expected);`")
        }
        let chunkedOff = directives.contains("chunked_transfer_encoding off")
        #expect(!chunkedOff, "SSE streams have no length: chunked_transfer_encoding must stay on")

        let upstream = try String(contentsOf: Self.root.appendingPathComponent("docker/nginx.d/upstream.conf"), encoding: .utf8)
        for (service, port) in zip(Self.nodeServices, Self.nodePorts) {
            #expect(upstream.contains("server \(service):\(port)"), "the Docker upstream lacks \(service):\(port)")
        }
    }

    @Test("nginx -t accepts the local copy that scripts/cluster.sh writes",
          .enabled(if: DockerComposeTests.executable("nginx") != nil, "nginx is not installed"))
    func localNginxConfigPasses() async throws {
        let nginx = try #require(Self.executable("nginx"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sse-fanout-nginx-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }

        let written = try await Self.run("/bin/bash", ["scripts/cluster.sh", "nginx-config", dir.path])
        try #require(written.status == 0, "cluster.sh nginx-config failed:\n\(written.stderr)")
        let upstream = try String(contentsOf: dir.appendingPathComponent("conf/sse-fanout.d/upstream.conf"), encoding: .utf8)
        for port in Self.nodePorts {
            #expect(upstream.contains("server 127.0.0.1:\(port)"))
        }

        let test = try await Self.run(nginx, [
            "-t", "-p", dir.path + "/", "-c", dir.appendingPathComponent("conf/nginx.conf").path,
            "-e", dir.appendingPathComponent("logs/error.log").path,
            "-g", "pid \(dir.appendingPathComponent("nginx.pid").path);",
        ])
        #expect(test.status == 0, "nginx -t failed:\n\(test.stderr)")
    }

    @Test("Configs/ hold valid node configs for the three setups")
    func nodeConfigs() throws {
        let single = try Self.json("Configs/node.json")
        #expect(Self.value(single, "http", "port") as? Int == 8080)
        #expect(Self.value(single, "http", "host") as? String == "127.0.0.1")
        #expect((Self.value(single, "amqp", "url") as? String)?.contains("@127.0.0.1:5672/") == true)
        #expect((Self.value(single, "redis", "url") as? String)?.hasPrefix("redis://127.0.0.1:6379") == true)

        for port in Self.nodePorts {
            let node = try Self.json("Configs/cluster/node-\(port).json")
            #expect(Self.value(node, "http", "port") as? Int == port)
            #expect(Self.value(node, "node", "id") as? String == String(port))
            #expect(Self.value(node, "http", "corsOrigins") as? [String] == ["*"])
            // The private servers of scripts/services.sh.
            #expect((Self.value(node, "amqp", "url") as? String)?.contains("@127.0.0.1:5682/") == true)
            #expect((Self.value(node, "redis", "url") as? String)?.hasPrefix("redis://127.0.0.1:6390") == true)
        }

        let docker = try Self.json("Configs/docker/node.json")
        #expect(Self.value(docker, "http", "host") as? String == "0.0.0.0")
        // One file for all three nodes: the id must come from each node's --port.
        #expect(Self.value(docker, "node", "id") == nil)
        #expect((Self.value(docker, "amqp", "url") as? String)?.contains("@rabbitmq:5672/") == true)
        #expect((Self.value(docker, "redis", "url") as? String)?.hasPrefix("redis://redis:6379") == true)
    }

    @Test("scripts/cluster.sh parses")
    func clusterScriptParses() async throws {
        let result = try await Self.run("/bin/bash", ["-n", "scripts/cluster.sh"])
        #expect(result.status == 0, "bash -n scripts/cluster.sh:\n\(result.stderr)")
    }

    // MARK: - Helpers

    /// The full path of `name` on PATH, or in the sbin folders a non-root PATH may lack.
    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin"]
        return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `executable` with `arguments` in the package root and collects its output. Waits without
    /// holding a thread: the test process's other tests share the few threads there are.
    static func run(_ executable: String, _ arguments: [String]) async throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sse-fanout-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = root
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return Result(
            status: process.terminationStatus,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        )
    }

    /// The keys directly under the top-level `services:` of `docker-compose config` output.
    static func serviceNames(inComposeConfig yaml: String) -> Set<String> {
        var names = Set<String>()
        var inServices = false
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: true) {
            if !line.hasPrefix(" ") {
                inServices = line == "services:"
            } else if inServices, line.hasPrefix("  "), !line.hasPrefix("   "), line.hasSuffix(":") {
                names.insert(String(line.dropFirst(2).dropLast()))
            }
        }
        return names
    }

    /// The config's directives, comments dropped and whitespace collapsed, without the `;`.
    static func directives(_ conf: String) -> Set<String> {
        var result = Set<String>()
        for line in conf.split(separator: "\n") {
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for statement in code.split(separator: ";") {
                let words = statement.split(whereSeparator: { $0 == " " || $0 == "\t" })
                if !words.isEmpty { result.insert(words.joined(separator: " ")) }
            }
        }
        return result
    }

    static func json(_ relativePath: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent(relativePath))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(relativePath) is not a JSON object")
    }

    static func value(_ object: [String: Any], _ section: String, _ key: String) -> Any? {
        (object[section] as? [String: Any])?[key]
    }
}
