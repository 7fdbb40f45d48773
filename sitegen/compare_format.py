"""The comparison as text (terminal) or GitHub markdown; JSON is the comparison itself."""

from __future__ import annotations

from typing import Any

MARK = {"better": "▲ better", "worse": "▼ worse", "same": "= same"}


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"


def _delta(delta: dict[str, Any] | None) -> str:
    if not delta or delta["better"] == "same":
        return ""
    pct = f" ({delta['pct']:+.2f}%)" if delta.get("pct") is not None else ""
    return f" {delta['abs']:+.4g}{pct} {MARK[delta['better']]}"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def table(headers: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(_md(h) for h in headers) + " |", "|" + "---|" * len(headers)]
        return lines + ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    fmt = "  ".join(f"{{:{w}}}" for w in widths)
    return [fmt.format(*headers), fmt.format(*("-" * w for w in widths))] + [
        fmt.format(*r) for r in rows
    ]


def format_comparison(
    result: dict[str, Any], markdown: bool, only_differences: bool = False
) -> str:
    labels = [v["label"] for v in result["versions"]]
    base = result["baseline"]
    out = [
        ("## " if markdown else "")
        + "Comparison: "
        + ", ".join(labels)
        + f" (baseline {labels[base]})",
        "",
    ]
    out += [f"> {n}" if markdown else f"note: {n}" for n in result["notes"]]
    out += ["", "### Metrics" if markdown else "Metrics"]
    rows = [
        [m["name"] + (" ↑" if m["direction"] == "higher" else " ↓")]
        + [
            _num(v) + _delta(d) + (" ★" if i in m["best"] else "")
            for i, (v, d) in enumerate(zip(m["values"], m["deltas"], strict=True))
        ]
        for m in result["metrics"]
        if m["differs"] or not only_differences
    ]
    out += table(["metric", *labels], rows, markdown) if rows else ["(none)"]
    for section in ("config", "metadata"):
        out += ["", f"### {section.title()}" if markdown else section.title()]
        rows = [
            [r["key"]]
            + [
                ("—" if c["value"] is None else c["value"])
                + ("" if c["state"] in ("base", "same", "missing") else f" [{c['state']}]")
                for c in r["cells"]
            ]
            for r in result[section]
            if r["differs"] or not only_differences
        ]
        out += table(["key", *labels], rows, markdown) if rows else ["(no differences)"]
    for files in result["files"]:
        out += [
            "",
            (
                f"### Files: {labels[base]} → {labels[files['against']]}"
                if markdown
                else f"Files: {labels[base]} -> {labels[files['against']]}"
            ),
        ]
        out += [f"- added {f['path']} ({f['size']} B)" for f in files["added"]]
        out += [f"- removed {f['path']}" for f in files["removed"]]
        out += [f"- modified {f['path']} ({f['delta']:+d} B)" for f in files["modified"]]
        out += [f"- renamed {r['from']} → {r['to']}" for r in files["renamed"]]
        out += [f"- {len(files['unchanged'])} unchanged"]
    return "\n".join(out).rstrip() + "\n"
