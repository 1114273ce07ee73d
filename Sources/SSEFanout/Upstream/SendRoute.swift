/// What `POST /send/<path>` and `POST /upload/<path>` need (`UpstreamRoutes.swift`): who may send, from
/// which origins, under which limits, and where it goes on.
struct SendRoute: Sendable {
    let authenticator: Authenticator
    let cors: CORSPolicy
    let upstream: UpstreamSender
    let limits: SendRequest.Limits
}
