"""Jinja filters of the default theme: numbers, sizes, times, digests, JSON in scripts."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from sitegen import rawjson
from sitegen.pages.common import human_size, parse_time
from sitegen.rawjson import script_escape


def tojson_script(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``.

    :class:`~sitegen.rawjson.RawJSON` fragments (pre-encoded data arrays) are spliced in.
    """
    text, raws = rawjson.encode(value, ensure_ascii=False)
    return Markup(rawjson.splice(script_escape(text), [raw.script_text for raw in raws]))


DASH = Markup("&mdash;")  # for a missing value; pages are ASCII (see docs/site.md)


def filesize(value: Any) -> str:
    return human_size(value) if isinstance(value, int) else DASH


def fmtnum(value: Any) -> str:
    if value is None:
        return DASH
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def timefmt(value: Any) -> str:
    if isinstance(value, str):
        return _timefmt_text(value)
    return str(value) if value else DASH


@lru_cache(maxsize=8192, typed=True)
def _timefmt_text(value: str) -> str:
    """Made once per process: a version's time is on its page, both of its comparisons,
    its collection's table and its runs' pages."""
    parsed = parse_time(value)
    if parsed is None:
        return str(value) if value else DASH  # a plain string, even from markup
    return datetime.strftime(parsed, "%Y-%m-%d %H:%M UTC")


def short(value: Any) -> str:
    return str(value or "")[:12]
