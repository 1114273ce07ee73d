/// A plain-text table with aligned columns under a title: text left-aligned, numbers right-aligned.
struct TextTable {
    private let title: String
    private var rows: [[String]] = []

    init(title: String) {
        self.title = title
    }

    mutating func add(_ cells: String...) {
        rows.append(cells)
    }

    mutating func add(_ cells: [String]) {
        rows.append(cells)
    }

    var text: String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            var text = (0..<columns).map { column in
                let cell = column < cells.count ? cells[column] : ""
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return Double(cell) != nil ? padding + cell : cell + padding
            }.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return "  " + text
        }
        return ([title] + rows.map(line)).joined(separator: "\n")
    }
}
