import Foundation

/// A small SVG writer: shapes and text appended in drawing order, rendered as one string.
struct SVGDocument {
    let width: Int
    private(set) var height: Int
    private var elements: [String] = []

    init(width: Int, height: Int = 0) {
        self.width = width
        self.height = height
    }

    mutating func grow(to height: Int) {
        self.height = max(self.height, height)
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, title: String? = nil) {
        let tooltip = title.map { "<title>\(Self.escape($0))</title>" } ?? ""
        elements.append(#"<rect x="\#(Self.number(x))" y="\#(Self.number(y))" width="\#(Self.number(max(0, width)))" height="\#(Self.number(height))" fill="\#(fill)">\#(tooltip)</rect>"#)
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, dashed: Bool = false) {
        let dash = dashed ? #" stroke-dasharray="3,3""# : ""
        elements.append(#"<line x1="\#(Self.number(x1))" y1="\#(Self.number(y1))" x2="\#(Self.number(x2))" y2="\#(Self.number(y2))" stroke="\#(stroke)"\#(dash)/>"#)
    }

    enum Anchor: String {
        case start, middle, end
    }

    mutating func text(_ text: String, x: Double, y: Double, size: Int = 12, anchor: Anchor = .start, bold: Bool = false, fill: String = "#222") {
        let weight = bold ? #" font-weight="bold""# : ""
        elements.append(#"<text x="\#(Self.number(x))" y="\#(Self.number(y))" font-size="\#(size)" text-anchor="\#(anchor.rawValue)" fill="\#(fill)"\#(weight)>\#(Self.escape(text))</text>"#)
    }

    var rendered: String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        \(elements.joined(separator: "\n"))
        </svg>

        """
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
