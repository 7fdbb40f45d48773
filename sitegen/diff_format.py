"""``sitegen diff`` as GitHub markdown (a PR comment) or terminal text.

Pure functions over the report of :func:`sitegen.diff.diff_projects`. Markdown stays under
``max_chars`` (default 60,000: GitHub rejects comments over 65,536 characters and the
workflow adds a marker line): each section gets a share of the budget, new versions are
chosen by importance (tripped gates, then regressions, then the rest), and whatever does
not fit is counted in a closing note. Marks are words with a symbol, never emoji alone.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sitegen.compare_format import table

GITHUB_COMMENT_LIMIT = 65_536
DEFAULT_MAX_CHARS = 60_000
MIN_MAX_CHARS = 2_000
NO_CHANGES = "No changes."
MARKS = {
    "better": "▲ better",
    "worse": "▼ worse",
    "same": "= same",
    "new": "+ new",
    "removed": "- removed",
}
# share of the budget each section may use at most; new versions get the rest
SHARES = {"gates": 0.10, "warnings": 0.05, "collections": 0.08, "aliases": 0.10}
SHARES_AFTER = {"runs": 0.06, "lineage": 0.22}
FOOTER_RESERVE = 700
MAX_ROWS = 25  # per table/list inside one version block
DETAIL_SHARE = 0.6  # of the versions' budget, when not every version fits in full


@dataclass(frozen=True)
class Style:
    markdown: bool

    def code(self, text: str) -> str:
        if not self.markdown:
            return text
        fence = "``" if "`" in text else "`"
        return f"{fence}{text}{fence}"

    def link(self, text: str, url: str | None, code: bool = True) -> str:
        shown = self.code(text) if code else text
        if url is None:
            return shown
        return f"[{shown}]({url})" if self.markdown else f"{shown} <{url}>"

    def bold(self, text: str) -> str:
        return f"**{text}**" if self.markdown else text

    def heading(self, level: int, text: str) -> str:
        return f"{'#' * level} {text}" if self.markdown else text

    def note(self, text: str) -> str:
        return f"> {text}" if self.markdown else f"note: {text}"

    def table(self, headers: list[str], rows: list[list[str]]) -> list[str]:
        if not self.markdown:
            return table(headers, rows, False)
        lines = [_md_row(headers), "|" + "---|" * len(headers)]
        return lines + [_md_row(row) for row in rows]


def _md_row(cells: Sequence[str]) -> str:
    """A GitHub table row; only pipes and newlines need escaping (code spans keep ``<``)."""
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def fit(chunks: Sequence[str], budget: int) -> tuple[list[str], int]:
    """The leading chunks that fit in ``budget`` characters (newline each), and how many not."""
    taken: list[str] = []
    used = 0
    for i, chunk in enumerate(chunks):
        if used + len(chunk) + 1 > budget:
            return taken, len(chunks) - i
        taken.append(chunk)
        used += len(chunk) + 1
    return taken, 0


def number(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"


def signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.6g}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}%"


def size(n: int) -> str:
    if abs(n) >= 10**300:  # a hostile manifest's: no float holds it
        return ("-" if n < 0 else "") + "more than 1e300 GB"
    value = float(abs(n))
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            text = f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            return ("-" if n < 0 else "") + text
        value /= 1000
    return str(n)  # pragma: no cover


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


# --- header, gates, warnings ------------------------------------------------------------------


def header(report: Mapping[str, Any], s: Style) -> list[str]:
    summary = report["summary"]
    title = f"sitegen diff: {s.code(report['base']['source'])} → {s.code(report['head']['source'])}"
    parts = [
        s.bold(f"{summary[key]:,}") + " " + label
        for key, label in (
            ("new_collections", "new collection(s)"),
            ("new_versions", "new version(s)"),
            ("alias_moves", "alias change(s)"),
            ("new_runs", "new run(s)"),
            ("new_edges", "new lineage edge(s)"),
        )
        if summary[key]
    ]
    lines = [s.heading(2, title), "", " · ".join(parts)]
    if summary["new_versions"]:
        lines.append(
            f"Metrics against the baseline: {summary['regressions']:,} {MARKS['worse']}, "
            f"{summary['improvements']:,} {MARKS['better']} "
            f"(baseline: alias {s.code(report['baseline_alias'])} in base, else the previous version)"
        )
    if report["gates"]:
        tripped = summary["gates_tripped"]
        verdict = (
            s.bold(f"✖ FAILED: {tripped} of {len(report['gates'])} tripped")
            if tripped
            else s.bold(f"✔ passed ({len(report['gates'])} checked)")
        )
        lines.append(f"Gates: {verdict}")
    return [*lines, ""]


def gate_rows(report: Mapping[str, Any], s: Style) -> tuple[list[str], list[str]]:
    """(table header lines, one chunk per gate row)."""
    rows = []
    for gate in report["gates"]:
        if gate["tripped"]:
            result = s.bold("✖ FAIL")
            refs = [
                f"{s.code(t['ref'])} {t['metric']} {signed(t['abs'])} ({percent(t['pct'])})"
                for t in gate["tripped"]
            ]
            shown = ", ".join(refs[:5])
            detail = shown + (f" and {len(refs) - 5:,} more" if len(refs) > 5 else "")
        elif gate["checked"]:
            result, detail = "✔ pass", f"{plural(gate['checked'], 'value')} checked"
        else:
            result, detail = "- not evaluated", "no new version has a baseline value for it"
        rows.append([s.code(gate["expression"]), result, detail])
    lines = s.table(["gate", "result", "detail"], rows)
    return lines[:2], lines[2:]


def warning_chunks(report: Mapping[str, Any], s: Style) -> list[str]:
    out = []
    for side in ("base", "head"):
        errors = report[side]["errors"]
        if errors:
            out.append(
                s.note(
                    f"⚠ Warning: the {side} store {s.code(report[side]['source'])} has "
                    f"{plural(errors, 'error')}; run `sitegen validate` on it"
                )
            )
    for c in report["conflicts"]:
        out.append(
            s.note(
                f"⚠ Conflict: {s.code(c['collection'] + ':v' + str(c['version']))} has different "
                "content in base and head (diverged branches?); versions are immutable, so "
                "re-log it on top of the base branch"
            )
        )
    out += [
        s.note(f"⚠ {s.code(ref)} is in the base store but not in the head store")
        for ref in report["missing_versions"]
    ]
    return out


# --- collections, aliases, runs, lineage ------------------------------------------------------


def collection_chunks(report: Mapping[str, Any], s: Style) -> list[str]:
    return [
        f"- {s.link(c['collection'], c['url'])} ({plural(c['versions'], 'version')})"
        for c in report["new_collections"]
    ]


def alias_rows(report: Mapping[str, Any], s: Style) -> tuple[list[str], list[str]]:
    rows = []
    for move in report["alias_moves"]:
        old = (
            s.link(f"v{move['from']}", move["from_url"]) if move["from"] is not None else "(unset)"
        )
        new = s.link(f"v{move['to']}", move["to_url"]) if move["to"] is not None else "(removed)"
        rows.append([s.code(move["collection"]), s.code(move["alias"]), f"{old} → {new}"])
    lines = s.table(["collection", "alias", "change"], rows)
    return lines[:2], lines[2:]


def run_chunks(report: Mapping[str, Any], s: Style) -> list[str]:
    out = []
    for r in report["new_runs"]:
        label = r["name"] if r["name"] == r["id"] else f"{r['name']} ({r['id']})"
        kind = f" · {r['job_type']}" if r["job_type"] else ""
        out.append(f"- {s.link(label, r['url'])}{kind} · {r['status']}")
    return out


def lineage_parts(report: Mapping[str, Any], s: Style) -> tuple[list[str], list[str]]:
    """(the Mermaid block as fixed lines, one chunk per edge)."""
    lineage = report["lineage"]
    edges = [
        f"- {s.link(e['source_label'], e['source_url'])} → "
        f"{s.link(e['target_label'], e['target_url'])}" + (" (broken)" if e["broken"] else "")
        for e in lineage["edges"]
    ]
    if not s.markdown or not lineage["mermaid"]:
        return [], edges
    drawing = ["```mermaid", lineage["mermaid"].rstrip("\n"), "```"]
    if lineage["mermaid_edges"] < len(edges):
        drawing.append(f"The drawing shows the first {lineage['mermaid_edges']} edges.")
    return drawing, edges


# --- one new version ---------------------------------------------------------------------------


def metric_table(change: Mapping[str, Any], s: Style) -> list[str]:
    rows = []
    for m in change["metrics"][:MAX_ROWS]:
        mark = MARKS[m["mark"]]
        if m["gates"]:
            mark += " · " + s.bold("✖ GATE") + " " + ", ".join(s.code(g) for g in m["gates"])
        arrow = "↑" if m["direction"] == "higher" else "↓"
        rows.append(
            [
                f"{m['name']} {arrow}",
                number(m["base"]),
                number(m["head"]),
                signed(m["abs"]),
                percent(m["pct"]),
                mark,
            ]
        )
    lines = s.table(["metric", "baseline", "new", "Δ", "Δ%", "mark"], rows)
    if s.markdown:
        lines[1] = "|---|---:|---:|---:|---:|---|"
    return lines + _more(len(change["metrics"]), "metric")


def config_table(change: Mapping[str, Any], s: Style) -> list[str]:
    rows = [
        [r["key"], _value(r["base"], s), _value(r["head"], s) + _state(r["state"])]
        for r in change["config"][:MAX_ROWS]
    ]
    old = (
        change["baseline"]["run"]["id"] if change["baseline"] and change["baseline"]["run"] else "—"
    )
    new = change["run"]["id"] if change["run"] else "—"
    intro = f"Config changes (run {s.code(old)} → {s.code(new)}):"
    return [
        intro,
        "",
        *s.table(["key", "baseline", "new"], rows),
        *_more(len(change["config"]), "key"),
    ]


def _state(state: str) -> str:
    return "" if state == "changed" else f" ({state})"


def _value(value: str | None, s: Style, width: int = 80) -> str:
    if value is None:
        return "—"
    return s.code(value if len(value) <= width else value[: width - 1] + "…")


def _more(total: int, noun: str) -> list[str]:
    left = total - MAX_ROWS
    return [f"…and {left:,} more {noun}{'' if left == 1 else 's'}"] if left > 0 else []


def file_lines(change: Mapping[str, Any], s: Style) -> list[str]:
    f = change["files"]
    counts = (
        f"Files: {len(f['added'])} added, {len(f['removed'])} removed, "
        f"{len(f['modified'])} modified, {len(f['renamed'])} renamed, "
        f"{f['unchanged']} unchanged ({'+' if f['size_delta'] >= 0 else ''}{size(f['size_delta'])})"
    )
    items = (
        [f"- added {s.code(x['path'])} ({size(x['size'])})" for x in f["added"]]
        + [f"- removed {s.code(x['path'])} ({size(x['size'])})" for x in f["removed"]]
        + [
            f"- modified {s.code(x['path'])} ({size(x['old_size'])} → {size(x['new_size'])})"
            for x in f["modified"]
        ]
        + [f"- renamed {s.code(x['from'])} → {s.code(x['to'])}" for x in f["renamed"]]
    )
    return [counts, *items[:MAX_ROWS], *_more(len(items), "file")]


def version_title(change: Mapping[str, Any], s: Style) -> list[str]:
    aliases = ", ".join(s.code(a) for a in change["aliases"])
    title = s.heading(
        4, s.link(change["ref"], change["url"]) + (f" ({aliases})" if aliases else "")
    )
    base = change["baseline"]
    facts = [
        f"baseline {s.link(base['ref'], base['url'])} ({base['reason']})"
        if base
        else "first version: no baseline"
    ]
    if change["compare_url"]:
        facts.append(
            s.link("compare", change["compare_url"], code=False)
            if s.markdown
            else f"compare: {change['compare_url']}"
        )
    run = change["run"]
    facts.append(
        f"run {s.link(run['name'], run['url'])} ({run['status']})" if run else "no producing run"
    )
    return [title, " · ".join(facts), ""]


def version_block(change: Mapping[str, Any], s: Style) -> str:
    lines = version_title(change, s)
    if change["metrics"]:
        lines += [*metric_table(change, s), ""]
    if change["config"]:
        lines += [*config_table(change, s), ""]
    lines += file_lines(change, s)
    return "\n".join(lines) + "\n"


def compact_line(change: Mapping[str, Any], s: Style) -> str:
    worse = [m["name"] for m in change["metrics"] if m["mark"] == "worse"]
    gates = [m["name"] for m in change["metrics"] if m["gates"]]
    bits = [s.link(change["ref"], change["url"])]
    if gates:
        bits.append(s.bold("✖ GATE") + " " + ", ".join(gates[:3]))
    if worse:
        bits.append(f"{MARKS['worse']}: " + ", ".join(worse[:3]))
    return "- " + " · ".join(bits)


def priority(change: Mapping[str, Any]) -> int:
    if any(m["gates"] for m in change["metrics"]):
        return 0
    return 1 if any(m["mark"] == "worse" for m in change["metrics"]) else 2


def versions_section(report: Mapping[str, Any], s: Style, budget: int) -> tuple[list[str], int]:
    """Detailed blocks for the most important versions, one line each for the next ones."""
    changes = report["new_versions"]
    title = s.heading(3, f"New versions ({len(changes):,})")
    order = sorted(range(len(changes)), key=lambda i: (priority(changes[i]), i))
    blocks = [version_block(changes[i], s) for i in order]
    room = budget - len(title) - 2
    chosen, left = fit(blocks, room)
    if left:  # keep room for a short line about the next ones
        chosen, _ = fit(blocks, int(room * DETAIL_SHARE))
    used = sum(len(c) + 1 for c in chosen)
    rest = sorted(order[len(chosen) :])
    compact, omitted = fit([compact_line(changes[i], s) for i in rest], room - used - 80)
    detailed = sorted(range(len(chosen)), key=lambda k: order[k])  # back in report order
    lines = [title, "", *(chosen[k] for k in detailed)]
    if compact:
        lines += [f"{len(compact):,} more new version(s), in short:", "", *compact, ""]
    return lines, omitted


# --- assembly ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Section:
    key: str
    title: str
    fixed: list[str]
    chunks: list[str]
    noun: str


def _sections(report: Mapping[str, Any], s: Style) -> list[_Section]:
    gates_head, gates = gate_rows(report, s)
    alias_head, aliases = alias_rows(report, s)
    drawing, edges = lineage_parts(report, s)
    n = report["summary"]
    return [
        _Section("gates", "Gates", gates_head, gates, "gate"),
        _Section("warnings", "", [], warning_chunks(report, s), "warning"),
        _Section(
            "collections",
            f"New collections ({n['new_collections']:,})",
            [],
            collection_chunks(report, s),
            "new collection",
        ),
        _Section(
            "aliases", f"Alias changes ({n['alias_moves']:,})", alias_head, aliases, "alias change"
        ),
        _Section("runs", f"New runs ({n['new_runs']:,})", [], run_chunks(report, s), "new run"),
        _Section(
            "lineage", f"New lineage edges ({n['new_edges']:,})", drawing, edges, "lineage edge"
        ),
    ]


def render_section(section: _Section, s: Style, budget: int) -> tuple[list[str], int]:
    """The section's lines within ``budget`` and how many of its items were left out."""
    if not section.chunks:
        return [], 0
    top = [s.heading(3, section.title), ""] if section.title else []
    fixed = section.fixed + ([""] if section.fixed and section.key == "lineage" else [])
    if len("\n".join(fixed)) > budget * 0.7 and section.key == "lineage":
        fixed = ["(drawing left out: too large for one comment)", ""]
    room = budget - len("\n".join(top + fixed)) - 60
    taken, left = fit(section.chunks, room)
    if section.key == "lineage" and s.markdown and taken:
        taken = ["<details><summary>Edges</summary>", "", *taken, "", "</details>"]
    more = (
        [f"…and {left:,} more {section.noun}{'' if left == 1 else 's'} (left out)"] if left else []
    )
    return [*top, *fixed, *taken, *(["", *more] if more else []), ""], left


def format_diff(
    report: Mapping[str, Any], markdown: bool, max_chars: int = DEFAULT_MAX_CHARS
) -> str:
    """The report as markdown (within ``max_chars``) or as plain text (no limit)."""
    if not report["summary"]["changed"]:
        return NO_CHANGES + "\n"
    s = Style(markdown)
    budget = max(max_chars, MIN_MAX_CHARS) if markdown else sys.maxsize // 4
    top = header(report, s)
    rendered: dict[str, list[str]] = {}
    omitted: dict[str, int] = {}
    used = len("\n".join(top)) + FOOTER_RESERVE
    for section in _sections(report, s):
        share = {**SHARES, **SHARES_AFTER}[section.key]
        room = int(budget * share) if markdown else budget
        rendered[section.key], omitted[section.key] = render_section(section, s, room)
        used += len("\n".join(rendered[section.key])) + 1
    versions, omitted["versions"] = versions_section(report, s, budget - used)
    parts = [
        top,
        *(rendered[k] for k in SHARES),
        versions if report["new_versions"] else [],
        *(rendered[k] for k in SHARES_AFTER),
        footer(omitted, s),
    ]
    text = "\n".join(line for part in parts for line in part)
    text = "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n") + "\n"
    return _collapse_blank_lines(text)


def footer(omitted: Mapping[str, int], s: Style) -> list[str]:
    nouns = {
        "versions": "new version",
        "gates": "gate row",
        "warnings": "warning",
        "collections": "new collection",
        "aliases": "alias change",
        "runs": "new run",
        "lineage": "lineage edge",
    }
    left = [plural(omitted[k], noun) for k, noun in nouns.items() if omitted.get(k)]
    if not left or not s.markdown:
        return []
    return [
        "",
        "---",
        f"_Left out to stay under GitHub's {GITHUB_COMMENT_LIMIT:,}-character comment limit: "
        + ", ".join(left)
        + ". Run `sitegen diff … --format json` (or `--format text`) for the full report._",
    ]


def _collapse_blank_lines(text: str) -> str:
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text
