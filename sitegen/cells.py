"""Table cells written in Python: the markup of the macros of the same names, much faster.

Big pages have thousands of cells (a run's metric tables, a version's files, comparison
rows) and a Jinja macro call costs ~15 µs; these cost ~1 µs. Templates reach them as
``h.metric_cell(...)`` and so on; ``partials/macros.html`` keeps macros with the same
output for theme authors. Every value from the store is escaped here, as autoescape would.
Whole table bodies are built from these in :mod:`sitegen.cell_rows`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from numbers import Number
from typing import Any

import markupsafe as _markupsafe
from markupsafe import Markup, escape

from sitegen.filters import fmtnum, short, timefmt, tojson_script

MUTED_DASH = Markup('<span class="muted">&mdash;</span>')

NO_MARK = Markup("")
STATE_MARKS = {
    "changed": Markup(
        '<span class="mark" aria-hidden="true">~</span><span class="visually-hidden">changed: </span>'
    ),
    "added": Markup(
        '<span class="mark" aria-hidden="true">+</span><span class="visually-hidden">added: </span>'
    ),
    "removed": Markup(
        '<span class="mark" aria-hidden="true">&minus;</span><span class="visually-hidden">removed</span>'
    ),
    "renamed": Markup(
        '<span class="mark" aria-hidden="true">&rarr;</span><span class="visually-hidden">renamed: </span>'
    ),
    "missing": Markup(
        '<span class="mark" aria-hidden="true">&mdash;</span><span class="visually-hidden">missing</span>'
    ),
}


escape_text: Callable[[str], str] = _markupsafe._escape_inner  # type: ignore[attr-defined]
"""What markupsafe's ``escape`` does to a ``str`` (in C when built), without the Markup."""


def _esc(value: Any) -> str:
    """``escape(value)`` as plain text: the same characters escaped the same way, without
    building a Markup object per cell (store strings take the fast path)."""
    if type(value) is str:
        return escape_text(value)
    return str(escape(value))


def _is_number(value: Any) -> bool:
    """Jinja's ``value is number and value is not boolean`` (exact types first: it is hot)."""
    kind = type(value)
    if kind is float or kind is int:
        return True
    return isinstance(value, Number) and value is not True and value is not False


def _text(value: Any) -> str:
    """Escaped text of a value; ints need no escaping."""
    return str(value) if type(value) is int else _esc(value)


def sort_value(value: Any) -> Markup:
    """`` data-value="…"`` for sorting: only real numbers (not booleans, not strings)."""
    return Markup(_sort_value(value))


def _sort_value(value: Any) -> str:
    kind = type(value)
    if kind is float or kind is int:
        return f' data-value="{value!r}"'
    if _is_number(value):
        return f' data-value="{_esc(str(value))}"'
    return ' data-value=""'


def metric_cell(value: Any, extra: Any = "") -> Markup:
    """A table cell for a metric value: formatted text, raw number for sorting."""
    return Markup(_metric_td(value, extra))


def _metric_td(value: Any, extra: Any = "") -> str:
    kind = type(value)
    if (kind is float or kind is int) and not extra:  # the common case, as fmtnum has it
        text = f"{value:.4g}" if kind is float else str(value)
        return f'<td class="num"{_sort_value(value)}>{text}</td>'
    text = fmtnum(value) if (value is None or _is_number(value)) else value
    suffix = _esc(extra) if extra else ""
    return f'<td class="num"{_sort_value(value)}>{_esc(text)}{suffix}</td>'


def digest(value: Any) -> Markup:
    """A digest shortened, the full value in the tooltip."""
    return Markup(_digest(value))


def _digest(value: Any) -> str:
    if not value:
        return MUTED_DASH
    return f'<code class="digest" title="{_esc(value)}">{_esc(short(value))}</code>'


def time(value: Any) -> Markup:
    if not value:
        return MUTED_DASH
    return Markup(f'<time datetime="{_esc(value)}">{_esc(timefmt(value))}</time>')


def dotted_key(key: Any) -> Markup:
    """``train.optimizer.lr`` with the parent path muted and the leaf bold."""
    return Markup(_dotted_key(key))


def _dotted_key(key: Any) -> str:
    parent, _, leaf = str(key).rpartition(".")
    if parent:
        return (
            f'<span class="key-parent">{_esc(parent)}.</span>'
            f'<span class="key-leaf">{_esc(leaf)}</span>'
        )
    return f'<span class="key-leaf">{_esc(str(key))}</span>'


def state_mark(state: Any) -> Markup:
    """A comparison state as a visible symbol plus words for screen readers."""
    return STATE_MARKS.get(state, NO_MARK)


STATE_TITLES = {
    "base": "baseline",
    "same": "same as the baseline",
    "changed": "changed from the baseline",
    "added": "added (not in the baseline)",
    "removed": "removed (in the baseline only)",
    "missing": "missing",
    "renamed": "renamed",
    "better": "better than the baseline",
    "worse": "worse than the baseline",
}


def _state_title(state: Any) -> str:
    return _esc(STATE_TITLES.get(state, state))


def num(value: Any) -> Markup:
    """A comparison value: integers without a fraction, others to 6 significant digits."""
    return Markup(_num(value))


def _num(value: Any) -> str:
    if type(value) is float:  # the common case: ``is_integer`` is ``== round(value, 0)``
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    if value is None:
        return MUTED_DASH
    if _is_number(value):
        if value == round(value, 0) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    return _esc(value)


def signed(value: Any) -> Markup:
    return Markup(("+" if value > 0 else "") + _num(value))


def alias_chip(alias: Any, href: Any = None) -> Markup:
    """An alias as a chip (production and latest stand out); optionally a link."""
    cls = "chip alias"
    if alias in ("production", "prod"):
        cls += " alias-production"
    if alias == "latest":
        cls += " alias-latest"
    if href:
        return Markup(f'<a class="{cls}" href="{_esc(href)}">{_esc(alias)}</a>')
    return Markup(f'<span class="{cls}">{_esc(alias)}</span>')


def _field(item: Any, name: str) -> Any:
    """``item.name`` as Jinja reads it: a mapping key, else an attribute, else None."""
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def version_link(v: Any, text: Any = None) -> Markup:
    """A link to a version: ``{label, href}``; a dash when there is none."""
    if not v:
        return MUTED_DASH
    shown = _esc(text or _field(v, "label"))
    href = _field(v, "href")
    if href:
        return Markup(f'<a class="version-link" href="{_esc(href)}">{shown}</a>')
    return Markup(f"<span>{shown}</span>")


def run_link(run: Any, show_id: bool = True) -> Markup:
    """A link to a run: ``{id, name, href}``; the id is shown when it differs from the name."""
    if not run:
        return MUTED_DASH
    run_id, name, href = _field(run, "id"), _field(run, "name"), _field(run, "href")
    shown = _esc(name or run_id)
    if href:
        out = f'<a class="run-link" href="{_esc(href)}">{shown}</a>'
    else:
        out = f'<span class="run-link">{shown}</span>'
    if show_id and name and name != run_id:
        out += f' <code class="run-id">{_esc(run_id)}</code>'
    return Markup(out)


def delta(value: Any, prev: Any, direction: Any = None) -> Markup:
    """The change from the previous version's value, marked better, worse or changed."""
    if not (_is_number(value) and _is_number(prev)) or value == prev:
        return Markup("")
    diff = value - prev
    if direction == "higher":
        kind = "better" if diff > 0 else "worse"
    elif direction == "lower":
        kind = "better" if diff < 0 else "worse"
    else:
        kind = "changed"
    arrow, sign = ("&#9650;", "+") if diff > 0 else ("&#9660;", "")
    return Markup(
        f'<span class="delta delta-{kind}" title="{kind} than the previous version">'
        f'<span aria-hidden="true">{arrow}</span>{sign}{_esc(fmtnum(diff))}'
        f'<span class="visually-hidden"> ({kind})</span></span>'
    )


STATUS_MARKS = {
    "finished": "&#10003;",
    "failed": "&#10007;",
    "crashed": "&#9888;",
    "running": "&#9679;",
}


def status_badge(status: Any) -> Markup:
    """A run status as a badge: colour plus a text marker, so it reads without colour."""
    s = str(status or "unknown").lower()
    if s in STATUS_MARKS:
        return Markup(
            f'<span class="badge status-{s}"><span aria-hidden="true">{STATUS_MARKS[s]} </span>'
            f"{s}</span>"
        )
    return Markup(f'<span class="badge status-other">{_esc(status or "unknown")}</span>')


def chart(id: Any, spec: Any, title: Any) -> Markup:
    """A Vega-Lite chart: its spec in a JSON script and the element it is drawn into, with
    a note for readers without JavaScript (the ``chart`` macro's markup)."""
    ident, label = _esc(id), _esc(title)
    return Markup(
        f'<script type="application/json" id="{ident}">{tojson_script(spec)}</script>\n'
        f'<div class="chart" data-spec="{ident}" role="img" aria-label="{label}">'
        f'<p class="chart-note">Chart: {label}. It needs JavaScript; the data is in the table '
        "below.</p></div>"
    )


def path_items(paths: Any) -> Markup:
    """``<li><code>path</code></li>`` for each path."""
    return Markup("".join(f"<li><code>{_esc(p)}</code></li>" for p in paths))


DIRECTION_MARKERS = {
    "higher": '<span class="dir" title="higher is better"><span aria-hidden="true">&uarr;</span>'
    '<span class="visually-hidden"> (higher is better)</span></span>',
    "lower": '<span class="dir" title="lower is better"><span aria-hidden="true">&darr;</span>'
    '<span class="visually-hidden"> (lower is better)</span></span>',
}


def direction_marker(direction: Any) -> Markup:
    """↑ or ↓ with words for screen readers; nothing without a preferred direction."""
    return Markup(DIRECTION_MARKERS.get(direction, ""))


def delta_span(d: Any) -> Markup:
    """A comparison delta against the baseline: arrow, signed value, percent, the verdict."""
    if d["better"] == "same":
        return Markup(
            '<span class="cmp-delta delta-same"><span aria-hidden="true">=</span> same</span>'
        )
    arrow = "&#9650;" if d["abs"] > 0 else "&#9660;"
    pct = f" ({d['pct']:+.2f}%)" if d["pct"] is not None else ""
    verdict = _esc(d["better"])
    return Markup(
        f'<span class="cmp-delta delta-{verdict}"><span aria-hidden="true">{arrow}</span> '
        f'{signed(d["abs"])}{pct} <span class="word">{verdict}</span></span>'
    )


__all__ = [  # the template helpers (``h.*``); see sitegen.render.HELPERS
    "alias_chip",
    "chart",
    "delta",
    "delta_span",
    "digest",
    "direction_marker",
    "dotted_key",
    "metric_cell",
    "num",
    "path_items",
    "run_link",
    "signed",
    "sort_value",
    "state_mark",
    "status_badge",
    "time",
    "version_link",
]
