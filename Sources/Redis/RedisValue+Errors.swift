extension Sequence where Element == RedisValue {
    /// Error replies inside a pipeline come back in place; throws the first one.
    public func throwingFirstError() throws(RedisError) {
        for case .error(let message) in self { throw RedisError.server(message) }
    }
}
