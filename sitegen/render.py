"""The render stage: a Jinja environment (autoescape, StrictUndefined) and page rendering.

Themes: a user theme directory overrides single templates; ``default:NAME`` always
reaches the built-in template so an override can extend it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from types import CodeType, FunctionType, SimpleNamespace
from typing import Any, cast

import jinja2
import jinja2.runtime
from markupsafe import Markup, escape

from sitegen import cell_rows, cells, statcache
from sitegen.cachedir import user_cache
from sitegen.cells import escape_text
from sitegen.errors import Problem, SitegenError
from sitegen.filters import filesize, fmtnum, short, timefmt, tojson_script
from sitegen.pages.common import Page


def default_theme_dir() -> Path:
    """``themes/default`` in a checkout, or ``sitegen/themes/default`` when installed."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "themes" / "default", here / "themes" / "default"):
        if (candidate / "base.html").is_file():
            return candidate
    raise FileNotFoundError("sitegen's default theme is missing from the installation")


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """Jinja's environment with a cheaper ``mapping.name`` for plain dicts.

    Jinja tries ``getattr(obj, name)`` first and catches the AttributeError, which for the
    dicts that page contexts are made of costs ~10 % of rendering. A dict's only attributes
    are its methods, so looking the key up first for any other name gives the same result.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        try:  # Jinja's own first step, without the call into it
            return getattr(obj, attribute)
        except AttributeError:
            return super().getattr(obj, attribute)


_new_markup = str.__new__


def _escape(value: Any) -> Markup:
    """Autoescape's ``escape``, without markupsafe's Python-level ``Markup.__new__`` (and
    ``__html__`` calls) for the kinds a page outputs thousands of times: store text
    (``str``), helper markup (``Markup``, safe as it is) and numbers. The same text either
    way; anything else goes to markupsafe."""
    kind = type(value)
    if kind is str:
        return _new_markup(Markup, escape_text(value))
    if kind is Markup:
        return cast(Markup, value)
    if kind is int or kind is float:  # counts and indexes: their text has nothing to escape
        return _new_markup(Markup, str(value))
    return escape(value)


class _Context(jinja2.runtime.Context):
    """Jinja's context, calling the ``h.*`` helpers directly: they take no context (no
    ``pass_context``), so Jinja's check for one, two Python calls per call, is skipped (a
    comparison page makes ~35 calls)."""

    def call(__self, __obj: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if type(__obj) is FunctionType and __obj in _PLAIN_HELPERS:  # hashable, then
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            return __obj(*args, **kwargs)
        return super().call(__obj, *args, **kwargs)


class _Template(jinja2.Template):
    """Templates whose output expressions are escaped by :func:`_escape` (7 % of a
    comparison page's rendering, 13 % of a version page's): compiled template code looks
    ``escape`` up in its module's globals."""

    @classmethod
    def from_code(
        cls,
        environment: jinja2.Environment,
        code: CodeType,
        globals: MutableMapping[str, Any],
        uptodate: Callable[[], bool] | None = None,
    ) -> jinja2.Template:
        template = super().from_code(environment, code, globals, uptodate)
        template.root_render_func.__globals__["escape"] = _escape
        return template


def make_environment(theme_dir: Path | None = None) -> jinja2.Environment:
    """A fresh environment per build: templates are loaded once and never re-checked."""
    default = jinja2.FileSystemLoader(str(default_theme_dir()))
    loaders: list[jinja2.BaseLoader] = (
        [jinja2.FileSystemLoader(str(theme_dir))] if theme_dir else []
    )
    loaders.append(default)
    loader = jinja2.ChoiceLoader(
        [jinja2.PrefixLoader({"default": default}, delimiter=":"), *loaders]
    )
    env = _Environment(
        loader=loader,
        auto_reload=False,
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.template_class = _Template
    env.context_class = _Context
    env.filters.update(
        tojson_script=tojson_script, filesize=filesize, fmtnum=fmtnum, timefmt=timefmt, short=short
    )
    env.globals["h"] = HELPERS
    return env


HELPERS = SimpleNamespace(
    **{name: getattr(module, name) for module in (cells, cell_rows) for name in module.__all__}
)
"""``h`` in templates: the cells of :mod:`sitegen.cells` and the rows of
:mod:`sitegen.cell_rows` (the functions each lists in ``__all__``, not what it imports)."""
_PLAIN_HELPERS = frozenset(
    helper for helper in vars(HELPERS).values() if not hasattr(helper, "jinja_pass_arg")
)


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept beside the build cache: each render process of a rebuild
    would otherwise compile every template again (~0.25 s). Jinja checks each entry against
    the template's source, so an edited theme is compiled afresh."""
    base = user_cache(statcache.CACHE_ENV, "builds")
    if base is None:
        return None
    folder = base / f"templates-jinja{jinja2.__version__}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


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
