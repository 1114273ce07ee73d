/// What the node's HTTP port serves, each route given the parts it needs (ARCHITECTURE.md, "Routes by
/// feature"). Made once per server.
extension Node {
    func routes(server: HTTPServer) -> HTTPRoutes {
        let logger = self.logger
        var table = RouteTable()
        table.add([.POST], .exact("/publish"), PublishRoute(authenticator: authenticator, router: router, maxBatchItems: configuration.maxBatchItems, logger: logger))
        table.add([.POST], .exact("/disconnect"), KickRoute(authenticator: authenticator, kicker: kicker, logger: logger))
        table.add([.GET, .HEAD], .exact("/healthz"), HealthRoute(nodeID: nodeID))
        table.add([.GET, .HEAD], .exact("/readyz"), ReadinessRoute(nodeID: nodeID, readiness: readiness, authenticator: authenticator))
        if configuration.metricsEnabled {
            table.add(
                [.GET], .exact("/metrics"), MetricsRoute(authenticator: authenticator, metrics: metrics, hub: hub, logger: logger), refusesOtherMethods: false)
        }
        table.add([.GET], .matching(PresenceRoutes.handles), PresenceRoute(authenticator: authenticator, presence: registry, logger: logger))
        if configuration.demo {
            table.add([.GET, .HEAD], .exact("/demo"), FileRoute.page(WebPages.demo), refusesOtherMethods: false)
            let signs = !configuration.auth.disabled
            table.add(
                [.POST], .exact("/demo/token"),
                DemoTokenRoute(authenticator: authenticator, signs: signs, maxTokenLifetime: configuration.auth.maxTokenLifetime, logger: logger),
                refusesOtherMethods: false)
        }
        table.add([.GET, .HEAD], .exact("/admin"), FileRoute.page(WebPages.admin))
        table.add(
            [.GET], .matching(AdminRoutes.handles),
            AdminRoute(authenticator: authenticator, registry: registry, queueInspector: queueInspector, demo: configuration.demo, logger: logger))
        // Static files: another method finds nothing there (404), as on a file server.
        table.add([.GET, .HEAD], .exact("/sse.js"), FileRoute.client(BrowserClient.module), refusesOtherMethods: false)
        table.add([.GET, .HEAD], .exact("/sse.d.ts"), FileRoute.client(BrowserClient.types), refusesOtherMethods: false)
        table.handledElsewhere(.exact("/events"))
        table.handledElsewhere(.matching { SendKind.of(path: $0) != nil })
        let stream = StreamRoute(
            authenticator: authenticator, cors: cors, kicks: kicks, hub: hub, streams: streams, maxConnections: configuration.maxConnections,
            addressLimit: addressLimit, userLimit: userLimit, limitLogs: limitLogs, isAccepting: { [weak server] in server?.isAcceptingStreams ?? false },
            logger: logger)
        let sends = SendRoute(
            authenticator: authenticator, cors: cors, upstream: upstream,
            limits: SendRequest.Limits(maxBodySize: configuration.maxBodySize, maxUploadSize: configuration.maxUploadSize))
        return HTTPRoutes(table: table, stream: stream, sends: sends, cors: cors, maxBodySize: configuration.maxBodySize, logger: logger)
    }
}
