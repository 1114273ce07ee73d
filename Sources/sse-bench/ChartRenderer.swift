import Foundation

/// Draws a chart of results as SVG: latency percentiles (p50, p99, p99.9, max) per measurement on a log
/// scale, then one panel per throughput figure the results have (deliveries per server CPU-second,
/// deliveries per second, connects per second and per CPU-second, memory per idle stream). Horizontal bars,
/// so long names stay readable; every bar carries its value.
struct ChartRenderer {
    let title: String
    let subtitle: String?
    let series: [ChartSeries]

    private static let width = 960
    private static let labelWidth = 300.0
    private static let plotLeft = 320.0
    private static let plotRight = 880.0
    private static let latencyColors = ["#4e79a7", "#f28e2b", "#e15759", "#76448a"]
    private static let barColor = "#59a14f"

    var svg: String {
        var document = SVGDocument(width: Self.width)
        var y = 30.0
        document.text(title, x: 20, y: y, size: 18, bold: true)
        if let subtitle {
            y += 20
            document.text(subtitle, x: 20, y: y, size: 12, fill: "#555")
        }
        y += 20
        let withLatency = series.filter { $0.latency != nil }
        if !withLatency.isEmpty {
            y = drawLatency(withLatency, into: &document, top: y + 20)
        }
        let panels: [(String, KeyPath<ChartSeries, Double?>, String)] = [
            ("Deliveries per server CPU-second (higher is better)", \.deliveriesPerServerCPUSecond, ""),
            ("Delivered per second (messages or deliveries reaching the clients)", \.deliveriesPerSecond, "/s"),
            ("New streams per second to `connected`", \.connectsPerSecond, "/s"),
            ("New streams per server CPU-second", \.connectsPerServerCPUSecond, ""),
            ("Server memory per idle stream (KiB, lower is better)", \.rssPerConnectionKiB, " KiB"),
        ]
        for (panelTitle, figure, unit) in panels {
            let bars = series.compactMap { item in item[keyPath: figure].map { (item.name, $0) } }
            if !bars.isEmpty {
                y = drawBars(panelTitle, bars, unit: unit, into: &document, top: y + 20)
            }
        }
        document.grow(to: Int(y) + 20)
        return document.rendered
    }

    /// Four bars per series on a log scale, with a legend and decade grid lines.
    private func drawLatency(_ series: [ChartSeries], into document: inout SVGDocument, top: Double) -> Double {
        var y = top
        let churn = series.filter { $0.scenario == "churn" }.count
        let what = switch churn {
        case 0: "publish → receive"
        case series.count: "connect → `connected`"
        default: "publish → receive, or connect → `connected` for churn"
        }
        document.text("Latency, ms (log scale; lower is better): \(what)", x: 20, y: y, size: 14, bold: true)
        y += 18
        for (index, name) in ChartSeries.latencyNames.enumerated() {
            let x = 20 + Double(index) * 90
            document.rect(x: x, y: y - 9, width: 12, height: 10, fill: Self.latencyColors[index])
            document.text(name, x: x + 16, y: y, size: 12)
        }
        y += 12
        let values = series.flatMap { $0.latency!.compactMap { $0 } }.filter { $0 > 0 }
        let low = floor(log10(max(values.min() ?? 0.01, 0.001)))
        let high = max(ceil(log10(max(values.max() ?? 1, 0.001))), low + 1)
        func x(_ value: Double) -> Double {
            let position = (log10(max(value, pow(10, low))) - low) / (high - low)
            return Self.plotLeft + position * (Self.plotRight - Self.plotLeft)
        }
        let barHeight = 9.0
        let rowsTop = y
        for item in series {
            y += 8
            document.text(Self.shortened(item.name), x: Self.labelWidth, y: y + 2 * barHeight + 4, size: 12, anchor: .end)
            for (index, figure) in item.latency!.enumerated() {
                let name = ChartSeries.latencyNames[index]
                guard let value = figure else {
                    document.text("\(name) not measured", x: Self.plotLeft + 4, y: y + barHeight - 1, size: 10, fill: "#888")
                    y += barHeight
                    continue
                }
                document.rect(
                    x: Self.plotLeft, y: y, width: x(value) - Self.plotLeft, height: barHeight - 1,
                    fill: Self.latencyColors[index], title: "\(item.name): \(name) \(Self.milliseconds(value)) ms"
                )
                document.text(Self.milliseconds(value), x: x(value) + 4, y: y + barHeight - 1, size: 10, fill: "#444")
                y += barHeight
            }
            y += 6
        }
        for decade in Int(low)...Int(high) {
            let value = pow(10, Double(decade))
            document.line(x1: x(value), y1: rowsTop, x2: x(value), y2: y, stroke: "#bbb", dashed: decade != Int(low))
            let label = decade < 0 ? String(format: "%.\(-decade)f", value) : String(format: "%.0f", value)
            document.text(label + (decade == Int(high) ? " ms" : ""), x: x(value), y: y + 14, size: 11, anchor: .middle, fill: "#555")
        }
        return y + 20
    }

    /// One bar per series on a linear scale from 0.
    private func drawBars(_ title: String, _ bars: [(String, Double)], unit: String, into document: inout SVGDocument, top: Double) -> Double {
        var y = top
        document.text(title, x: 20, y: y, size: 14, bold: true)
        y += 10
        let largest = bars.map(\.1).max() ?? 1
        let scale = largest > 0 ? (Self.plotRight - Self.plotLeft) / largest : 0
        let rowsTop = y
        for (name, value) in bars {
            y += 6
            document.text(Self.shortened(name), x: Self.labelWidth, y: y + 12, size: 12, anchor: .end)
            document.rect(x: Self.plotLeft, y: y, width: value * scale, height: 16, fill: Self.barColor, title: "\(name): \(Self.count(value))\(unit)")
            document.text(Self.count(value) + unit, x: Self.plotLeft + value * scale + 4, y: y + 12, size: 11, fill: "#444")
            y += 16
        }
        document.line(x1: Self.plotLeft, y1: rowsTop, x2: Self.plotLeft, y2: y + 4, stroke: "#888")
        return y + 10
    }

    /// Long names are cut so they stay left of the bars (the bar's tooltip has the whole name).
    private static func shortened(_ name: String) -> String {
        name.count <= 46 ? name : String(name.prefix(45)) + "…"
    }

    private static func milliseconds(_ value: Double) -> String {
        switch value {
        case ..<0.1: String(format: "%.3f", value)
        case ..<10: String(format: "%.2f", value)
        case ..<100: String(format: "%.1f", value)
        default: String(format: "%.0f", value)
        }
    }

    /// 950, 12.3k, 1.05M.
    private static func count(_ value: Double) -> String {
        switch value {
        case ..<999.5: String(format: value < 10 ? "%.2f" : "%.0f", value)
        case ..<100_000: String(format: "%.1fk", value / 1_000)
        case ..<1_000_000: String(format: "%.0fk", value / 1_000)
        default: String(format: "%.2fM", value / 1_000_000)
        }
    }
}
