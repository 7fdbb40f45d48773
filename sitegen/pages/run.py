"""Run pages: config, summary, metric charts (downsampled), inputs and outputs."""

from __future__ import annotations

from typing import Any

from sitegen.assets import GRAPH_ASSETS
from sitegen.charts import encoded_series, line_spec
from sitegen.config import SiteConfig
from sitegen.markdown import render_markdown
from sitegen.model import Project, Run
from sitegen.pages.common import (
    Page,
    SiteInfo,
    base_context,
    chart_scripts,
    duration,
    flatten,
    rel,
    run_url,
)
from sitegen.rawjson import RawJSON
from sitegen.store.run_records import REF_RE

FALLBACK_ROWS = 50


def ref_links(url: str, refs: tuple[str, ...], known: set[str]) -> list[dict[str, Any]]:
    out = []
    for ref in refs:
        match = REF_RE.match(ref)
        broken = ref not in known or match is None
        href = (
            None
            if broken or match is None
            else rel(url, f"artifacts/{match[1]}/{match[2]}/v{match[3]}/index.html")
        )
        out.append({"ref": ref, "href": href, "broken": broken})
    return out


def charts(run: Run) -> list[dict[str, Any]]:
    out = []
    for index, metric in enumerate(run.metric_names):
        points = run.series(metric)
        shown = encoded_series(run, metric)
        stride = max(1, len(points) // FALLBACK_ROWS)
        table = [{"step": s, "value": v} for s, v in points[::stride]][:FALLBACK_ROWS]
        text = f"[{shown.columns_json()}]"
        data = RawJSON(text, script=text)  # numbers only: nothing to escape
        out.append(
            {
                "id": f"chart-{index}",
                "metric": metric,
                "spec_json": line_spec(metric, shown.points, values=data),
                "points": len(shown.points),
                "steps": len(points),
                "table": table,
            }
        )
    return out


def run_page(
    site: SiteInfo,
    project: Project,
    run: Run,
    config: SiteConfig,
    known: set[str],
    lineage: dict[str, Any],
) -> Page:
    r = run.record
    url = run_url(r.id)
    ctx = base_context(
        site,
        url,
        "run",
        r.name,
        [("Overview", "index.html"), ("Runs", "runs/index.html")],
        chart_scripts() + GRAPH_ASSETS,
    )
    ctx["lineage"] = lineage
    ctx["run"] = {
        "id": r.id,
        "name": r.name,
        "job_type": r.job_type,
        "status": r.status,
        "started": r.started_at,
        "finished": r.finished_at,
        "duration": duration(r.started_at, r.finished_at),
        "host": r.host,
        "user": r.user,
        "git_commit": str(r.git.get("commit", "")),
        "git_dirty": r.git.get("dirty") if isinstance(r.git.get("dirty"), bool) else None,
        "notes_html": render_markdown(r.notes),
        "tags": list(r.tags),
    }
    ctx["config"] = flatten(r.config)
    ctx["summary"] = [
        {**row, "direction": config.stated_direction(row["key"])}
        for row in flatten(r.summary, keep_numbers=True)
    ]
    ctx["charts"] = charts(run)
    ctx["inputs"] = ref_links(url, r.inputs, known)
    ctx["outputs"] = ref_links(url, r.outputs, known)
    return Page(url, "run.html", ctx)
