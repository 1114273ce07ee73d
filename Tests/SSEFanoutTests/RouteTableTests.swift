import NIOHTTP1
import Testing

@testable import SSEFanout

/// Which route a method and path reach, and what a path without one for the method answers.
@Suite struct RouteTableTests {
    private struct Named: HTTPRoute {
        let name: String
        func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {}
    }

    private func name(_ match: RouteTable.Match) -> String {
        switch match {
        case .route(let route): (route as? Named)?.name ?? "?"
        case .methodNotAllowed: "405"
        case .notFound: "404"
        }
    }

    @Test func theFirstEntryForThePathAndMethodAnswers() {
        var table = RouteTable()
        table.add([.POST], .exact("/publish"), Named(name: "publish"))
        table.add([.GET, .HEAD], .matching { $0.hasPrefix("/presence/") }, Named(name: "presence"))
        table.add([.GET], .matching { $0.hasPrefix("/presence/") }, Named(name: "shadowed"))
        table.add([.GET, .HEAD], .exact("/sse.js"), Named(name: "file"), refusesOtherMethods: false)
        table.handledElsewhere(.exact("/events"))
        #expect(name(table.match(.POST, "/publish")) == "publish")
        #expect(name(table.match(.GET, "/publish")) == "405")
        #expect(name(table.match(.HEAD, "/presence/users")) == "presence")
        #expect(name(table.match(.DELETE, "/presence/users")) == "405")
        #expect(name(table.match(.GET, "/presence/users")) == "presence", "in the order added")
        #expect(name(table.match(.GET, "/sse.js")) == "file")
        #expect(name(table.match(.POST, "/sse.js")) == "404", "a file's path refuses nothing: another method finds no route")
        #expect(name(table.match(.POST, "/events")) == "405", "a path another part answers")
        #expect(name(table.match(.PUT, "/nowhere")) == "404")
    }
}
