extension Address {
    /// The address `key` names (`Address.key` read back): how the registry stores a connection's
    /// addresses. Nil for text no key looks like.
    public init?(key: String) {
        if key == "broadcast" {
            self = .broadcast
            return
        }
        let utf8 = key.utf8
        // The kind ends at the first `@` (a tenant follows, up to `:`) or `:` (the id follows).
        guard let end = utf8.firstIndex(where: { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: ":") }),
              let kind = Kind(rawValue: String(Substring(utf8[..<end]))), kind != .broadcast
        else { return nil }
        let rest = utf8[utf8.index(after: end)...]
        var tenant = ""
        var id = Substring(rest)
        if utf8[end] == UInt8(ascii: "@") {
            // Tenants cannot hold `:`, so the first one ends the tenant.
            let colon = rest.firstIndex(of: UInt8(ascii: ":"))
            tenant = String(Substring(rest[..<(colon ?? rest.endIndex)]))
            id = colon.map { Substring(rest[rest.index(after: $0)...]) } ?? ""
            if kind == .tenant {
                guard colon == nil, !tenant.isEmpty else { return nil }
                self.init(kind: .tenant, tenant: tenant, id: "")
                return
            }
            guard colon != nil, !tenant.isEmpty else { return nil }
        }
        guard kind != .tenant, !id.isEmpty else { return nil }
        self.init(kind: kind, tenant: tenant, id: String(id))
    }

    /// The id as a client knows it: a client address's device id, a tenant address's tenant, the id
    /// for the others.
    public var name: String {
        switch kind {
        case .client: clientParts?.id ?? id
        case .tenant: tenant
        default: id
        }
    }
}
