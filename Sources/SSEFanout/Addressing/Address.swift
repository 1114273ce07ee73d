import Foundation

/// Who an event is for, and what a connection answers to: a kind and an id, scoped by tenant.
///
/// It is the one idea behind targets, hub indexes, registry keys, history streams, resume tags and a
/// connection's identity (`ConnectionRecord.addresses`). What each kind means to the registry, the
/// lifecycle events and a connection's JSON is declared on `Kind` (`Address+Kind.swift`); ARCHITECTURE.md,
/// "Adding a target kind", lists the places a new kind touches. `alice` in tenant `a` and `alice` in
/// tenant `b` are two addresses; the default tenant is the empty string.
public struct Address: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        /// One stream, by its `connectionId`.
        case connection
        /// Every stream of a user.
        case user
        /// Every stream of one login (a token's `sid`): all tabs and devices it opened.
        case session
        /// One device of a user (`clientId`).
        case client
        /// Every stream of a tenant.
        case tenant
        /// Every subscriber of a channel.
        case channel
        /// Every stream.
        case broadcast
    }

    public let kind: Kind
    /// The tenant the id lives in: "" for the default tenant and for `connection` and `broadcast`,
    /// the tenant itself for `tenant`.
    public let tenant: String
    /// The id within the tenant; for `client` the user and the client id (see `clientParts`); "" for
    /// `tenant` and `broadcast`.
    public let id: String

    /// Checks nothing: the factories below are how an address is made; this is for `init?(key:)`.
    init(kind: Kind, tenant: String, id: String) {
        self.kind = kind
        self.tenant = tenant
        self.id = id
    }

    public static func connection(_ id: String) -> Address { Address(kind: .connection, tenant: "", id: id) }
    public static func user(_ id: String, tenant: String = "") -> Address { Address(kind: .user, tenant: tenant, id: id) }
    public static func session(_ id: String, tenant: String = "") -> Address { Address(kind: .session, tenant: tenant, id: id) }
    public static func client(user: String, id: String, tenant: String = "") -> Address {
        Address(kind: .client, tenant: tenant, id: Self.escape(user) + "/" + Self.escape(id))
    }
    public static func tenant(_ tenant: String) -> Address { Address(kind: .tenant, tenant: tenant, id: "") }
    public static func channel(_ name: String, tenant: String = "") -> Address { Address(kind: .channel, tenant: tenant, id: name) }
    public static let broadcast = Address(kind: .broadcast, tenant: "", id: "")

    /// The same address in `tenant`, for kinds that live in a tenant (user, session, client, channel);
    /// the others are returned as they are.
    public func scoped(to tenant: String) -> Address {
        switch kind {
        case .user, .session, .client, .channel: Address(kind: kind, tenant: tenant, id: id)
        case .connection, .tenant, .broadcast: self
        }
    }

    /// A client address's user and client id.
    public var clientParts: (user: String, id: String)? {
        // By bytes: a mark before or after the `/` can make it part of a larger Character.
        guard kind == .client, let slash = id.utf8.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        return (Self.unescape(id.utf8[..<slash]), Self.unescape(id.utf8[id.utf8.index(after: slash)...]))
    }

    /// The text that names the address in Redis keys: `user:alice`, `user@acme:alice`, `tenant@acme`,
    /// `client:alice/phone`, `broadcast`. Tenants cannot hold `:`, so it reads back unambiguously.
    public var key: String {
        switch kind {
        case .broadcast: return "broadcast"
        case .tenant: return "tenant@\(tenant)"
        default: return tenant.isEmpty ? "\(kind.rawValue):\(id)" : "\(kind.rawValue)@\(tenant):\(id)"
        }
    }

    /// Whether history keeps this address's events (every kind but `connection`: a connection id
    /// does not outlive its stream, so nobody could resume it).
    public var isKept: Bool { kind != .connection }

    /// The short tag a resume token names this address's stream by. A connection reads at most one
    /// user, session, client and tenant stream, so one letter each does; channels are told apart by a
    /// hash of their name.
    public var tag: String {
        switch kind {
        case .user: "u"
        case .session: "s"
        case .client: "d"
        case .tenant: "t"
        case .broadcast: "b"
        case .connection: "n"
        case .channel: "c" + String(FNV1a.hash32(id), radix: 36)
        }
    }

    /// A user or client id may hold `/`; escaped so that the client address's two parts split again.
    /// Byte by byte, like `clientParts`: every `/` and `%` is escaped, whatever Character it is part of.
    private static func escape(_ part: String) -> String {
        guard part.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "%") }) else { return part }
        var out: [UInt8] = []
        out.reserveCapacity(part.utf8.count + 8)
        for byte in part.utf8 {
            switch byte {
            case UInt8(ascii: "%"): out += [UInt8(ascii: "%"), UInt8(ascii: "2"), UInt8(ascii: "5")]
            case UInt8(ascii: "/"): out += [UInt8(ascii: "%"), UInt8(ascii: "2"), UInt8(ascii: "F")]
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func unescape(_ part: Substring.UTF8View) -> String {
        guard part.contains(UInt8(ascii: "%")) else { return String(Substring(part)) }
        var out: [UInt8] = []
        out.reserveCapacity(part.count)
        var bytes = part.makeIterator()
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            // Only `%25` and `%2F` are ever written.
            let (first, second) = (bytes.next(), bytes.next())
            out.append(first == UInt8(ascii: "2") && second == UInt8(ascii: "F") ? UInt8(ascii: "/") : UInt8(ascii: "%"))
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Address: CustomStringConvertible {
    public var description: String { key }
}
