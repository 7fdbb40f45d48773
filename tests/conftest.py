"""Shared pytest fixtures.

Browser tests
-------------
Tests marked ``@pytest.mark.browser`` (everything under ``tests/browser/`` is marked
automatically) use pytest-playwright's ``page``/``context`` fixtures, run in the system
Chromium (``playwright install`` cannot download browsers here), and see a sealed network:

* ``https://cdn.jsdelivr.net/npm/<pkg>@<ver>/<path>`` for a pinned asset is answered from
  the local asset cache (``sitegen assets fetch``), with ``Access-Control-Allow-Origin: *``
  so the page's real ``integrity`` + ``crossorigin`` check runs in the real browser;
* ``file:``, ``data:``, ``blob:`` and ``http(s)://127.0.0.1|localhost|[::1]`` go through;
* everything else is aborted at once (recorded in ``network_log.blocked``).

Without Chromium or a filled asset cache, browser tests are skipped with the reason --
except when ``CI`` is set, where that is a failure (CI must not go green by skipping).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import pytest

from sitegen import assets

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Route

BROWSER_TESTS_DIR = Path(__file__).parent / "browser"

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

LOCAL_SCHEMES = frozenset({"file", "data", "blob", "about"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> NoReturn:
    """Skip locally; fail in CI, where a missing browser or cache is a broken setup."""
    if _in_ci():
        pytest.fail(f"{reason} (CI is set, so this is an error rather than a skip)")
    pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_TESTS_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)


# --- asset cache ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def asset_cache() -> Path:
    """The asset cache: ``$SITEGEN_ASSET_CACHE`` or ``~/.cache/sitegen/assets``."""
    return assets.default_cache_dir()


@pytest.fixture(scope="session")
def cdn_responses(asset_cache: Path) -> Mapping[str, tuple[assets.Asset, bytes]]:
    """CDN URL -> (asset, verified bytes) for every pinned asset; skips if any is missing."""
    bad = [(a, state) for a, state in assets.cache_status(asset_cache) if state != "ok"]
    if bad:
        listed = ", ".join(f"{a.key} {state}" for a, state in bad)
        _unavailable(
            f"asset cache {asset_cache} is incomplete ({listed}); run scripts/npm-assets.sh "
            "then `sitegen assets fetch --from-npm .cache/npm`"
        )
    return {a.cdn_url: (a, assets.read_cached(a, asset_cache)) for a in assets.ASSETS.values()}


# --- Chromium ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _unavailable("chromium is not installed (apt-get install -y chromium)")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], chromium_executable: str
) -> dict[str, Any]:
    """pytest-playwright's launch args, pointed at the system Chromium."""
    args = [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS]
    return {**browser_type_launch_args, "executable_path": chromium_executable, "args": args}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # A service worker could answer requests without passing through context.route().
    return {**browser_context_args, "service_workers": "block"}


# --- sealed network ---------------------------------------------------------------------


@dataclass
class NetworkLog:
    """What the sealed network did, per test: CDN assets served, requests blocked."""

    served: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def is_local_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname in LOCAL_HOSTS


def seal_network(
    context: BrowserContext,
    responses: Mapping[str, tuple[assets.Asset, bytes]],
    log: NetworkLog,
) -> None:
    """Route every request of ``context``: pinned CDN assets from the cache, local
    requests through, the rest aborted."""

    def handle(route: Route) -> None:
        url = route.request.url
        asset = assets.asset_for_url(url)
        if asset is not None:
            log.served.append(url)
            route.fulfill(
                status=200,
                body=responses[asset.cdn_url][1],
                headers={
                    "Content-Type": asset.content_type,
                    # jsDelivr sends this too; without it a crossorigin="anonymous" script
                    # fails CORS (and so SRI) -- from file:// pages the origin is "null".
                    "Access-Control-Allow-Origin": "*",
                    "Cache-Control": "public, max-age=31536000, immutable",
                },
            )
        elif is_local_url(url):
            log.passed.append(url)
            route.continue_()
        else:
            log.blocked.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", handle)


@pytest.fixture
def network_log() -> NetworkLog:
    return NetworkLog()


@pytest.fixture
def new_context(
    new_context: Callable[..., BrowserContext],
    cdn_responses: Mapping[str, tuple[assets.Asset, bytes]],
    network_log: NetworkLog,
) -> Callable[..., BrowserContext]:
    """pytest-playwright's context factory (and so ``context``/``page``), network sealed."""

    def create(**kwargs: Any) -> BrowserContext:
        context = new_context(**kwargs)
        seal_network(context, cdn_responses, network_log)
        return context

    return create


# --- errors seen in the page ------------------------------------------------------------


@dataclass
class BrowserErrors:
    """Console errors and uncaught exceptions of one page."""

    console: list[str] = field(default_factory=list)
    uncaught: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return [*self.console, *self.uncaught]

    def assert_none(self) -> None:
        assert not self.all(), "errors in the page:\n" + "\n".join(self.all())


def watch_errors(page: Page) -> BrowserErrors:
    errors = BrowserErrors()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.console.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.uncaught.append(f"{exc.name}: {exc.message}"))
    return errors


@pytest.fixture
def browser_errors(page: Page) -> BrowserErrors:
    """Errors of the ``page`` fixture, collected from before the first navigation."""
    return watch_errors(page)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden", action="store_true", help="rewrite tests/golden from the current build"
    )


@pytest.fixture(autouse=True, scope="session")
def _caches_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Builds keep page identities and parsed records outside the site: not in ~/.cache."""
    os.environ.setdefault("SITEGEN_BUILD_CACHE", str(tmp_path_factory.mktemp("build-cache")))
    os.environ.setdefault("SITEGEN_RECORDS_CACHE", str(tmp_path_factory.mktemp("records-cache")))
