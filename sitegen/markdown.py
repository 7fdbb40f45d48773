"""Markdown from stores and configs, rendered safely: raw HTML off, unsafe links dropped."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup

SAFE_SCHEMES = re.compile(r"^(https?:|mailto:|#|/|\.|[^:]*$)", re.IGNORECASE)


def _validate_link(url: str) -> bool:
    """Allow http(s), mailto, fragments and relative links; drop javascript:, data:, file:, …"""
    return bool(SAFE_SCHEMES.match(url.strip()))


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.enable("strikethrough")
    md.validateLink = _validate_link  # type: ignore[method-assign]
    return md


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> Markup:
    """HTML for ``text``; everything in it is escaped except markdown's own tags."""
    if not text.strip():
        return Markup("")
    return Markup(_parser().render(text))


def prerender(texts: Iterable[str]) -> None:
    """Render these texts now, in a row, into :func:`render_markdown`'s cache, before the pages
    that show them are built. markdown-it is a lot of Python code: run between other page
    work, a render worker took ~170 µs per version description at 10,000 versions; in runs
    of 16, ~75 µs (45 µs in a loop of nothing else)."""
    for text in texts:
        render_markdown(text)


def plain_snippet(text: str, limit: int = 160) -> str:
    """The first paragraph of markdown as plain text, for tables and search."""
    first = text.strip().split("\n\n", 1)[0]
    plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", first)
    plain = re.sub(r"`+|(?<!\w)[*_]+|[*_]+(?!\w)", "", plain)
    plain = re.sub(r"^[#>\-|\s]+", "", plain, flags=re.M)
    plain = " ".join(plain.split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"
