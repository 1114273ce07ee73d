/// A key that publishes, kicks and reads presence in one tenant only (`--tenant-api-key TENANT=KEY`):
/// what a multi-tenant operator hands each tenant's backend.
public struct TenantAPIKey: Sendable, Equatable {
    public var tenant: String
    public var key: String

    public init(tenant: String, key: String) {
        self.tenant = tenant
        self.key = key
    }

    /// `TENANT=KEY`, as the flag and `SSE_FANOUT_AUTH_TENANT_API_KEYS` (comma-separated) give it; nil
    /// when there is no `=`. The tenant and the key are checked by `AuthConfiguration.validate`.
    public init?(_ text: String) {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        self.init(tenant: String(text[..<equals]), key: String(text[text.index(after: equals)...]))
    }
}
