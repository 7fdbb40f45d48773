"""The render stage: a Jinja environment (autoescape, StrictUndefined) and page rendering.

Themes: a user theme directory overrides single templates; ``default:NAME`` always
reaches the built-in template so an override can extend it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from sitegen.errors import Problem, SitegenError
from sitegen.pages.common import Page, human_size, parse_time


def default_theme_dir() -> Path:
    """``themes/default`` in a checkout, or ``sitegen/themes/default`` when installed."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "themes" / "default", here / "themes" / "default"):
        if (candidate / "base.html").is_file():
            return candidate
    raise FileNotFoundError("sitegen's default theme is missing from the installation")


def tojson_script(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
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


def make_environment(theme_dir: Path | None = None) -> jinja2.Environment:
    default = jinja2.FileSystemLoader(str(default_theme_dir()))
    loaders: list[jinja2.BaseLoader] = (
        [jinja2.FileSystemLoader(str(theme_dir))] if theme_dir else []
    )
    loaders.append(default)
    loader = jinja2.ChoiceLoader(
        [jinja2.PrefixLoader({"default": default}, delimiter=":"), *loaders]
    )
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        tojson_script=tojson_script, filesize=filesize, fmtnum=fmtnum, timefmt=timefmt, short=short
    )
    return env


def theme_files(theme_dir: Path | None) -> dict[str, Path]:
    """Every template and static file that a build reads, user overrides winning."""
    files: dict[str, Path] = {}
    for root in (default_theme_dir(), theme_dir):
        if root is None:
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file():
                files[path.relative_to(root).as_posix()] = path
    return files


def theme_digest(theme_dir: Path | None) -> str:
    digest = hashlib.sha256()
    for name, path in sorted(theme_files(theme_dir).items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def render_page(env: jinja2.Environment, page: Page) -> bytes:
    """The page's bytes; template mistakes (a user theme's, say) become located problems."""
    if page.data is not None:
        return page.data
    assert page.template is not None
    try:
        return env.get_template(page.template).render(page.context).encode("utf-8")
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or page.template
        raise SitegenError(
            [Problem(where, exc.lineno, f"template error: {exc.message}", "fix the theme template")]
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise SitegenError.single(
            page.template,
            f"template {exc.name!r} not found",
            "a user theme may override templates but the default theme must be complete",
        ) from None
    except jinja2.UndefinedError as exc:
        raise SitegenError.single(
            page.template,
            f"template error while rendering {page.url}: {exc.message}",
            "templates may only use the documented context (docs/site.md)",
        ) from None


def context_fingerprint(salt: str, page: Page) -> str:
    """Everything a page renders from, hashed: its template, context and the build salt."""
    digest = hashlib.sha256(salt.encode())
    digest.update(str(page.template).encode() + b"\0")
    if page.data is not None:
        digest.update(page.data)
    else:
        digest.update(
            json.dumps(page.context, sort_keys=True, default=str, ensure_ascii=False).encode()
        )
    return digest.hexdigest()


def static_files(theme_dir: Path | None) -> Mapping[str, Path]:
    """Theme files under ``static/`` published as ``assets/…``."""
    return {
        f"assets/{name.removeprefix('static/')}": path
        for name, path in theme_files(theme_dir).items()
        if name.startswith("static/")
    }
