import Redis
import Testing

@Suite("RedisValue accessors")
struct RedisValueTests {
    @Test func string() {
        #expect(RedisValue.status("OK").string == "OK")
        #expect(RedisValue.bulk(Array("héllo".utf8)).string == "héllo")
        #expect(RedisValue.bulk([0xFF, 0xFE]).string == nil)
        #expect(RedisValue.integer(1).string == nil)
        #expect(RedisValue.null.string == nil)
        #expect(RedisValue.error("ERR x").string == nil)
    }

    @Test func int() {
        #expect(RedisValue.integer(-7).int == -7)
        #expect(RedisValue.bulk(Array("42".utf8)).int == 42)
        #expect(RedisValue.status("9").int == 9)
        #expect(RedisValue.bulk(Array("4x".utf8)).int == nil)
        #expect(RedisValue.null.int == nil)
    }

    @Test func array() {
        let value = RedisValue.array([.integer(1), .null])
        #expect(value.array == [.integer(1), .null])
        #expect(RedisValue.bulk([]).array == nil)
        #expect(RedisValue.null.isNull)
        #expect(RedisValue.bulk([0, 1]).bytes == [0, 1])
    }
}
