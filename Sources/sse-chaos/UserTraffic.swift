/// How a user's events differ from the others': bigger (filler bytes) and/or more frequent.
struct UserTraffic: Sendable {
    /// Filler bytes in each event's data (see `NumberedEvent.publishBody`).
    var padding = 0
    /// How many of each round-robin cycle's turns the user gets (others get one).
    var weight = 1
}
