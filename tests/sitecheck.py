"""Site checks shared by tests: every relative link resolves, nothing points off-site locally."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append((tag, value))


def links_of(html: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def broken_links(site: Path) -> list[str]:
    """Every href/src in every page that does not resolve to a file of the site."""
    problems = []
    for page in sorted(site.rglob("*.html")):
        for tag, link in links_of(page.read_text(encoding="utf-8")):
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto") or link.startswith("#"):
                if "localhost" in link or "127.0.0.1" in link:
                    problems.append(f"{page}: local absolute link {link}")
                continue
            if parts.scheme or link.startswith("/"):
                problems.append(f"{page}: non-relative {tag} link {link!r}")
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.is_relative_to(site.resolve()) or not target.is_file():
                problems.append(f"{page}: broken {tag} link {link!r}")
    return problems


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
