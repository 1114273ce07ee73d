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
}
