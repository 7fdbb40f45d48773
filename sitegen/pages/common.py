"""What every page shares: the Page type, relative links, value formatting, site context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sitegen import rawjson
from sitegen.assets import ASSETS, CHART_ASSETS, GRAPH_ASSETS
from sitegen.contentdiff import display_value

CSP = (
    "default-src 'none'; script-src 'self'{scripts}; style-src 'self'{styles}; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'"
)
CDN_ORIGIN = "https://cdn.jsdelivr.net"


@dataclass(frozen=True)
class Page:
    """One output file: a template rendered with ``context``, or ready ``data`` bytes."""

    url: str
    template: str | None
    context: Mapping[str, Any]
    data: bytes | None = None


@dataclass(frozen=True)
class SiteInfo:
    """Site-wide facts that pages need; plain data so pages can be rendered anywhere."""

    title: str
    description_html: str
    project: str
    stamp: str
    version: str
    offline: bool
    base_url: str | None = None


def rel(from_url: str, to_url: str) -> str:
    """Relative href from one site file to another (works from file:// and any sub-path).

    Both are site-relative paths without ``.``/``..`` segments; plain string arithmetic
    (``posixpath.relpath`` would consult the working directory for each of ~10⁶ links).
    """
    start = from_url.split("/")[:-1]
    target = to_url.split("/")
    common = 0
    while common < len(start) and common < len(target) - 1 and start[common] == target[common]:
        common += 1
    parts = [".."] * (len(start) - common) + target[common:]
    return "/".join(parts) or "."


def root_of(url: str) -> str:
    return "../" * url.count("/")


def collection_url(coll: str) -> str:
    return f"artifacts/{coll}/index.html"


def version_url(coll: str, version: int) -> str:
    return f"artifacts/{coll}/v{version}/index.html"


def run_url(run_id: str) -> str:
    return f"runs/{run_id}/index.html"


def version_data_url(coll: str, version: int) -> str:
    return f"data/artifacts/{coll}/v{version}.json"


def scripts_for(url: str, keys: tuple[str, ...], offline: bool) -> list[dict[str, Any]]:
    out = []
    for key in keys:
        asset = ASSETS[key]
        if offline:
            out.append(
                # file:// pages cannot check SRI (no CORS); SHA256SUMS covers vendored files
                {"src": rel(url, asset.local_path), "integrity": None, "crossorigin": False}
            )
        else:
            out.append({"src": asset.cdn_url, "integrity": asset.sri, "crossorigin": True})
    return out


def base_context(
    site: SiteInfo,
    url: str,
    kind: str,
    title: str,
    crumbs: list[tuple[str, str]],
    script_keys: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The context every template gets: site, page, scripts, nav."""
    sources = [] if site.offline else [CDN_ORIGIN]
    styles = (
        " 'unsafe-inline'" if set(script_keys) & set(GRAPH_ASSETS) else ""
    )  # cytoscape sets style attributes
    csp = CSP.format(scripts="".join(f" {s}" for s in sources), styles=styles)
    return {
        "site": {
            "title": site.title,
            "description_html": site.description_html,
            "project": site.project,
            "stamp": site.stamp if kind == "index" else "",  # one page changes per event, not all
            "version": site.version,
            "csp": csp,
        },
        "page": {
            "url": url,
            "root": root_of(url),
            "title": title,
            "kind": kind,
            "canonical": f"{site.base_url}{url}" if site.base_url and kind != "404" else None,
            "breadcrumbs": [{"label": label, "href": rel(url, target)} for label, target in crumbs],
        },
        "scripts": scripts_for(url, script_keys, site.offline),
        "nav": {
            "home": rel(url, "index.html"),
            "runs": rel(url, "runs/index.html"),
            "lineage": rel(url, "lineage/index.html"),
            "audit": rel(url, "audit/index.html"),
            "search_index": rel(url, "data/search.js"),
        },
    }


def chart_scripts() -> tuple[str, ...]:
    return CHART_ASSETS


def data_script(url: str, target: str, value: Any) -> Page:
    """Data the browser loads with ``<script src>`` (``fetch()`` is blocked on file://)."""
    return script_page(url, target, rawjson.dumps(value, ensure_ascii=True))


def script_page(url: str, target: str, ascii_json: str) -> Page:
    """``TARGET = JSON;`` with ``<`` and ``>`` escaped so no ``</script>`` can appear."""
    payload = ascii_json.replace("<", "\\u003c").replace(">", "\\u003e")
    return Page(url, None, {}, f"{target} = {payload};\n".encode())


def flatten(
    data: Mapping[str, Any], prefix: str = "", keep_numbers: bool = False
) -> list[dict[str, Any]]:
    """Nested mappings as sorted ``{key: "a.b.c", value}`` rows; lists stay whole.

    Values become display strings; with ``keep_numbers`` numbers stay numbers.
    """
    rows: list[dict[str, Any]] = []
    for key in sorted(data, key=str):
        value, path = data[key], f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            rows.extend(flatten(value, f"{path}.", keep_numbers))
        elif keep_numbers and number_or_none(value) is not None:
            rows.append({"key": path, "value": value})
        else:
            rows.append({"key": path, "value": display_value(value)})
    return rows


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def duration_seconds(start: str | None, end: str | None) -> int | None:
    begin, finish = parse_time(start), parse_time(end)
    if begin is None or finish is None:
        return None
    return max(int((finish - begin).total_seconds()), 0)


TOO_LARGE = 10**300


@lru_cache(maxsize=16384, typed=True)
def human_size(size: int) -> str:
    """Made once per process: a file's size is in every comparison and page that lists it."""
    if size >= TOO_LARGE:  # a hostile manifest's: no float holds it
        return "more than 1e300 TB"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def duration(start: str | None, end: str | None) -> str:
    seconds = duration_seconds(start, end)
    if seconds is None:
        return ""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return (
        f"{hours}h {minutes:02d}m"
        if hours
        else (f"{minutes}m {secs:02d}s" if minutes else f"{secs}s")
    )


def number_or_none(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value
