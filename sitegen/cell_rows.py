"""Table rows written in Python: whole ``<tbody>`` contents for the big tables.

A version's files, a run's metric steps, a comparison's curves, metrics, keys and file
changes, a lineage panel's edges: pages of 10,000-version stores hold thousands of such
rows, so they are built as text here and wrapped in one Markup per table. Every value from
the store is escaped (:func:`sitegen.cells._esc`); templates reach them as ``h.<name>``
like the single cells of :mod:`sitegen.cells`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from typing import Any

from markupsafe import Markup

from sitegen.cells import (
    MUTED_DASH,
    STATE_MARKS,
    _digest,
    _dotted_key,
    _esc,
    _metric_td,
    _num,
    _sort_value,
    _state_title,
    _text,
    alias_chip,
    delta_span,
    direction_marker,
    run_link,
    state_mark,
    status_badge,
    time,
)
from sitegen.compare import CurveTable
from sitegen.filters import filesize

KEY_REMOVED = '<span class="gone">removed</span>'
KEY_EMPTY = '<span class="muted">(empty)</span>'


def _key_cell(cell: Any) -> str:
    """One version's value of a config or metadata key, with its state against the baseline."""
    state, value = cell["state"], cell["value"]
    if value is None:
        inner = KEY_REMOVED if state == "removed" else (MUTED_DASH if state != "missing" else "")
    elif value == "":
        inner = KEY_EMPTY
    else:
        inner = f'<span class="value">{_esc(value)}</span>'
    st = _esc(state)
    return (
        f'<td class="cell state-{st}" data-state="{st}" title="{_state_title(state)}">'
        f"{state_mark(state)}{inner}</td>"
    )


def step_rows(rows: Any) -> Markup:
    """Body rows of a run's metric table: ``{step, value}`` each."""
    return Markup(
        "".join(
            f'<tr><td class="num"{_sort_value(r["step"])}>{_text(r["step"])}</td>'
            f"{_metric_td(r['value'])}</tr>\n"
            for r in rows
        )
    )


def curve_rows(rows: Any) -> Markup:
    """Body rows of a comparison's curve table: ``{version, step, value}`` each, or a
    :class:`~sitegen.compare.CurveTable` of each version's sample.

    A version's rows are rendered once per process: its curve is on the comparison pages
    of both of its neighbours.
    """
    if isinstance(rows, CurveTable):
        samples = rows.samples
    else:
        samples = [
            (label, tuple((r["step"], r["value"]) for r in line))
            for label, line in groupby(rows, itemgetter("version"))
        ]
    return Markup("".join(_curve_line(label, sample) for label, sample in samples))


@lru_cache(maxsize=4096)
def _curve_line(label: Any, points: tuple[tuple[Any, Any], ...]) -> str:
    text = _text(label)
    return "".join(
        f'<tr><td>{text}</td><td class="num">{_text(step)}</td>'
        f'<td class="num">{_num(value)}</td></tr>\n'
        for step, value in points
    )


def file_rows(files: Any) -> Markup:
    """Body rows of a version's files table: path, size, sha256 and where the bytes are."""
    return Markup(
        "".join(
            _file_row(f["path"], f["size"], f["sha256"], f["ref_uri"], f["download_href"])
            for f in files
        )
    )


@lru_cache(maxsize=8192, typed=True)
def _file_row(path: Any, size: Any, sha256: Any, ref_uri: Any, download_href: str | None) -> str:
    """One file's row, made once per process: most files of a version are its
    predecessor's, and version pages sit at one depth, so their download links match."""
    source = ""
    if download_href:
        source += f'<a href="{_esc(download_href)}" download>download</a>'
    if ref_uri:
        source += (
            '<span class="ref-uri"><span class="chip chip-ref">reference</span> '
            f"<code>{_esc(ref_uri)}</code></span>"
        )
    if not download_href and not ref_uri:
        source += '<span class="muted">not published</span>'
    return (
        f'<tr>\n<td class="path"><code>{_esc(path)}</code></td>\n'
        f'<td class="num nowrap"{_sort_value(size)}>{_esc(filesize(size))}</td>\n'
        f'<td>{_digest(sha256)}</td>\n<td class="source">\n{source}</td>\n</tr>\n'
    )


MINUS = "&minus;"
ARROW_TO = '<span aria-hidden="true">&rarr;</span><span class="visually-hidden"> to </span>'
REFERENCE_CHIP = ' <span class="chip chip-ref">reference</span>'


def file_change_rows(fc: Any, diff_links: bool) -> Markup:
    """Body rows of a comparison's changed-files table: added, removed, modified, renamed."""
    out = [_one_sided_row("added", f) for f in fc["added"]]
    out.extend(_one_sided_row("removed", f) for f in fc["removed"])
    for index, f in enumerate(fc["modified"], 1):
        link = f' <a class="diff-link" href="#diff-{index}">diff</a>' if diff_links else ""
        change = f["delta"]
        sign = "+" if change > 0 else (MINUS if change < 0 else "&plusmn;")
        out.append(
            f"{_change_head('changed', 'modified', f['path'])}{_path_cell(f)}{link}</td>"
            f'<td class="num">{_esc(filesize(f["old_size"]))}</td>'
            f'<td class="num">{_esc(filesize(f["new_size"]))}</td>'
            f'<td class="num">{sign}{_esc(filesize(abs(change)))}</td>'
            f"<td>{_digest(f['old_sha256'])} {ARROW_TO} {_digest(f['new_sha256'])}</td></tr>\n"
        )
    for f in fc["renamed"]:
        size = _esc(filesize(f["size"]))
        out.append(
            f"{_change_head('renamed', 'renamed', f['to'])}"
            f'<td class="path"><code>{_esc(f["from"])}</code> {ARROW_TO} '
            f'<code>{_esc(f["to"])}</code></td><td class="num">{size}</td>'
            f'<td class="num">{size}</td><td class="num">&plusmn;0 B</td>'
            f"<td>{_digest(f['sha256'])}</td></tr>\n"
        )
    return Markup("".join(out))


def _one_sided_row(state: str, f: Any) -> str:
    """A file only one side has: its size under that side, a dash under the other."""
    size = _esc(filesize(f["size"]))
    missing = '<td class="num muted">&mdash;</td>'
    present = f'<td class="num">{size}</td>'
    sizes, sign = (missing + present, "+") if state == "added" else (present + missing, MINUS)
    return (
        f"{_change_head(state, state, f['path'])}{_path_cell(f)}</td>{sizes}"
        f'<td class="num">{sign}{size}</td><td>{_digest(f["sha256"])}</td></tr>\n'
    )


def _change_head(state: str, word: str, key: Any) -> str:
    return (
        f'<tr class="state-{state}" data-key="{_esc(key)}">'
        f'<td class="cell" data-state="{state}">{STATE_MARKS[state]}{word}</td>'
    )


def _path_cell(f: Any) -> str:
    chip = REFERENCE_CHIP if f.get("ref") else ""
    return f'<td class="path"><code>{_esc(f["path"])}</code>{chip}'


def keyed_rows(rows: Any) -> Markup:
    """Body rows of a comparison's config or metadata table: a key, then a cell per version."""
    return Markup(
        "".join(
            f'<tr data-key="{_esc(row["key"])}" '
            f'data-differs="{"true" if row["differs"] else "false"}">\n'
            f'<th scope="row" class="key">{_dotted_key(row["key"])}</th>\n'
            f"{''.join(map(_key_cell, row['cells']))}</tr>\n"
            for row in rows
        )
    )


def summary_rows(versions: Any, base: int) -> Markup:
    """Body rows of a comparison's summary table: created, producing run, digest, size,
    file count and aliases of each version, each cell's state against the baseline."""
    rows = [
        _summary_row(versions, base, "created", "Created", "created_at", _created_cell),
        _summary_row(versions, base, "run", "Produced by", "run", _run_cell),
        _summary_row(versions, base, "digest", "Digest", "digest", _digest_cell),
        _summary_row(versions, base, "size", "Size", "size", _size_cell),
        _summary_row(versions, base, "files", "Files", "files", _count_cell),
    ]
    differs = _distinct(" ".join(map(str, v["aliases"])) for v in versions)
    cells = "".join(map(_aliases_cell, versions))
    rows.append(f"{_summary_head('aliases', 'Aliases', differs)}\n{cells}</tr>\n")
    return Markup("".join(rows))


def _distinct(values: Any) -> bool:
    """More than one value, strings compared exactly (Jinja's ``unique`` ignores case, which
    hid a run id changed only in case from "only differences")."""
    return len(set(values)) > 1


def _summary_head(key: str, label: str, differs: bool) -> str:
    return (
        f'<tr data-key="{key}" data-differs="{"true" if differs else "false"}">'
        f'<th scope="row" class="key">{label}</th>'
    )


SummaryCell = Callable[[Any, Any, str], str]


def _summary_row(
    versions: Any, base: int, key: str, label: str, field: str, cell: SummaryCell
) -> str:
    """One summary row; a version without a producing run is ``missing`` in the run row."""
    bv = versions[base]
    cells = []
    for i, v in enumerate(versions):
        if i == base:
            state = "base"
        elif field == "run" and v["run"] is None:
            state = "missing"
        else:
            state = "same" if v[field] == bv[field] else "changed"
        cells.append(cell(v, bv, state))
    differs = _distinct(v[field] for v in versions)
    return f"{_summary_head(key, label, differs)}\n{''.join(cells)}</tr>\n"


def _state_td(state: str, num: bool = False) -> str:
    """A summary cell's opening tag and state mark (states are fixed words, not store text)."""
    cls = "cell num" if num else "cell"
    return f'<td class="{cls} state-{state}" data-state="{state}">{state_mark(state)}'


def _created_cell(v: Any, bv: Any, state: str) -> str:
    return f"{_state_td(state)}{time(v['created_at'])}</td>\n"


def _run_cell(v: Any, bv: Any, state: str) -> str:
    run, href = v["run"], v["run_href"]
    if run is None:
        inner = f'{STATE_MARKS["missing"]}<span class="gone">no producing run</span>'
    elif href:
        inner = f'{state_mark(state)}<a class="run-link" href="{_esc(href)}">{_esc(run)}</a>'
    else:
        inner = f'{state_mark(state)}<span class="run-link">{_esc(run)}</span>'
    shown = "missing" if run is None else state
    return f'<td class="cell state-{shown}" data-state="{state}">{inner}</td>\n'


def _digest_cell(v: Any, bv: Any, state: str) -> str:
    return f"{_state_td(state)}{_digest(v['digest'])}</td>\n"


def _size_cell(v: Any, bv: Any, state: str) -> str:
    size, base_size = v["size"], bv["size"]
    delta = ""
    if state == "changed":
        arrow, sign = ("&#9650;", "+") if size > base_size else ("&#9660;", "&minus;")
        delta = (
            f' <span class="cmp-delta delta-neutral"><span aria-hidden="true">{arrow}</span> '
            f"{sign}{_esc(filesize(abs(size - base_size)))}</span>"
        )
    return f"{_state_td(state, num=True)}{_esc(filesize(size))}{delta}</td>\n"


def _count_cell(v: Any, bv: Any, state: str) -> str:
    files, base_files = v["files"], bv["files"]
    delta = ""
    if state == "changed":
        sign = "+" if files > base_files else ""
        delta = f' <span class="cmp-delta delta-neutral">{sign}{_text(files - base_files)}</span>'
    return f"{_state_td(state, num=True)}{_text(files)}{delta}</td>\n"


def _aliases_cell(v: Any) -> str:
    if not v["aliases"]:
        return f'<td class="cell">{MUTED_DASH}</td>'
    chips = "".join(f"<li>{alias_chip(a)}</li>" for a in v["aliases"])
    return f'<td class="cell"><ul class="chips">{chips}</ul></td>'


BEST_MARK = ' <span class="best-mark"><span aria-hidden="true">&#9733;</span> best</span>'


def metric_rows(rows: Any, base: int) -> Markup:
    """Body rows of a comparison's metrics table: values, deltas and the best marked."""
    out = []
    for row in rows:
        out.append(
            f'<tr data-key="{_esc(row["name"])}" '
            f'data-differs="{"true" if row["differs"] else "false"}" '
            f'data-direction="{_esc(row["direction"])}">\n'
            f'<th scope="row" class="key">{_dotted_key(row["name"])}'
            f"{direction_marker(row['direction'])}</th>\n"
        )
        for i, value in enumerate(row["values"]):
            out.append(_metric_cell(value, row["deltas"][i], i in row["best"], i, base))
        out.append("</tr>\n")
    return Markup("".join(out))


def _metric_cell(value: Any, d: Any, is_best: bool, i: int, base: int) -> str:
    if i == base:
        state = "base" if value is not None else "missing"
    else:
        state = "missing" if value is None else ("added" if d is None else str(d["better"]))
    st = _esc(state)
    best = " is-best" if is_best else ""
    best_attr = ' data-best="true"' if is_best else ""
    head = (
        f'<td class="cell num metric state-{st}{best}" data-state="{st}"{best_attr}'
        f'{_sort_value(value)} title="{_state_title(state)}">'
    )
    if value is None:
        return f'{head}{STATE_MARKS["missing"]}<span class="gone">missing</span></td>\n'
    body = f'<span class="value">{_num(value)}</span>{BEST_MARK if is_best else ""}'
    if i != base:
        body += (
            f"<br>{delta_span(d)}"
            if d is not None
            else ('<br><span class="cmp-delta muted">no baseline value</span>')
        )
    return f"{head}{body}</td>\n"


def kv_rows(rows: Any) -> Markup:
    """Body rows of a key/value table (config, metadata): ``{key, value}`` each."""
    return Markup(
        "".join(
            f'<tr><th scope="row" class="key">{_dotted_key(row["key"])}</th>'
            f'<td class="value">{_esc(row["value"])}</td></tr>\n'
            for row in rows
        )
    )


def edge_rows(edges: Any) -> Markup:
    """Body rows of a lineage panel's edge table: from, relation, to, state."""
    out = []
    for e in edges:
        row_class, state = (BROKEN_ROW, BROKEN_BADGE) if e["broken"] else ("", EDGE_OK)
        out.append(
            f"<tr{row_class}>\n{_edge_end(e['source'], e['source_kind'], e['source_href'])}\n"
            f'<td class="muted">{_esc(e["relation"])}</td>\n'
            f"{_edge_end(e['target'], e['target_kind'], e['target_href'])}\n"
            f"<td>{state}</td>\n</tr>\n"
        )
    return Markup("".join(out))


BROKEN_ROW = ' class="lg-broken-row"'
BROKEN_BADGE = (
    '<span class="badge badge-broken"><span aria-hidden="true">&#9888; </span>broken</span>'
)
EDGE_OK = '<span class="muted">ok</span>'


def _edge_end(label: Any, kind: Any, href: Any) -> str:
    text = _esc(label)
    kind_text = _esc(kind)
    shown = f'<a href="{_esc(href)}">{text}</a>' if href else f"<code>{text}</code>"
    return (
        f'<td data-value="{text}"><span class="lg-kind lg-kind-{kind_text}">'
        f"{kind_text.replace('-', ' ')}</span> {shown}</td>"
    )


def run_rows(runs: Any) -> Markup:
    """Body rows of a runs table (2,000 on the runs page at 10k): link, job type, status,
    start, duration, then one cell per metric column."""
    return Markup("".join(_run_row(run) for run in runs))


def _run_row(run: Any) -> str:
    metrics = "".join(f"{_metric_td(m['value'])}\n" for m in run["metrics"])
    started = run["started"]
    return (
        f"<tr>\n<td>{run_link(run)}</td>\n<td>{_esc(run['job_type'] or '')}</td>\n"
        f'<td data-value="{_esc(run["status"] or "")}">{status_badge(run["status"])}</td>\n'
        f'<td data-value="{_esc(started or "")}" class="nowrap">{time(started)}</td>\n'
        f'<td class="num nowrap">{_esc(run["duration"]) if run["duration"] else "&mdash;"}</td>\n{metrics}</tr>\n'
    )


def event_rows(events: Any) -> Markup:
    """Body rows of the audit page's event log (the newest 2,000 events)."""
    return Markup("".join(_event_row(e) for e in events))


def _event_row(e: Any) -> str:
    summary = _esc(e["summary"])
    what = f'<a href="{_esc(e["href"])}">{summary}</a>' if e["href"] else summary
    return (
        f'<tr><td class="num" data-value="{_text(e["seq"])}">{_text(e["seq"])}</td>'
        f'<td class="nowrap">{time(e["time"])}</td><td><code>{_esc(e["type"])}</code></td>'
        f"<td>{what}</td><td>{_esc(e['actor'])}</td><td>{_digest(e['hash'])}</td></tr>\n"
    )


__all__ = [  # the template helpers (``h.*``); see sitegen.render.HELPERS
    "curve_rows",
    "edge_rows",
    "event_rows",
    "file_change_rows",
    "file_rows",
    "keyed_rows",
    "kv_rows",
    "metric_rows",
    "run_rows",
    "step_rows",
    "summary_rows",
]
