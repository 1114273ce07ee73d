"""The suite's table: one row per case with its result and figures, then why each failed case failed."""


def table(results, short):
    rows = [(r.name, r.verdict, f"{r.seconds:.1f} s", "; ".join(f"{k} {v}" for k, v in r.figures.items())) for r in results]
    headers = ("case", "result", "time", "figures")
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(3)]
    lines = [f"abuse suite ({'short' if short else 'full'})", ""]
    lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths)) + "  " + headers[3])
    lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 7)
    for row in rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[3])
    details = []
    for result in results:
        for failure in result.failures:
            details.append(f"  {result.name}: {failure}")
        for note in result.notes:
            details.append(f"  {result.name} (note): {note}")
    if details:
        lines += ["", "failures and notes:"] + details
    passed = sum(r.verdict == "PASS" for r in results)
    failed = sum(r.verdict == "FAIL" for r in results)
    skipped = [r.name for r in results if r.verdict == "SKIP"]
    lines += ["", f"{passed} passed, {failed} failed, {len(skipped)} skipped" + (f" ({', '.join(skipped)})" if skipped else "")]
    return "\n".join(lines)


def markdown(results):
    lines = ["| case | result | figures |", "|---|---|---|"]
    for r in results:
        figures = "; ".join(f"{k} {v}" for k, v in r.figures.items()).replace("|", "\\|")
        lines.append(f"| `{r.name}` | {r.verdict} | {figures} |")
    return "\n".join(lines)
