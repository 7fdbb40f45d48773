"""The Python cell helpers behind the default theme's macros: output and escaping."""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from markupsafe import Markup, escape

from sitegen import cell_rows, cells, rawjson
from sitegen.charts import columns, encoded_series
from sitegen.filters import filesize, fmtnum, tojson_script
from sitegen.rawjson import RawJSON

XSS = '<script>alert("x")</script>'
NO_CHANGES: dict[str, list[dict[str, object]]] = {
    "added": [],
    "removed": [],
    "modified": [],
    "renamed": [],
}


def added(path: str, ref: str | None = None) -> dict[str, object]:
    return {"path": path, "size": 1500, "sha256": "ab" * 32, "ref": ref}


def renamed(path: str) -> dict[str, object]:
    return {"from": path, "to": path + ".bak", "size": 7, "sha256": "cd" * 32}


def metric_row(name: str) -> dict[str, object]:
    return {
        "name": name,
        "differs": True,
        "direction": "higher",
        "best": [1],
        "values": [0.5, 0.75, None],
        "deltas": [None, {"better": "better", "abs": 0.25, "pct": 50.0}, None],
    }


@pytest.mark.parametrize(
    "markup",
    [
        lambda: cells.alias_chip(XSS),
        lambda: cells.alias_chip("a", href=XSS),
        lambda: cells.version_link({"label": XSS, "href": XSS}),
        lambda: cells.run_link({"id": XSS, "name": XSS + "!", "href": XSS}),
        lambda: cells.status_badge(XSS),
        lambda: cell_rows.curve_rows([{"version": XSS, "step": XSS, "value": XSS}]),
        lambda: cell_rows.step_rows([{"step": XSS, "value": XSS}]),
        lambda: cells.metric_cell(XSS, XSS),
        lambda: cell_rows.keyed_rows([{"key": XSS, "differs": True, "cells": []}]),
        lambda: cells.path_items([XSS]),
        lambda: cell_rows.metric_rows([metric_row(XSS)], 0),
        lambda: cell_rows.file_change_rows({**NO_CHANGES, "added": [added(XSS)]}, True),
        lambda: cell_rows.file_change_rows({**NO_CHANGES, "renamed": [renamed(XSS)]}, True),
    ],
)
def test_store_strings_are_escaped(markup: object) -> None:
    html = str(markup())  # type: ignore[operator]
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_alias_chips_mark_production_and_latest() -> None:
    assert cells.alias_chip("prod") == '<span class="chip alias alias-production">prod</span>'
    assert cells.alias_chip("latest", "v1.html") == (
        '<a class="chip alias alias-latest" href="v1.html">latest</a>'
    )


def test_delta_says_better_or_worse_by_direction() -> None:
    assert "delta-better" in cells.delta(0.9, 0.8, "higher")
    assert "delta-worse" in cells.delta(0.9, 0.8, "lower")
    assert "delta-changed" in cells.delta(0.9, 0.8, None)
    assert "&#9660;" in cells.delta(1, 2) and "+" not in cells.delta(1, 2)  # ▼
    assert cells.delta(1, 1) == "" and cells.delta(True, 0) == "" and cells.delta("a", 1) == ""


def test_run_link_shows_the_id_only_when_it_differs_from_the_name() -> None:
    same = cells.run_link({"id": "r1", "name": "r1", "href": "r.html"})
    other = cells.run_link({"id": "r1", "name": "train", "href": None})
    assert same == '<a class="run-link" href="r.html">r1</a>'
    assert other == '<span class="run-link">train</span> <code class="run-id">r1</code>'
    assert "run-id" not in cells.run_link({"id": "r1", "name": "train"}, show_id=False)
    assert cells.run_link(None) == cells.MUTED_DASH


@dataclass
class Linked:
    label: str
    href: str | None


def test_links_read_attributes_as_well_as_keys() -> None:
    assert cells.version_link(Linked("v2", "v2.html")) == (
        '<a class="version-link" href="v2.html">v2</a>'
    )
    assert cells.version_link(Linked("v2", None), text="two") == "<span>two</span>"
    assert cells.version_link(None) == cells.MUTED_DASH


def test_status_badges_have_a_text_marker() -> None:
    assert cells.status_badge("Finished") == (
        '<span class="badge status-finished"><span aria-hidden="true">&#10003; </span>finished</span>'
    )
    assert cells.status_badge(None) == '<span class="badge status-other">unknown</span>'


def test_numbers_sort_by_their_exact_value_and_booleans_do_not_sort() -> None:
    assert cells.sort_value(0.1) == ' data-value="0.1"'
    assert cells.sort_value(7) == ' data-value="7"'
    assert cells.sort_value(True) == ' data-value=""'
    assert cell_rows.curve_rows([{"version": "v1", "step": 3, "value": 2.0}]) == (
        '<tr><td>v1</td><td class="num">3</td><td class="num">2</td></tr>\n'
    )


def test_changed_files_rows_carry_state_sizes_and_diff_links() -> None:
    modified = {
        "path": "m.txt",
        "old_size": 3000,
        "new_size": 1000,
        "delta": -2000,
        "old_sha256": "11" * 32,
        "new_sha256": "22" * 32,
        "ref": None,
    }
    fc = {**NO_CHANGES, "added": [added("a", "s3://b/a")], "modified": [modified]}
    html = cell_rows.file_change_rows(fc, diff_links=True)
    assert html.count("<tr ") == 2
    assert '<tr class="state-added" data-key="a">' in html and "chip-ref" in html
    assert "+1.5 KB" in html and "&minus;2.0 KB" in html and 'href="#diff-1"' in html
    assert "diff-link" not in cell_rows.file_change_rows(fc, diff_links=False)


def test_metric_rows_mark_the_best_and_the_deltas_against_the_baseline() -> None:
    html = cell_rows.metric_rows([metric_row("acc")], base=0)
    assert 'class="cell num metric state-base"' in html
    assert 'state-better is-best" data-state="better" data-best="true"' in html
    assert "(+50.00%)" in html and '<span class="gone">missing</span>' in html
    assert "&uarr;" in html


def test_pre_encoded_chart_data_is_spliced_into_the_script_json() -> None:
    spec = {"data": {"values": [{"step": [0, 1], "value": [0.5, 0.25], "version": "</script>"}]}}
    raw = RawJSON('[{"step":[0,1],"value":[0.5,0.25],"version":"</script>"}]')
    spliced = {"data": {"values": raw}}
    assert str(tojson_script(spliced)) == str(tojson_script(spec))
    assert "</script>" not in tojson_script(spliced)


class _Run:
    def __init__(self, points: list[tuple[int, float]]) -> None:
        self.points = points

    def series(self, metric: str) -> list[tuple[int, float]]:
        return self.points


def test_encoded_series_are_kept_per_run_object_with_their_own_text() -> None:
    """Kept by run object, not by value: ``[0, 1]`` equals ``[0.0, 1.0]``, and a cache by
    value would write one as the other, depending on which page a process made first."""
    ints, floats = _Run([(0, 0), (1, 1)]), _Run([(0, 0.0), (1, 1.0)])
    assert encoded_series(ints, "m").values_json == "[0,1]"
    assert encoded_series(floats, "m").values_json == "[0.0,1.0]"
    assert encoded_series(floats, "m") is encoded_series(floats, "m", 2)  # nothing dropped
    long = _Run([(i, float(i % 7)) for i in range(50)])
    assert len(encoded_series(long, "m", 10).points) <= 10
    assert json.loads(encoded_series(long, "m").steps_json) == list(range(50))
    for run in (ints, floats, long, _Run([]), _Run([(-3, -1e-300), (10**18, float(2**60))])):
        pairs = [list(p) for p in run.points]
        assert encoded_series(run, "m").pairs_json == json.dumps(pairs, separators=(",", ":"))
        for fields in ({}, {"version": 'v1 "é" </script>\u2028&'}):
            plain = rawjson.dumps(columns(run.points, **fields), ensure_ascii=False)
            assert encoded_series(run, "m").columns_json(**fields) == plain
            if fields:
                text, script = encoded_series(run, "m").version_columns(fields["version"])
                assert text == plain and script == rawjson.script_escape(plain)


def test_a_fragment_brings_its_script_text_or_is_escaped_when_spliced() -> None:
    """A fragment made with its script text is spliced as that; one without is escaped
    like the rest of the JSON, so a maker that skips the escaping only costs time."""
    from sitegen.compare import CurveLine, _data_json

    assert str(tojson_script([RawJSON('"<b>"', script='"B"')])) == '["B"]'
    assert str(tojson_script([RawJSON('"</script>"')])) == '["\\u003c/script\\u003e"]'
    series = encoded_series(_Run([(0, 0.5), (1, 0.25)]), "m")
    raw = _data_json([(XSS, CurveLine(series, ())), ("v2", CurveLine(series, ()))])
    assert raw.script == rawjson.script_escape(raw.text) and "</script>" not in raw.script
    assert json.loads(raw.text)[0]["version"] == XSS


def test_a_store_string_cannot_pose_as_a_spliced_fragment() -> None:
    forged = {"x": "\x00splice-00000000000000000000000000000000-0", "y": RawJSON("[1.0]")}
    assert json.loads(str(tojson_script(forged))) == {"x": forged["x"], "y": [1.0]}


@pytest.mark.parametrize("value", [0.123456, 3, -2.5e-9, float("inf"), 10**20, 1e22, -0.0])
def test_the_fast_metric_cell_equals_the_general_one(value: float) -> None:
    general = f'<td class="num"{cells.sort_value(value)}>{escape(fmtnum(value))}</td>'
    assert cells.metric_cell(value) == general


TRICKY = ["plain", XSS, "a & b", 'it\'s "quoted"', "", "ünï \u2013 ✓"]


@pytest.mark.parametrize("value", [*TRICKY, 3, 2.5, None, True, ["a<b"], escape("<b>")])
def test_plain_text_escaping_equals_markupsafe(value: object) -> None:
    assert cells._esc(value) == str(escape(value))


@pytest.mark.parametrize(
    "value", [0.5, 2.0, -3.0, 1e15, 1e16, 123456789.0, float("inf"), float("nan"), 7, None, "x<"]
)
def test_numbers_are_shown_as_before_the_float_fast_path(value: object) -> None:
    if isinstance(value, float) and value == value:
        expected = (
            str(int(value)) if value == round(value, 0) and abs(value) < 1e15 else f"{value:.6g}"
        )
        assert cells.num(value) == expected
    assert cells.num(value) == cells._num(value)
    if value == "x<":
        assert cells.num(value) == "x&lt;"


def jinja_rows(source: str, **context: object) -> str:
    """What the default theme's Jinja loops wrote before these helpers replaced them."""
    import jinja2

    env = jinja2.Environment(
        autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )
    env.globals["h"] = cells
    env.filters["filesize"] = filesize
    return env.from_string(source).render(context)


OLD_EDGE_LOOP = """{% for e in edges %}
<tr{% if e.broken %} class="lg-broken-row"{% endif %}>
<td data-value="{{ e.source }}"><span class="lg-kind lg-kind-{{ e.source_kind }}">{{ e.source_kind|replace("-", " ") }}</span> {% if e.source_href %}<a href="{{ e.source_href }}">{{ e.source }}</a>{% else %}<code>{{ e.source }}</code>{% endif %}</td>
<td class="muted">{{ e.relation }}</td>
<td data-value="{{ e.target }}"><span class="lg-kind lg-kind-{{ e.target_kind }}">{{ e.target_kind|replace("-", " ") }}</span> {% if e.target_href %}<a href="{{ e.target_href }}">{{ e.target }}</a>{% else %}<code>{{ e.target }}</code>{% endif %}</td>
<td>{% if e.broken %}<span class="badge badge-broken"><span aria-hidden="true">&#9888; </span>broken</span>{% else %}<span class="muted">ok</span>{% endif %}</td>
</tr>
{% endfor %}
"""


@pytest.mark.parametrize("text", TRICKY)
def test_lineage_edge_rows_equal_the_template_loop_they_replace(text: str) -> None:
    edges = [
        {
            "source": text,
            "source_kind": "dataset-version",
            "source_href": f"../{text}.html",
            "target": "run-1",
            "target_kind": "run",
            "target_href": None,
            "broken": False,
            "relation": "used by",
        },
        {
            "source": "run-1",
            "source_kind": "missing-run",
            "source_href": None,
            "target": text,
            "target_kind": text,
            "target_href": "x.html",
            "broken": True,
            "relation": text,
        },
    ]
    assert cell_rows.edge_rows(edges) == jinja_rows(OLD_EDGE_LOOP, edges=edges)
    assert "<script>" not in cell_rows.edge_rows(edges)


@pytest.mark.parametrize("text", TRICKY)
def test_key_value_rows_equal_the_template_loop_they_replace(text: str) -> None:
    rows = [
        {"key": f"a.{text}", "value": text},
        {"key": text, "value": 3},
        {"key": "n", "value": None},
    ]
    old = """{% for row in rows %}
<tr><th scope="row" class="key">{{ h.dotted_key(row.key) }}</th><td class="value">{{ row.value }}</td></tr>
{% endfor %}
"""
    assert cell_rows.kv_rows(rows) == jinja_rows(old, rows=rows)


def test_curve_rows_render_each_version_line_in_order() -> None:
    rows = [
        {"version": "v1", "step": 0, "value": 0.5},
        {"version": "v1", "step": 1, "value": 0.25},
        {"version": "v2", "step": 0, "value": 2.0},
    ]
    html = str(cell_rows.curve_rows(rows))
    assert html.count("<tr>") == 3
    assert html.index(">v1<") < html.index(">0.25<") < html.index(">v2<")
    assert '<td class="num">2</td>' in html


def test_pre_encoded_node_details_give_the_same_script_json() -> None:
    from sitegen.rawjson import RawValues

    details = {"r:1": {"config": {"b": [1, 2.5], "a": XSS}, "status": "ünï\u2028"}, "v:2": {}}
    encoded = RawValues(details)
    plain = {"nodes": [{"id": k, "details": details[k]} for k in ("r:1", "v:2")]}
    raw = {"nodes": [{"id": k, "details": encoded[k]} for k in ("r:1", "v:2")]}
    assert str(tojson_script(raw)) == str(tojson_script(plain))
    assert "</script>" not in tojson_script(raw) and encoded["r:1"] is encoded["r:1"]
    assert encoded.get("missing", {}) == {} and sorted(encoded) == ["r:1", "v:2"]


def test_the_render_environment_reads_dicts_as_jinja_does() -> None:
    """Keys first for plain dicts is a shortcut: dict methods still win, a missing key is
    still an error, and other objects go through Jinja's own lookup."""
    import jinja2

    from sitegen.render import make_environment

    env = make_environment()

    def render(source: str, **context: object) -> str:
        return env.from_string(source).render(context)

    assert render("{{ d.label }}", d={"label": XSS}) == str(escape(XSS))
    assert render("{{ d.keys()|list|length }}", d={"keys": 1, "b": 2}) == "2"
    assert render("{{ d.get('b') }}", d={"get": None, "b": 3}) == "3"
    assert render("{{ r.label }}", r=type("R", (), {"label": "attr"})()) == "attr"
    with pytest.raises(jinja2.UndefinedError):
        render("{{ d.missing }}", d={})


class Safe(Markup):
    pass


class HasHtml:
    def __html__(self) -> str:
        return "<b>safe</b>"


class Text(str):
    pass


@pytest.mark.parametrize(
    "value",
    [
        *TRICKY,
        escape(XSS),
        Markup("<i>ok</i>"),
        Safe("<u>"),
        HasHtml(),
        Text("<t>"),
        3,
        2.5,
        None,
        True,
    ],
)
def test_the_environment_escapes_exactly_as_markupsafe(value: object) -> None:
    from sitegen.render import _escape

    escaped = _escape(value)
    assert escaped == escape(value) and isinstance(escaped, Markup)


def test_every_template_escapes_with_the_environment_escape() -> None:
    """Compiled templates look ``escape`` up in their module's globals: the page, the
    layout it extends and the macros it imports all get the faster one."""
    from sitegen.render import _escape, make_environment

    env = make_environment()
    page = env.from_string('{% import "partials/macros.html" as m %}{{ x }}{{ m.chart(1, {}, x) }}')
    assert page.render(x=XSS).count("&lt;script&gt;") == 3 and "<script>alert" not in page.render(
        x=XSS
    )
    for name in ("base.html", "compare.html", "partials/macros.html"):
        assert env.get_template(name).root_render_func.__globals__["escape"] is _escape


def test_templates_call_helpers_directly_and_anything_else_as_jinja_does() -> None:
    """The helpers skip Jinja's ``pass_context`` check; a function that asks for the context
    still gets it, and calling what is undefined still fails."""
    import jinja2

    from sitegen.cells import STATE_MARKS
    from sitegen.render import make_environment

    @jinja2.pass_context
    def who(context: jinja2.runtime.Context) -> str:
        return str(context["name"])

    env = make_environment()
    page = env.from_string("{{ h.state_mark('added') }}|{{ who() }}|{{ h.state_mark('x') }}")
    assert page.render(name="ctx", who=who) == f"{STATE_MARKS['added']}|ctx|"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ nope() }}").render()


OLD_SUMMARY_ROWS = """{% set bv = vs[base] %}
{% set created_differs = vs|map(attribute="created_at")|unique|list|length > 1 %}
<tr data-key="created" data-differs="{{ 'true' if created_differs else 'false' }}"><th scope="row" class="key">Created</th>
{% for v in vs %}
{% set st = "base" if loop.index0 == base else ("same" if v.created_at == bv.created_at else "changed") %}
<td class="cell state-{{ st }}" data-state="{{ st }}">{{ h.state_mark(st) }}{{ h.time(v.created_at) }}</td>
{% endfor %}</tr>
{% set runs_differ = vs|map(attribute="run")|unique|list|length > 1 %}
<tr data-key="run" data-differs="{{ 'true' if runs_differ else 'false' }}"><th scope="row" class="key">Produced by</th>
{% for v in vs %}
{% set st = "base" if loop.index0 == base else ("missing" if v.run is none else ("same" if v.run == bv.run else "changed")) %}
<td class="cell state-{{ 'missing' if v.run is none else st }}" data-state="{{ st }}">{% if v.run is none %}{{ h.state_mark("missing") }}<span class="gone">no producing run</span>{% elif v.run_href %}{{ h.state_mark(st) }}<a class="run-link" href="{{ v.run_href }}">{{ v.run }}</a>{% else %}{{ h.state_mark(st) }}<span class="run-link">{{ v.run }}</span>{% endif %}</td>
{% endfor %}</tr>
{% set digests_differ = vs|map(attribute="digest")|unique|list|length > 1 %}
<tr data-key="digest" data-differs="{{ 'true' if digests_differ else 'false' }}"><th scope="row" class="key">Digest</th>
{% for v in vs %}
{% set st = "base" if loop.index0 == base else ("same" if v.digest == bv.digest else "changed") %}
<td class="cell state-{{ st }}" data-state="{{ st }}">{{ h.state_mark(st) }}{{ h.digest(v.digest) }}</td>
{% endfor %}</tr>
{% set sizes_differ = vs|map(attribute="size")|unique|list|length > 1 %}
<tr data-key="size" data-differs="{{ 'true' if sizes_differ else 'false' }}"><th scope="row" class="key">Size</th>
{% for v in vs %}
{% set st = "base" if loop.index0 == base else ("same" if v.size == bv.size else "changed") %}
<td class="cell num state-{{ st }}" data-state="{{ st }}">{{ h.state_mark(st) }}{{ v.size|filesize }}{% if st == "changed" %} <span class="cmp-delta delta-neutral"><span aria-hidden="true">{% if v.size > bv.size %}&#9650;{% else %}&#9660;{% endif %}</span> {% if v.size > bv.size %}+{% else %}&minus;{% endif %}{{ (v.size - bv.size)|abs|filesize }}</span>{% endif %}</td>
{% endfor %}</tr>
{% set counts_differ = vs|map(attribute="files")|unique|list|length > 1 %}
<tr data-key="files" data-differs="{{ 'true' if counts_differ else 'false' }}"><th scope="row" class="key">Files</th>
{% for v in vs %}
{% set st = "base" if loop.index0 == base else ("same" if v.files == bv.files else "changed") %}
<td class="cell num state-{{ st }}" data-state="{{ st }}">{{ h.state_mark(st) }}{{ v.files }}{% if st == "changed" %} <span class="cmp-delta delta-neutral">{{ "+" if v.files > bv.files else "" }}{{ v.files - bv.files }}</span>{% endif %}</td>
{% endfor %}</tr>
{% set aliases_differ = vs|map(attribute="aliases")|map("join", " ")|unique|list|length > 1 %}
<tr data-key="aliases" data-differs="{{ 'true' if aliases_differ else 'false' }}"><th scope="row" class="key">Aliases</th>
{% for v in vs %}<td class="cell">{% if v.aliases %}<ul class="chips">{% for a in v.aliases %}<li>{{ h.alias_chip(a) }}</li>{% endfor %}</ul>{% else %}<span class="muted">&mdash;</span>{% endif %}</td>{% endfor %}</tr>
"""


def summary_version(label: str, **facts: object) -> dict[str, object]:
    return {
        "label": label,
        "created_at": "2024-09-07T09:01:17.000Z",
        "run": "train",
        "run_href": "../runs/train/index.html",
        "digest": "ab" * 32,
        "size": 18_000,
        "files": 4,
        "aliases": [],
        **facts,
    }


SUMMARY_CASES = {
    "all the same": [summary_version("v1"), summary_version("v2")],
    "everything changed, grown": [
        summary_version("v1", aliases=["production"]),
        summary_version(
            "v2",
            created_at="2024-09-08T10:00:00.000Z",
            run="train-2",
            run_href=None,
            digest="cd" * 32,
            size=19_500,
            files=6,
            aliases=["candidate", "latest"],
        ),
    ],
    "shrunk, and no producing run": [
        summary_version("v1"),
        summary_version("v2", run=None, run_href=None, size=500, files=1),
    ],
    "a baseline without a run, three versions": [
        summary_version("v1", run=None, run_href=None),
        summary_version("v2", run="Train"),
        summary_version("v3", run="train", created_at=""),
    ],
}


@pytest.mark.parametrize("base", [0, 1])
@pytest.mark.parametrize("case", SUMMARY_CASES)
def test_summary_rows_equal_the_template_rows_they_replace(case: str, base: int) -> None:
    vs = SUMMARY_CASES[case]
    assert cell_rows.summary_rows(vs, base) == jinja_rows(OLD_SUMMARY_ROWS, vs=vs, base=base)


def test_a_summary_value_changed_only_in_case_is_a_difference() -> None:
    """The old template counted values with Jinja's ``unique``, which ignores case: a run id
    changed only in case was marked changed, yet hidden by "only differences"."""
    vs = [summary_version("v1", run="Train"), summary_version("v2", run="train")]
    html = cell_rows.summary_rows(vs, 0)
    assert '<tr data-key="run" data-differs="true">' in html
    assert '<tr data-key="run" data-differs="false">' in jinja_rows(OLD_SUMMARY_ROWS, vs=vs, base=0)


@pytest.mark.parametrize("text", TRICKY)
def test_summary_rows_escape_store_strings_as_the_template_did(text: str) -> None:
    vs = [
        summary_version("v1", run=text, run_href=text, aliases=[text, "production"]),
        summary_version("v2", created_at=text, digest=text, run=text, run_href=None),
    ]
    html = cell_rows.summary_rows(vs, 0)
    assert html == jinja_rows(OLD_SUMMARY_ROWS, vs=vs, base=0)
    assert "<script>" not in html


@pytest.mark.parametrize("text", TRICKY)
def test_the_chart_helper_writes_the_chart_macro_markup(text: str) -> None:
    import jinja2

    from sitegen.render import default_theme_dir, make_environment

    env = make_environment(None)
    macros = (default_theme_dir() / "partials" / "macros.html").read_text()
    assert "macro chart(" in macros
    spec = {"title": text, "data": {"values": RawJSON('[{"step":[1],"value":[0.5]}]')}}
    via_macro = env.from_string(
        '{% import "partials/macros.html" as m %}{{ m.chart(id, spec, title) }}'
    ).render(id=f"c-{text}", spec=spec, title=text)
    assert str(cells.chart(f"c-{text}", spec, text)) == via_macro
    assert "<script>alert" not in via_macro and isinstance(env, jinja2.Environment)


def test_templates_get_the_helpers_and_nothing_the_helper_modules_import() -> None:
    """``h`` holds the functions defined in cells and cell_rows, not what they import
    (``Markup``, ``escape``, filters), and every ``h.name`` of the default theme."""
    from sitegen.render import HELPERS

    helpers = vars(HELPERS)
    defined = {
        name
        for module in (cells, cell_rows)
        for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module.__name__
        if not name.startswith("_")
    }
    assert set(helpers) == defined
    assert not {"Markup", "escape", "escape_text", "timefmt", "tojson_script"} & set(helpers)
    theme = Path(__file__).parents[1] / "themes" / "default"
    used = {m for t in theme.rglob("*.html") for m in re.findall(r"\bh\.(\w+)", t.read_text())}
    assert used and used <= set(helpers)
