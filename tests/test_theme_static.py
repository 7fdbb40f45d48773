"""Static checks of the default theme (``themes/default``): safe by construction.

* every template parses in an environment configured like the real one (autoescape,
  StrictUndefined, trim/lstrip blocks, ChoiceLoader + ``default:`` prefix);
* ``|safe`` only on ``*_html`` values (markdown the build already rendered and sanitised),
  no ``{% autoescape false %}``;
* no inline ``<script>`` code (only ``src=`` scripts and ``application/json`` data blocks),
  no ``on*=`` event-handler attributes, no ``style=`` attributes or ``<style>`` elements,
  no ``javascript:`` URLs -- the page CSP forbids all of these;
* the theme's own JS and CSS avoid eval, HTML injection and remote resources;
* rendering every page template with the documented context contract, filled with XSS
  payloads, produces no live markup from them.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from jinja2 import nodes
from markupsafe import Markup

THEME = Path(__file__).resolve().parent.parent / "themes" / "default"
STATIC = THEME / "static"
TEMPLATES = sorted(
    p.relative_to(THEME).as_posix() for p in THEME.rglob("*.html") if STATIC not in p.parents
)
PAGE_TEMPLATES = (
    "index.html",
    "collection.html",
    "version.html",
    "run.html",
    "runs.html",
    "404.html",
)

CONTRACT_FILTERS = ("tojson_script", "filesize", "fmtnum", "timefmt", "short")


# --- an environment like sitegen.render's -----------------------------------------------


def _tojson_script(value: Any) -> Markup:
    text = json.dumps(value, sort_keys=True)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _fmtnum(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def make_env() -> jinja2.Environment:
    """sitegen's own environment when it can be built, else an equivalent one."""
    try:
        from sitegen.render import default_theme_dir, make_environment
    except ImportError:
        pass
    else:
        if default_theme_dir().resolve() == THEME:
            return make_environment()
    theme = jinja2.FileSystemLoader(str(THEME))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([theme, jinja2.PrefixLoader({"default": theme})]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        tojson_script=_tojson_script,
        filesize=lambda n: f"{n} B",
        fmtnum=_fmtnum,
        timefmt=lambda s: str(s).replace("T", " "),
        short=lambda d: str(d)[:12],
    )
    return env


@pytest.fixture(scope="module")
def env() -> jinja2.Environment:
    return make_env()


def source(name: str) -> str:
    return (THEME / name).read_text(encoding="utf-8")


def markup_only(text: str) -> str:
    """The template's HTML with Jinja comments removed and tags/expressions blanked out."""
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    return re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "JINJA", text, flags=re.S)


def test_theme_has_the_expected_files() -> None:
    for name in ("base.html", *PAGE_TEMPLATES, "partials/macros.html"):
        assert (THEME / name).is_file(), name
    for name in ("site.css", "site.js", "theme.js"):
        assert (STATIC / name).is_file(), name


# --- templates parse ---------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_compiles(env: jinja2.Environment, name: str) -> None:
    env.get_template(name)  # parses and compiles: unknown filters/tests fail here


def test_default_prefix_resolves(env: jinja2.Environment) -> None:
    child = env.from_string('{% extends "default:base.html" %}{% block content %}x{% endblock %}')
    assert child is not None


@pytest.mark.parametrize("name", PAGE_TEMPLATES)
def test_page_templates_extend_base(name: str) -> None:
    assert re.match(r'\s*(\{#.*?#\}\s*)*\{%-?\s*extends\s+"base\.html"', source(name), re.S), name


@pytest.mark.parametrize("name", TEMPLATES)
def test_filters_used_exist_in_the_contract(env: jinja2.Environment, name: str) -> None:
    ast = env.parse(source(name))
    builtin = set(jinja2.Environment().filters)
    for node in ast.find_all(nodes.Filter):
        assert node.name in builtin or node.name in CONTRACT_FILTERS, (
            f"{name}: unknown filter {node.name}"
        )


# --- escaping ------------------------------------------------------------------------------


def _final_name(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return str(node.arg.value)
    return None


@pytest.mark.parametrize("name", TEMPLATES)
def test_safe_only_on_html_fields(env: jinja2.Environment, name: str) -> None:
    ast = env.parse(source(name))
    for node in ast.find_all(nodes.Filter):
        if node.name == "safe":
            target = _final_name(node.node) if node.node is not None else None
            assert target and target.endswith("_html"), (
                f"{name}:{node.lineno}: |safe on something that is not a *_html field"
            )
    for node in ast.find_all(nodes.ScopedEvalContextModifier):
        for kw in node.options:
            assert kw.key != "autoescape", f"{name}:{node.lineno}: autoescape block"
    assert not list(ast.find_all(nodes.MarkSafe)), name


@pytest.mark.parametrize("name", TEMPLATES)
def test_tojson_script_only_inside_json_script_blocks(name: str) -> None:
    text = re.sub(r"\{#.*?#\}", "", source(name), flags=re.S)
    for match in re.finditer(r"\|\s*tojson_script", text):
        before = text[: match.start()]
        opening = before.rfind("<script")
        assert opening != -1 and before.rfind("</script>") < opening, (
            f"{name}: tojson_script outside <script>"
        )
        assert 'type="application/json"' in before[opening:], (
            f"{name}: tojson_script in a code script"
        )


# --- CSP: no inline code or style ---------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATES)
def test_no_inline_script_code(name: str) -> None:
    text = markup_only(source(name))
    for match in re.finditer(r"<script\b([^>]*)>(.*?)</script\s*>", text, re.S | re.I):
        attrs, body = match.group(1), match.group(2)
        if re.search(r'\btype\s*=\s*"application/json"', attrs):
            continue
        assert re.search(r"\bsrc\s*=", attrs), (
            f"{name}: <script> without src: {match.group(0)[:80]}"
        )
        assert body.strip() == "", f"{name}: <script src> with inline code"
    assert len(re.findall(r"<script\b", text, re.I)) == len(
        re.findall(r"</script\s*>", text, re.I)
    ), name


@pytest.mark.parametrize("name", TEMPLATES)
def test_no_event_handler_or_style_attributes(name: str) -> None:
    text = markup_only(source(name))
    for tag in re.finditer(r"<[a-zA-Z][^<>]*>", text):
        body = tag.group(0)
        assert not re.search(r"\son[a-z]+\s*=", body, re.I), f"{name}: event handler in {body}"
        assert not re.search(r"\sstyle\s*=", body, re.I), f"{name}: style attribute in {body}"
    assert not re.search(r"<style\b", text, re.I), f"{name}: <style> element"
    assert "javascript:" not in text.lower(), f"{name}: javascript: URL"


def test_static_js_has_no_eval_or_html_injection() -> None:
    for path in STATIC.glob("*.js"):
        code = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
        for banned in (
            "eval(",
            "new Function",
            "Function(",
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            ".style.",
            'setAttribute("style"',
            "cssText",
        ):
            assert banned not in code, f"{path.name}: uses {banned}"
        assert not re.search(r"setTimeout\(\s*['\"]", code), path.name


def test_static_css_loads_nothing_remote() -> None:
    css = (STATIC / "site.css").read_text(encoding="utf-8")
    assert "@import" not in css
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css)


# --- render with the context contract and XSS payloads ---------------------------------------

PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
X1, X2 = PAYLOADS


def _common(kind: str, root: str = "../../", charts: bool = False) -> dict[str, Any]:
    return {
        "site": {
            "title": X1,
            "description_html": Markup("<p>ok</p>"),
            "project": X2,
            "stamp": X1,
            "version": "0.0.0",
            "csp": "default-src 'none'",
        },
        "page": {
            "url": "x/index.html",
            "root": root,
            "title": X2,
            "kind": kind,
            "canonical": "https://example.org/x/index.html?q=" + X1,
            "breadcrumbs": [{"label": X1, "href": root + "index.html"}],
        },
        "scripts": [
            {"src": "https://cdn.example/v.js", "integrity": "sha384-x", "crossorigin": True}
        ]
        if charts
        else [],
        "nav": {
            "home": root + "index.html",
            "runs": root + "runs/index.html",
            "lineage": root + "lineage/index.html",
            "audit": root + "audit/index.html",
            "search_index": root + "data/search.json",
        },
    }


def _run_row(i: int) -> dict[str, Any]:
    return {
        "id": f"r{i}",
        "name": X2,
        "href": f"runs/r{i}/index.html",
        "job_type": X1,
        "status": [X1, "finished", "failed"][i % 3],
        "started": "2024-01-01T00:00:00Z",
        "duration": X1,
        "metrics": [{"name": X1, "value": 0.5 if i else None}],
    }


def _spec() -> dict[str, Any]:
    return {"data": {"values": [{"step": 0, "value": X1 + "</script><script>alert(2)</script>"}]}}


def contexts() -> Iterator[tuple[str, dict[str, Any]]]:
    ref = {"label": X1, "href": "v1/index.html"}
    run_ref = {"id": X1, "name": X2, "href": "r/index.html", "job_type": X1, "status": X2}
    cols = [{"name": X1, "direction": "higher"}]
    yield (
        "index.html",
        {
            **_common("index", ""),
            "overview": {
                "description_html": Markup("<p>desc</p>"),
                "facts": [{"label": X1, "value": X2}],
                "types": [
                    {
                        "type": X1,
                        "collections": [
                            {
                                "name": X2,
                                "ref": X1,
                                "href": "c/index.html",
                                "version_count": 2,
                                "latest": ref,
                                "aliases": [{"alias": X1, "label": X2, "href": "a.html"}],
                                "description_text": X1,
                                "updated": "2024-01-01T00:00:00Z",
                            }
                        ],
                    }
                ],
                "alias_board": [
                    {
                        "collection": X1,
                        "collection_href": "c.html",
                        "alias": X2,
                        "label": X1,
                        "href": "v.html",
                    }
                ],
                "recent_versions": [
                    {
                        "ref": X1,
                        "href": "v.html",
                        "created": "2024-01-01T00:00:00Z",
                        "collection": X2,
                        "collection_href": "c.html",
                        "producer": run_ref,
                    }
                ],
                "runs": [_run_row(i) for i in range(3)],
                "metric_columns": cols,
                "runs_total": 5,
                "runs_href": "runs/index.html",
                "problems": [X1],
            },
        },
    )
    yield (
        "runs.html",
        {**_common("runs", "../"), "runs": [_run_row(i) for i in range(3)], "metric_columns": cols},
    )
    versions = [
        {
            "label": X1,
            "number": n,
            "href": "v.html",
            "aliases": [X2],
            "created": "2024-01-01T00:00:00Z",
            "size": 10,
            "files": 1,
            "digest": X1 * 3,
            "digest_short": X1,
            "producer": run_ref if n else None,
            "metrics": [{"name": X1, "value": 0.1 * n}],
            "compare_prev": {"label": X2, "href": "c.html"} if n else None,
        }
        for n in (2, 1, 0)
    ]
    yield (
        "collection.html",
        {
            **_common("collection", charts=True),
            "collection": {
                "type": X1,
                "name": X2,
                "ref": X1,
                "description_html": Markup("<p>d</p>"),
                "tags": [X1],
                "version_count": 3,
                "aliases": [{"alias": X1, "label": X2, "href": "v.html"}],
                "compare_href": "compare.html",
            },
            "versions": versions,
            "metric_columns": cols,
            "trend": {
                "spec_json": _spec(),
                "id": "trend-1",
                "rows": [{"label": X1, "metric": X2, "value": 1.0}],
            },
            "alias_history": [
                {
                    "time": "2024-01-01T00:00:00Z",
                    "alias": X1,
                    "action": "set",
                    "label": X2,
                    "href": "v.html",
                    "actor": X1,
                },
                {
                    "time": "2024-01-02T00:00:00Z",
                    "alias": X1,
                    "action": "removed",
                    "label": None,
                    "href": None,
                    "actor": X2,
                },
            ],
        },
    )
    yield (
        "version.html",
        {
            **_common("version"),
            "version": {
                "ref": X1,
                "label": X2,
                "type": X1,
                "name": X2,
                "number": 1,
                "digest": X1,
                "manifest_sha256": X2,
                "created": "2024-01-01T00:00:00Z",
                "description_html": Markup("<p>d</p>"),
                "aliases": [X1],
                "size": 1,
                "file_count": 2,
                "collection_href": "../index.html",
                "data_href": "d.json",
            },
            "metadata": [{"key": X1 + "." + X2, "value": X1}],
            "files": [
                {"path": X1, "size": 1, "sha256": X2, "ref_uri": X1, "download_href": None},
                {"path": X2, "size": 2, "sha256": X1, "ref_uri": None, "download_href": "o/x"},
            ],
            "files_total": 3000,
            "files_truncated": True,
            "producer": run_ref,
            "consumers": [run_ref],
            "previous": ref,
            "next": None,
            "compare_prev": {"label": X1, "href": "c.html"},
        },
    )
    yield (
        "run.html",
        {
            **_common("run", charts=True),
            "run": {
                "id": X1,
                "name": X2,
                "job_type": X1,
                "status": X2,
                "started": "2024-01-01T00:00:00Z",
                "finished": None,
                "duration": X1,
                "host": X1,
                "user": X2,
                "git_commit": X1,
                "git_dirty": True,
                "notes_html": Markup("<p>n</p>"),
                "tags": [X1, X2],
            },
            "config": [{"key": X1, "value": X2}],
            "summary": [
                {"key": X1, "value": 0.5, "direction": "lower"},
                {"key": X2, "value": X1, "direction": None},
            ],
            "charts": [
                {
                    "id": "chart-1",
                    "metric": X1,
                    "spec_json": _spec(),
                    "points": 2,
                    "steps": 2,
                    "table": [{"step": 0, "value": 1.5}],
                }
            ],
            "inputs": [{"ref": X1, "href": None, "broken": True}],
            "outputs": [{"ref": X2, "href": "o.html", "broken": False}],
        },
    )
    yield "404.html", {**_common("404", "")}


@pytest.mark.parametrize(
    ("name", "context"), list(contexts()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_page_renders_with_payloads_escaped(
    env: jinja2.Environment, name: str, context: dict[str, Any]
) -> None:
    out = env.get_template(name).render(context)
    assert out.startswith("<!doctype html>")
    assert "<script>alert" not in out and "<img src=x" not in out
    assert html.escape(X1, quote=False) in out or "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    # JSON data blocks cannot be closed early by the data inside them
    for block in re.findall(
        r'<script type="application/json" id="[^"]*">(.*?)</script>', out, re.S
    ):
        assert "<" not in block
        json.loads(block)
    # only the scripts the contract asked for, plus the theme's own
    srcs = re.findall(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", out)
    assert srcs[0].endswith("assets/theme.js") and srcs[-1].endswith("assets/site.js")
    assert srcs[1:-1] == [s["src"] for s in context["scripts"]]
