import Testing

@testable import SSEFanout

@Suite struct ConnectionIDTests {
    @Test func idsAre22Base62CharactersAndDistinct() {
        let alphabet = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        let ids = (0..<10_000).map { _ in ConnectionID.next() }
        #expect(ids.allSatisfy { $0.count == 22 && $0.allSatisfy(alphabet.contains) })
        #expect(Set(ids).count == ids.count)
        // Every position draws from the whole alphabet (the last two come from a draw of their own).
        for position in 0..<22 {
            let used = Set(ids.map { Array($0)[position] })
            #expect(used.count == 62, "position \(position)")
        }
    }

    @Test func anIdNamesTheLoopItWasMadeFor() {
        for shard in [0, 1, 7, 61] {
            let id = ConnectionID.next(shard: shard)
            #expect(id.count == 22)
            #expect(ConnectionID.shard(of: id) == shard)
        }
        // Ids too short or with a character outside the alphabet name no loop.
        #expect(ConnectionID.shard(of: "abc") == nil)
        #expect(ConnectionID.shard(of: "-" + String(repeating: "a", count: 21)) == nil)
    }
}
