// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "sse-fanout",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sse-fanout", targets: ["sse-fanout"]),
        .library(name: "SSEFanout", targets: ["SSEFanout"]),
        .library(name: "SSEClient", targets: ["SSEClient"]),
        .executable(name: "sse-bench", targets: ["sse-bench"]),
        .executable(name: "sse-chaos", targets: ["sse-chaos"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "4.1.0"..<"6.0.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
    ],
    targets: [
        // C libraries from Debian (librabbitmq-dev, libhiredis-dev), each wrapped by a small Swift module.
        .systemLibrary(
            name: "CRabbitMQ",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // glibc's malloc.h (mallinfo2, malloc_trim): part of libc, nothing to install.
        .systemLibrary(name: "CMalloc"),
        // Linux's epoll and eventfd (libc): the load tool's one-thread stream reader.
        .systemLibrary(name: "CEpoll"),
        // What both C clients' Swift modules share: the owning thread and its queue, the connection status,
        // the reconnect backoff and the one-shot result a caller awaits.
        .target(
            name: "ClientRuntime",
            dependencies: [
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "RabbitMQ",
            dependencies: [
                "CRabbitMQ",
                "ClientRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Redis",
            dependencies: [
                "CHiredis",
                "ClientRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The service: node, local hub, router, broker and registry, HTTP/SSE server.
        .target(
            name: "SSEFanout",
            dependencies: [
                "RabbitMQ",
                "Redis",
                "CMalloc",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // Forwards browser sends and uploads to the upstream backend (--upstream-url).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // Parses uploads (multipart/form-data) before they are published to sse.upstream.
                .product(name: "MultipartKit", package: "multipart-kit"),
            ],
            // Compiled in through BrowserClient+Files.swift and WebPages+Files.swift (scripts/embed-web-files.sh).
            exclude: ["Browser/sse.js", "Browser/sse.d.ts", "Pages/demo.html", "Pages/admin.html"],
            // The run-time exclusivity checks cost a broadcast about a tenth of its user time (a check per
            // access to a stream's state, per delivery; BENCHMARKS.md, S2). The compiler still checks what
            // it can see, and debug builds, which the tests run, keep the run-time checks.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // A small SwiftNIO SSE and HTTP client, used by the tests and the CLI.
        .target(
            name: "SSEClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "sse-fanout",
            dependencies: [
                "SSEFanout",
                "SSEClient",
                "RabbitMQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The load tool: scenarios (idle, broadcast, unicast, churn) against sse-fanout or nginx+nchan, on
        // SwiftNIO; publishes over HTTP or straight to RabbitMQ, and draws the results as SVG charts.
        .executableTarget(
            name: "sse-bench",
            dependencies: [
                "CEpoll",
                "SSEClient",
                "SSEFanout",
                "RabbitMQ",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // The chaos suite: real nodes, redis-server and rabbitmq-server, faults, and a per-client delivery checker.
        .executableTarget(
            name: "sse-chaos",
            dependencies: [
                "SSEClient",
                // To listen to the lifecycle events the nodes publish (lifecycle-balance).
                "RabbitMQ",
                // The publisher's retry backoff.
                "ClientRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SSEFanoutTests",
            dependencies: [
                "SSEFanout", "SSEClient", .product(name: "NIOEmbedded", package: "swift-nio"),
                // The node's services are driven in service groups of their own.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The authentication tests generate keys, sign tokens by hand and cross-check them with jwt-kit.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ]
        ),
        .testTarget(name: "SSEClientTests", dependencies: ["SSEClient"]),
        .testTarget(name: "ClientRuntimeTests", dependencies: ["ClientRuntime"]),
        .testTarget(name: "RabbitMQTests", dependencies: ["RabbitMQ"]),
        .testTarget(name: "RedisTests", dependencies: ["Redis"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "SSEFanout", "SSEClient", "RabbitMQ", "Redis", .product(name: "Crypto", package: "swift-crypto"),
                // The upstream tests run a small HTTP backend of their own.
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
