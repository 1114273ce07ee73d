/// One page of a presence listing.
public struct PresencePage<Item: Sendable & Hashable>: Sendable, Hashable {
    public var items: [Item]
    /// Where the next page starts (the id of the last item looked at), or nil when there is no more.
    /// A page may hold fewer items than asked for and still have a next one (a filtered listing
    /// looks at a bounded number of candidates per page).
    public var next: String?

    public init(items: [Item], next: String?) {
        self.items = items
        self.next = next
    }
}
