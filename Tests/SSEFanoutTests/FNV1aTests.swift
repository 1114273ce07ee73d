import Testing

@testable import SSEFanout

@Suite struct FNV1aTests {
    /// The reference values of FNV-1a (draft-eastlake-fnv), over UTF-8.
    @Test func hashesAsTheReferenceDoes() {
        #expect(FNV1a.hash32("") == 0x811C_9DC5)
        #expect(FNV1a.hash32("a") == 0xE40C_292C)
        #expect(FNV1a.hash32("foobar") == 0xBF9C_F968)
        #expect(FNV1a.hash32("日本") == 0x9F26_EE51)
        #expect(FNV1a.hash64("") == 0xCBF2_9CE4_8422_2325)
        #expect(FNV1a.hash64("a") == 0xAF63_DC4C_8601_EC8C)
        #expect(FNV1a.hash64("foobar") == 0x8594_4171_F739_67E8)
    }

    /// Resume tokens name channel streams by this tag: it must never change.
    @Test func aChannelsTagInResumeTokensStaysTheSame() {
        #expect(Address.channel("news").tag == "cl0y3wm")
        #expect(Address.channel("news", tenant: "acme").tag == "cl0y3wm")
        #expect(Address.channel("日本").tag == "c185q4i9")
    }
}
