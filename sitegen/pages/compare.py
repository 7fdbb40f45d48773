"""Comparison pages: pre-rendered adjacent pairs, and one client-side page for any set.

No O(n²) pages: ``v2..v3`` pages for neighbours only; ``compare.html`` compares any
versions in the browser from the per-version data scripts (``data/artifacts/…/vN.js``).
"""

from __future__ import annotations

import json
from typing import Any

from sitegen import rawjson
from sitegen.charts import encoded_series
from sitegen.compare import ReadObject, compare
from sitegen.config import LOWER_IS_BETTER, SiteConfig
from sitegen.model import Collection, Project
from sitegen.pages.common import (
    Page,
    SiteInfo,
    base_context,
    chart_scripts,
    collection_url,
    rel,
    run_url,
    script_page,
    version_data_url,
    version_url,
)
from sitegen.rawjson import RawJSON

HISTORY_POINTS = 200


def pair_url(coll: str, a: int, b: int) -> str:
    return f"artifacts/{coll}/compare/v{a}..v{b}.html"


def any_url(coll: str) -> str:
    return f"artifacts/{coll}/compare.html"


def version_script_url(coll: str, version: int) -> str:
    return f"data/artifacts/{coll}/v{version}.js"


def pair_page(
    site: SiteInfo,
    project: Project,
    collection: Collection,
    index: int,
    config: SiteConfig,
    read: ReadObject | None,
) -> Page:
    a, b = collection.versions[index - 1], collection.versions[index]
    url = pair_url(collection.ref, a.record.version, b.record.version)
    crumbs = [("Overview", "index.html"), (collection.ref, collection_url(collection.ref))]
    ctx = base_context(
        site, url, "compare", f"{collection.ref}: {a.label}..{b.label}", crumbs, chart_scripts()
    )
    comparison = compare(project, [a, b], config, 0, read, encoded=True)
    for facts in comparison["versions"]:
        facts["href"] = rel(url, version_url(facts["collection"], facts["version"]))
        facts["run_href"] = rel(url, run_url(facts["run"])) if facts["run"] else None
    ctx["comparison"] = comparison
    ctx["collection"] = {"ref": collection.ref, "href": rel(url, collection_url(collection.ref))}
    ctx["any_href"] = (
        rel(url, any_url(collection.ref)) + f"#v={a.record.version},{b.record.version}"
    )
    ctx["previous_pair"] = _pair_link(url, collection, index - 1)
    ctx["next_pair"] = _pair_link(url, collection, index + 1)
    return Page(url, "compare.html", ctx)


def _pair_link(url: str, collection: Collection, index: int) -> dict[str, str] | None:
    if index < 1 or index >= len(collection.versions):
        return None
    a, b = collection.versions[index - 1], collection.versions[index]
    return {
        "label": f"{a.label}..{b.label}",
        "href": rel(url, pair_url(collection.ref, a.record.version, b.record.version)),
    }


def any_page(site: SiteInfo, project: Project, collection: Collection, config: SiteConfig) -> Page:
    url = any_url(collection.ref)
    crumbs = [("Overview", "index.html"), (collection.ref, collection_url(collection.ref))]
    ctx = base_context(
        site, url, "compare-any", f"Compare versions of {collection.ref}", crumbs, chart_scripts()
    )
    ctx["collection"] = {"ref": collection.ref, "href": rel(url, collection_url(collection.ref))}
    ctx["choices"] = [
        {
            "number": v.record.version,
            "label": v.label,
            "aliases": list(v.aliases),
            "created": v.record.created_at,
            "data_src": rel(url, version_script_url(collection.ref, v.record.version)),
            "href": rel(url, version_url(collection.ref, v.record.version)),
        }
        for v in reversed(collection.versions)
    ]
    ctx["directions"] = {m.name: m.direction for m in project.metrics}
    ctx["default_direction_lower"] = LOWER_IS_BETTER.pattern
    ctx["run_base"] = rel(url, "runs/")
    return Page(url, "compare_any.html", ctx)


def version_files(
    project: Project, collection: Collection, index: int, body: dict[str, Any]
) -> list[Page]:
    """The version's data as JSON (``vN.json``), and as a script (``vN.js``) that adds its
    run's history, for the compare page (``fetch()`` is blocked on file://).

    The body is encoded once for both: its keys before ``history`` and those after it, so
    that each file is the same bytes as encoding its whole object with sorted keys.
    """
    v = collection.versions[index]
    run = project.run(v.producer) if v.producer else None
    history = (
        {m: RawJSON(encoded_series(run, m, HISTORY_POINTS).pairs_json) for m in run.metric_names}
        if run
        else {}
    )
    assert "history" not in body
    halves = [
        {k: x for k, x in body.items() if k < "history"},
        {k: x for k, x in body.items() if k > "history"},
    ]
    head, tail = (rawjson.dumps(half, ensure_ascii=False) for half in halves)
    data = _merged(head, tail)
    if not data.isascii():
        head, tail = (rawjson.dumps(half, ensure_ascii=True) for half in halves)
    script = _merged(head, rawjson.dumps({"history": history}, ensure_ascii=True), tail)
    number = v.record.version
    target = f"(window.SITEGEN_VERSIONS = window.SITEGEN_VERSIONS || {{}})[{json.dumps(v.ref)}]"
    return [
        Page(version_data_url(collection.ref, number), None, {}, data.encode("utf-8")),
        script_page(version_script_url(collection.ref, number), target, script),
    ]


def _merged(*objects: str) -> str:
    """JSON objects with disjoint keys, each sorted and all in key order, as one object."""
    return "{" + ",".join(inner for text in objects if (inner := text[1:-1])) + "}"
