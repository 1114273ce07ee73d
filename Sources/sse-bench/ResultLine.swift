import Foundation

/// The one machine-readable line a scenario prints last: `RESULT {json}`, for scripts to collect.
enum ResultLine {
    static func print(_ result: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(result) else { return }
        Swift.print("RESULT " + String(decoding: data, as: UTF8.self))
    }
}
