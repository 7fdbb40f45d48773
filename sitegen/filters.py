"""Jinja filters of the default theme: numbers, sizes, times, digests, JSON in scripts."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

from markupsafe import Markup

from sitegen.pages.common import human_size, parse_time
from sitegen.rawjson import RawJSON

_SPLICE = f"\u0000splice-{uuid.uuid4().hex}-"  # unguessable: store strings cannot match it
_SPLICED = re.compile(re.escape(json.dumps(_SPLICE))[:-1] + r'(\d+)"')


def tojson_script(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``.

    :class:`~sitegen.rawjson.RawJSON` fragments (pre-encoded data arrays) are spliced in.
    """
    raws: list[str] = []

    def splice(item: Any) -> str:
        if not isinstance(item, RawJSON):
            raise TypeError(f"{type(item).__name__} is not JSON serializable")
        raws.append(item.text)
        return f"{_SPLICE}{len(raws) - 1}"

    text = json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=splice
    )
    if raws:
        text = _SPLICED.sub(lambda match: raws[int(match[1])], text)
    for raw, escaped in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return Markup(text)


def filesize(value: Any) -> str:
    return human_size(value) if isinstance(value, int) else "—"


def fmtnum(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def timefmt(value: Any) -> str:
    parsed = parse_time(value) if isinstance(value, str) else None
    if parsed is None:
        return str(value or "—")
    return datetime.strftime(parsed, "%Y-%m-%d %H:%M UTC")


def short(value: Any) -> str:
    return str(value or "")[:12]
