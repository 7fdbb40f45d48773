"""Pinned third-party JS assets with their SRI hashes, the local asset cache and vendoring.

This module is the single source of truth for which third-party files a built site loads:
exact npm package versions, the file inside each package, and the ``sha384`` Subresource
Integrity hash of that file. Pages load them from jsDelivr (``cdn_url``) with
``integrity`` + ``crossorigin="anonymous"``; offline/audit builds copy the same bytes into
the site (``local_path``) from a local cache.

The cache (``<cache>/<package>@<version>/<path>``) is filled either from the CDN
(:func:`fill_cache_from_cdn`) or, where only the npm registry is reachable, from the
tarballs that ``npm pack <package>@<version>`` produces (:func:`fill_cache_from_npm`;
jsDelivr's ``/npm/<package>@<version>/<path>`` serves ``package/<path>`` of that tarball).
Every file is checked against its pinned hash before it is accepted, and again whenever it
is copied into a site.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from sitegen.cachedir import cache_home
from sitegen.errors import Problem, SitegenError

CDN_BASE = "https://cdn.jsdelivr.net/npm"
VENDOR_DIR = "assets/vendor"
CACHE_ENV = "SITEGEN_ASSET_CACHE"

FETCH_HINT = (
    "run `sitegen assets fetch` to fill the asset cache from the CDN, or, without CDN "
    "access, `scripts/npm-assets.sh` then `sitegen assets fetch --from-npm .cache/npm`"
)

# A pinned file is a few hundred KB; refuse to read anything absurdly large from a tarball
# or the network (a corrupt or hostile source must not exhaust memory).
MAX_ASSET_BYTES = 32 * 1024 * 1024

_CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}


@dataclass(frozen=True)
class Asset:
    """One pinned file of one npm package version."""

    key: str
    package: str
    version: str
    path: str  # inside the package, '/'-separated, e.g. "build/vega.min.js"
    sri: str  # "sha384-<base64>"

    @property
    def spec(self) -> str:
        """``package@version``, as given to ``npm pack``."""
        return f"{self.package}@{self.version}"

    @property
    def cdn_url(self) -> str:
        return f"{CDN_BASE}/{self.spec}/{self.path}"

    @property
    def local_path(self) -> str:
        """Site-relative path of the vendored copy (always '/'-separated)."""
        return f"{VENDOR_DIR}/{self.spec}/{self.path}"

    @property
    def cache_relpath(self) -> str:
        """Path of the file inside the asset cache ('/'-separated)."""
        return f"{self.spec}/{self.path}"

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES.get(PurePosixPath(self.path).suffix, "application/octet-stream")

    def cache_path(self, cache: Path) -> Path:
        return cache.joinpath(*self.cache_relpath.split("/"))

    def describe(self) -> str:
        return f"{self.key} ({self.spec}/{self.path})"


def _pins(*assets: Asset) -> Mapping[str, Asset]:
    return MappingProxyType({a.key: a for a in assets})


# The pins. Versions were checked with `npm view` (peerDependencies): vega-embed 7 declares
# vega/vega-lite as `*` peers and is built/tested against vega ^6.4 + vega-lite ^6.4;
# vega-lite 6.5.0 needs vega ^6.4.0. cytoscape-dagre 4.x bundles dagre + graphlib (no
# dependencies, only the cytoscape peer) and registers itself when `window.cytoscape`
# exists, so it must load after cytoscape. The SRI hashes are sha384 of the tarball files.
ASSETS: Mapping[str, Asset] = _pins(
    Asset(
        key="vega",
        package="vega",
        version="6.4.0",
        path="build/vega.min.js",
        sri="sha384-VKdcJr3ZaBIJMbVcopTAI/JEuUkSY6qnwVu9iLuw0DnQ9gQ1JjsfZJhXFQAgNi43",
    ),
    Asset(
        key="vega-lite",
        package="vega-lite",
        version="6.5.0",
        path="build/vega-lite.min.js",
        sri="sha384-pV2l7nzmyxZh02knvUH7N8zvtyCYsYiGt+SsE/emG/dFiBI6G0YJZFZ2FzEX72P3",
    ),
    Asset(
        key="vega-embed",
        package="vega-embed",
        version="7.3.0",
        path="build/vega-embed.min.js",
        sri="sha384-Muy1QRxYFeNrA1zShc1KtN4OfipkR/61gt+HWqN57c1Zxu3Oe16TsilsruVVjfKL",
    ),
    Asset(
        key="cytoscape",
        package="cytoscape",
        version="3.35.0",
        path="dist/cytoscape.min.js",
        sri="sha384-kp3V5E6ICGTVK17un/PMnK9szzrW0dQW+dEyUb3B7dKhimb1EVzqm1wZ/Ulo7BJf",
    ),
    Asset(
        key="cytoscape-dagre",
        package="cytoscape-dagre",
        version="4.0.1",
        path="dist/cytoscape-dagre.min.js",
        sri="sha384-CIu9EFddQ0GplFvevqHZ1sIPo1IRXFvxHd0A6jaJ3m052fy+mDfer/ItnvIS5uY3",
    ),
)

# Script load order matters: each file reads the globals the earlier ones define.
CHART_ASSETS: tuple[str, ...] = ("vega", "vega-lite", "vega-embed")
GRAPH_ASSETS: tuple[str, ...] = ("cytoscape", "cytoscape-dagre")


def sri_of(data: bytes) -> str:
    """The Subresource Integrity value (``sha384-<base64>``) of ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def sri_matches(data: bytes, expected: str) -> bool:
    return hmac.compare_digest(sri_of(data), expected)


def default_cache_dir() -> Path:
    """``$SITEGEN_ASSET_CACHE``, else ``$XDG_CACHE_HOME/sitegen/assets`` (``~/.cache/…``)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = cache_home()
    if base is None:
        raise SitegenError.single(
            CACHE_ENV,
            "no folder for the JS asset cache: this user has no home folder",
            f"set {CACHE_ENV} (or XDG_CACHE_HOME) to a writable folder",
        )
    return base / "sitegen" / "assets"


def npm_specs(assets: Iterable[Asset] | None = None) -> list[str]:
    """Distinct ``package@version`` specs to ``npm pack``, in pin order."""
    specs: dict[str, None] = {}
    for asset in ASSETS.values() if assets is None else assets:
        specs.setdefault(asset.spec, None)
    return list(specs)


def asset_for_url(url: str, assets: Iterable[Asset] | None = None) -> Asset | None:
    """The pinned asset a CDN URL names exactly (query/fragment ignored), if any."""
    bare = url.split("#", 1)[0].split("?", 1)[0]
    for asset in ASSETS.values() if assets is None else assets:
        if asset.cdn_url == bare:
            return asset
    return None


def resolve(keys: Iterable[str]) -> tuple[Asset, ...]:
    """The assets for ``keys`` (duplicates dropped, order kept); unknown keys are errors."""
    problems: list[Problem] = []
    seen: dict[str, Asset] = {}
    for key in keys:
        asset = ASSETS.get(key)
        if asset is None:
            problems.append(
                Problem(
                    "<assets>",
                    None,
                    f"unknown asset {key!r}",
                    hint="known assets: " + ", ".join(sorted(ASSETS)),
                )
            )
        else:
            seen.setdefault(key, asset)
    if problems:
        raise SitegenError(problems)
    return tuple(seen.values())


def _mismatch(asset: Asset, where: str, got: str, hint: str) -> Problem:
    return Problem(
        where,
        None,
        f"asset {asset.describe()} failed its integrity check: expected {asset.sri}, got {got}",
        hint=hint,
    )


def _missing(asset: Asset, where: str, why: str, hint: str) -> Problem:
    return Problem(
        where,
        None,
        f"asset {asset.describe()} {why} (expected {asset.sri})",
        hint=hint,
    )


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_cached(asset: Asset, cache: Path) -> tuple[bytes | None, Problem | None]:
    path = asset.cache_path(cache)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, _missing(asset, str(path), "is not in the asset cache", FETCH_HINT)
    except OSError as exc:
        return None, _missing(asset, str(path), f"cannot be read ({exc})", FETCH_HINT)
    got = sri_of(data)
    if not hmac.compare_digest(got, asset.sri):
        hint = "the cached file is corrupt or was tampered with; delete it and " + FETCH_HINT
        return data, _mismatch(asset, str(path), got, hint)
    return data, None


def cache_problem(asset: Asset, cache: Path) -> Problem | None:
    """Why ``asset`` is not usable from ``cache`` (missing or wrong hash), or None if it is."""
    return _check_cached(asset, cache)[1]


def read_cached(asset: Asset, cache: Path) -> bytes:
    """The verified bytes of ``asset`` from ``cache``; SitegenError if missing or wrong."""
    data, problem = _check_cached(asset, cache)
    if problem is not None:
        raise SitegenError([problem])
    assert data is not None
    return data


# --- filling the cache from `npm pack` tarballs -------------------------------------------


def _tar_package_root(tar: tarfile.TarFile) -> tuple[str, dict[str, object]] | None:
    """The top directory of an npm tarball (normally ``package``) and its package.json."""
    for member in tar.getmembers():
        parts = member.name.removeprefix("./").split("/")
        if len(parts) == 2 and parts[1] == "package.json" and parts[0] not in ("", ".", ".."):
            if not member.isreg() or member.size > MAX_ASSET_BYTES:
                return None
            f = tar.extractfile(member)
            if f is None:
                return None
            try:
                meta = json.loads(f.read())
            except ValueError:
                return None
            if isinstance(meta, dict):
                return parts[0], meta
    return None


def _tar_member_bytes(tar: tarfile.TarFile, name: str) -> bytes | None:
    """Bytes of the regular-file member called exactly ``name`` (never links/devices)."""
    found: tarfile.TarInfo | None = None
    for member in tar.getmembers():
        if member.name.removeprefix("./") == name:
            found = member  # a later duplicate entry wins, as with tar extraction
    if found is None or not found.isreg() or found.size > MAX_ASSET_BYTES:
        return None
    f = tar.extractfile(found)
    return None if f is None else f.read()


def fill_cache_from_npm(
    pack_dir: Path, cache: Path, assets: Iterable[Asset] | None = None
) -> list[Asset]:
    """Fill ``cache`` with the pinned files found in the ``*.tgz`` files of ``pack_dir``.

    Each tarball is identified by its ``package.json`` (name + version), only the pinned
    files are read (by exact member name, regular files only; nothing is extracted by the
    tarball's own paths, so ``..``/absolute/link members can do nothing), and each file must
    match its SRI hash before it is written. Returns the assets written, in pin order;
    raises SitegenError listing every asset that was missing or wrong.
    """
    wanted = list(ASSETS.values() if assets is None else assets)
    by_spec: dict[tuple[str, str], list[Asset]] = {}
    for asset in wanted:
        by_spec.setdefault((asset.package, asset.version), []).append(asset)

    problems: list[Problem] = []
    accepted: dict[str, Asset] = {}
    reported: set[str] = set()
    seen_versions: dict[str, list[str]] = {}
    if not pack_dir.is_dir():
        raise SitegenError.single(
            str(pack_dir),
            "npm pack directory does not exist",
            hint=f"run scripts/npm-assets.sh {pack_dir} (it runs `npm pack` for each pin)",
        )
    tarballs = sorted(pack_dir.glob("*.tgz"))
    for tgz in tarballs:
        try:
            with tarfile.open(tgz, mode="r:gz") as tar:
                root = _tar_package_root(tar)
                if root is None:
                    problems.append(
                        Problem(
                            str(tgz),
                            None,
                            "not an npm package tarball (no readable package.json)",
                            hint="delete it and re-run scripts/npm-assets.sh",
                            severity="warning",
                        )
                    )
                    continue
                top, meta = root
                name, version = str(meta.get("name", "")), str(meta.get("version", ""))
                seen_versions.setdefault(name, []).append(version)
                for asset in by_spec.get((name, version), []):
                    member = f"{top}/{asset.path}"
                    data = _tar_member_bytes(tar, member)
                    where = f"{tgz}!{member}"
                    if data is None:
                        reported.add(asset.key)
                        problems.append(
                            _missing(
                                asset,
                                where,
                                "is not a regular file in the npm tarball",
                                "check the pinned path in sitegen/assets.py against "
                                f"`npm pack {asset.spec}` (tar tzf)",
                            )
                        )
                        continue
                    got = sri_of(data)
                    if not hmac.compare_digest(got, asset.sri):
                        reported.add(asset.key)
                        problems.append(
                            _mismatch(
                                asset,
                                where,
                                got,
                                "the npm tarball and the pin in sitegen/assets.py disagree; "
                                "re-run scripts/npm-assets.sh, or if the pin is wrong fix it "
                                "there (never accept an unexpected hash blindly)",
                            )
                        )
                        continue
                    _write_atomic(asset.cache_path(cache), data)
                    accepted[asset.key] = asset
        except (tarfile.TarError, OSError, EOFError) as exc:
            problems.append(
                Problem(
                    str(tgz),
                    None,
                    f"cannot read npm tarball: {exc}",
                    hint="delete it and re-run scripts/npm-assets.sh",
                )
            )

    for asset in wanted:
        if asset.key in accepted or asset.key in reported:
            continue
        others = sorted(set(seen_versions.get(asset.package, [])))
        found = f"; found {asset.package} {', '.join(others)} instead" if others else ""
        problems.append(
            _missing(
                asset,
                str(pack_dir),
                f"has no npm tarball in the pack directory{found}",
                f"run scripts/npm-assets.sh {pack_dir} (it runs `npm pack {asset.spec}`)",
            )
        )
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise SitegenError(problems)
    return [a for a in wanted if a.key in accepted]


# --- filling the cache from the CDN --------------------------------------------------------

Fetcher = Callable[[str], bytes]


def _urllib_fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "sitegen-assets"})
    with urllib.request.urlopen(request, timeout=60) as response:
        data: bytes = response.read(MAX_ASSET_BYTES + 1)
    if len(data) > MAX_ASSET_BYTES:
        raise OSError(f"response larger than {MAX_ASSET_BYTES} bytes")
    return data


def fill_cache_from_cdn(
    cache: Path,
    assets: Iterable[Asset] | None = None,
    *,
    fetch: Fetcher | None = None,
) -> list[Asset]:
    """Download every pinned asset not already (correctly) cached, checking each SRI hash.

    Returns the assets downloaded; raises SitegenError naming every asset that could not
    be fetched or whose bytes did not match the pin (those bytes are never written).
    """
    get = _urllib_fetch if fetch is None else fetch
    problems: list[Problem] = []
    fetched: list[Asset] = []
    for asset in ASSETS.values() if assets is None else assets:
        if cache_problem(asset, cache) is None:
            continue
        try:
            data = get(asset.cdn_url)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            problems.append(
                _missing(
                    asset,
                    asset.cdn_url,
                    f"could not be downloaded: {exc}",
                    "without CDN access run scripts/npm-assets.sh, then "
                    "`sitegen assets fetch --from-npm .cache/npm`",
                )
            )
            continue
        got = sri_of(data)
        if not hmac.compare_digest(got, asset.sri):
            problems.append(
                _mismatch(
                    asset,
                    asset.cdn_url,
                    got,
                    "the CDN served different bytes than the pin in sitegen/assets.py; "
                    "nothing was written (a proxy rewriting responses? a wrong pin?)",
                )
            )
            continue
        _write_atomic(asset.cache_path(cache), data)
        fetched.append(asset)
    if problems:
        raise SitegenError(problems)
    return fetched


# --- vendoring into a built site -----------------------------------------------------------


def vendor_assets(site_dir: Path, cache: Path, keys: Iterable[str]) -> list[str]:
    """Copy the assets named by ``keys`` from ``cache`` into ``site_dir`` at ``local_path``;
    those paths.

    Each file is checked against its pin again; every missing or wrong asset is reported
    together in one SitegenError and nothing is copied for those.
    """
    problems: list[Problem] = []
    written = []
    for asset in resolve(keys):
        try:
            data = read_cached(asset, cache)
        except SitegenError as exc:
            problems.extend(exc.problems)
            continue
        _write_atomic(site_dir.joinpath(*asset.local_path.split("/")), data)
        written.append(asset.local_path)
    if problems:
        raise SitegenError(problems)
    return written


def cache_status(cache: Path, assets: Iterable[Asset] | None = None) -> list[tuple[Asset, str]]:
    """``(asset, "ok" | "missing" | "MISMATCH")`` for each asset, for listings."""
    status: list[tuple[Asset, str]] = []
    for asset in ASSETS.values() if assets is None else assets:
        data, problem = _check_cached(asset, cache)
        if problem is None:
            status.append((asset, "ok"))
        else:
            status.append((asset, "missing" if data is None else "MISMATCH"))
    return status
