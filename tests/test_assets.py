"""Pinned assets: SRI, filling the cache from npm tarballs / the CDN, vendoring, the CLI."""

from __future__ import annotations

import argparse
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from sitegen import assets
from sitegen.assets import Asset
from sitegen.commands import assets as assets_command
from sitegen.errors import SitegenError

REPO = Path(__file__).resolve().parent.parent

DEMO_JS = b"window.demo = 42;\n"
DEMO = Asset("demo", "demo-pkg", "1.2.3", "dist/demo.min.js", assets.sri_of(DEMO_JS))


def make_tgz(
    path: Path,
    files: dict[str, bytes],
    *,
    name: str = "demo-pkg",
    version: str = "1.2.3",
    extra: list[tarfile.TarInfo] | None = None,
) -> Path:
    """An npm-pack-shaped tarball: package/package.json plus ``files`` (member names)."""
    meta = json.dumps({"name": name, "version": version}).encode()
    with tarfile.open(path, "w:gz") as tar:
        for member, data in {"package/package.json": meta, **files}.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info)
    return path


def messages(exc: pytest.ExceptionInfo[SitegenError]) -> str:
    return "\n".join(str(p) for p in exc.value.problems)


# --- SRI and the pins -------------------------------------------------------------------


def test_sri_of_matches_the_spec_example() -> None:
    # The example from the W3C Subresource Integrity spec.
    assert (
        assets.sri_of(b"alert('Hello, world.');")
        == "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO"
    )
    assert assets.sri_of(b"").startswith("sha384-")


def test_pins_are_consistent() -> None:
    assert set(assets.ASSETS) == {"vega", "vega-lite", "vega-embed", "cytoscape", "cytoscape-dagre"}
    assert assets.CHART_ASSETS == ("vega", "vega-lite", "vega-embed")
    assert assets.GRAPH_ASSETS == ("cytoscape", "cytoscape-dagre")
    for key, asset in assets.ASSETS.items():
        assert asset.key == key
        assert asset.sri.startswith("sha384-") and len(asset.sri) == 7 + 64
        assert asset.cdn_url == (
            f"https://cdn.jsdelivr.net/npm/{asset.package}@{asset.version}/{asset.path}"
        )
        assert asset.local_path == f"assets/vendor/{asset.package}@{asset.version}/{asset.path}"
        assert ".." not in asset.path.split("/") and not asset.path.startswith("/")
        assert asset.content_type.startswith("text/javascript")
    assert assets.npm_specs() == [
        "vega@6.4.0",
        "vega-lite@6.5.0",
        "vega-embed@7.3.0",
        "cytoscape@3.35.0",
        "cytoscape-dagre@4.0.1",
    ]


def test_asset_for_url() -> None:
    vega = assets.ASSETS["vega"]
    assert assets.asset_for_url(vega.cdn_url) == vega
    assert assets.asset_for_url(vega.cdn_url + "?v=1#x") == vega
    assert assets.asset_for_url("https://cdn.jsdelivr.net/npm/vega@6.3.0/build/vega.min.js") is None
    assert assets.asset_for_url("https://example.com/vega.min.js") is None


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SITEGEN_ASSET_CACHE", str(tmp_path / "c"))
    assert assets.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("SITEGEN_ASSET_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert assets.default_cache_dir() == tmp_path / ".cache" / "sitegen" / "assets"


# --- fill from npm tarballs -------------------------------------------------------------


def test_fill_from_npm_accepts_matching_file(tmp_path: Path) -> None:
    packs = tmp_path / "npm"
    packs.mkdir()
    make_tgz(packs / "demo-pkg-1.2.3.tgz", {"package/dist/demo.min.js": DEMO_JS})
    cache = tmp_path / "cache"
    assert assets.fill_cache_from_npm(packs, cache, [DEMO]) == [DEMO]
    assert (cache / "demo-pkg@1.2.3" / "dist" / "demo.min.js").read_bytes() == DEMO_JS
    assert assets.cache_status(cache, [DEMO]) == [(DEMO, "ok")]


def test_fill_from_npm_rejects_wrong_hash_naming_asset(tmp_path: Path) -> None:
    packs = tmp_path / "npm"
    packs.mkdir()
    evil = b"window.demo = 'evil';\n"
    make_tgz(packs / "demo-pkg-1.2.3.tgz", {"package/dist/demo.min.js": evil})
    cache = tmp_path / "cache"
    with pytest.raises(SitegenError) as exc:
        assets.fill_cache_from_npm(packs, cache, [DEMO])
    text = messages(exc)
    assert "demo (demo-pkg@1.2.3/dist/demo.min.js)" in text
    assert f"expected {DEMO.sri}" in text
    assert f"got {assets.sri_of(evil)}" in text
    assert all(p.hint for p in exc.value.problems)
    assert not DEMO.cache_path(cache).exists()


def test_fill_from_npm_ignores_path_traversal_members(tmp_path: Path) -> None:
    packs = tmp_path / "npm"
    packs.mkdir()
    link = tarfile.TarInfo("package/dist/demo.min.js")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    make_tgz(
        packs / "demo-pkg-1.2.3.tgz",
        {
            "package/../../escaped.js": b"bad",
            "/tmp/absolute-escape.js": b"bad",
            "../sibling.js": b"bad",
        },
        extra=[link],  # the pinned name, but a symlink: never followed
    )
    cache = tmp_path / "cache"
    with pytest.raises(SitegenError) as exc:
        assets.fill_cache_from_npm(packs, cache, [DEMO])
    assert "is not a regular file in the npm tarball" in messages(exc)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".js"]
    assert written == []
    assert not Path("/tmp/absolute-escape.js").exists()

    # With the real file present as well, only that file is taken.
    make_tgz(
        packs / "demo-pkg-1.2.3.tgz",
        {"package/../../escaped.js": b"bad", "package/dist/demo.min.js": DEMO_JS},
    )
    assert assets.fill_cache_from_npm(packs, cache, [DEMO]) == [DEMO]
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.js"))
    assert files == [Path("cache/demo-pkg@1.2.3/dist/demo.min.js")]


def test_fill_from_npm_reports_missing_and_other_versions(tmp_path: Path) -> None:
    packs = tmp_path / "npm"
    packs.mkdir()
    make_tgz(packs / "demo-pkg-1.0.0.tgz", {"package/dist/demo.min.js": DEMO_JS}, version="1.0.0")
    (packs / "garbage.tgz").write_bytes(b"not a tarball")
    with pytest.raises(SitegenError) as exc:
        assets.fill_cache_from_npm(packs, tmp_path / "cache", [DEMO])
    text = messages(exc)
    assert "demo (demo-pkg@1.2.3/dist/demo.min.js) has no npm tarball" in text
    assert "found demo-pkg 1.0.0 instead" in text
    assert "garbage.tgz" in text
    assert "npm-assets.sh" in text

    with pytest.raises(SitegenError) as exc:
        assets.fill_cache_from_npm(tmp_path / "nope", tmp_path / "cache", [DEMO])
    assert "does not exist" in messages(exc)


def real_pack_dir() -> Path:
    packs = Path(os.environ.get("SITEGEN_NPM_PACKS", REPO / ".cache" / "npm"))
    names = [f"{s.rsplit('@', 1)[0]}-{s.rsplit('@', 1)[1]}.tgz" for s in assets.npm_specs()]
    if not all((packs / n).is_file() for n in names):
        pytest.skip(f"npm tarballs not in {packs}; run scripts/npm-assets.sh")
    return packs


def test_fill_from_real_npm_tarballs(tmp_path: Path) -> None:
    packs = real_pack_dir()
    cache = tmp_path / "cache"
    filled = assets.fill_cache_from_npm(packs, cache)
    assert [a.key for a in filled] == list(assets.ASSETS)
    for asset in assets.ASSETS.values():
        assert assets.sri_of(asset.cache_path(cache).read_bytes()) == asset.sri


# --- fill from the CDN (fetch injected: no network in tests) ---------------------------


def test_fill_from_cdn_checks_hash_and_skips_cached(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    urls: list[str] = []

    def fetch(url: str) -> bytes:
        urls.append(url)
        return DEMO_JS

    assert assets.fill_cache_from_cdn(cache, [DEMO], fetch=fetch) == [DEMO]
    assert urls == [DEMO.cdn_url]
    assert assets.fill_cache_from_cdn(cache, [DEMO], fetch=fetch) == []
    assert urls == [DEMO.cdn_url]  # already cached and valid: not fetched again


def test_fill_from_cdn_rejects_wrong_bytes(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(SitegenError) as exc:
        assets.fill_cache_from_cdn(cache, [DEMO], fetch=lambda url: b"tampered")
    text = messages(exc)
    assert DEMO.cdn_url in text and DEMO.sri in text and assets.sri_of(b"tampered") in text
    assert not DEMO.cache_path(cache).exists()

    def offline(url: str) -> bytes:
        raise OSError("network unreachable")

    with pytest.raises(SitegenError) as exc:
        assets.fill_cache_from_cdn(cache, [DEMO], fetch=offline)
    assert "--from-npm" in messages(exc)


# --- vendoring into a site --------------------------------------------------------------


def fill_fake_cache(cache: Path, data: dict[str, bytes] | None = None) -> None:
    """A cache whose files carry the real pins' names; content only for the given keys."""
    for key, content in (data or {}).items():
        target = assets.ASSETS[key].cache_path(cache)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def test_vendor_copies_verified_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache, site = tmp_path / "cache", tmp_path / "site"
    fake = {k: f"/* {k} */".encode() for k in assets.CHART_ASSETS}
    pinned = {
        k: Asset(a.key, a.package, a.version, a.path, assets.sri_of(fake.get(k, b"")))
        for k, a in assets.ASSETS.items()
    }
    monkeypatch.setattr(assets, "ASSETS", pinned)
    fill_fake_cache(cache, fake)
    assets.vendor_assets(site, cache, assets.CHART_ASSETS)
    for key in assets.CHART_ASSETS:
        assert (site / pinned[key].local_path).read_bytes() == fake[key]
    assert not (site / pinned["cytoscape"].local_path).exists()


def test_vendor_missing_asset_names_it_with_hint(tmp_path: Path) -> None:
    with pytest.raises(SitegenError) as exc:
        assets.vendor_assets(tmp_path / "site", tmp_path / "empty", ["cytoscape"])
    cyto = assets.ASSETS["cytoscape"]
    text = messages(exc)
    assert "cytoscape (cytoscape@3.35.0/dist/cytoscape.min.js)" in text
    assert cyto.sri in text
    assert "sitegen assets fetch" in text
    assert not (tmp_path / "site").exists()


def test_vendor_rejects_tampered_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fill_fake_cache(cache, {"vega": b"tampered"})
    with pytest.raises(SitegenError) as exc:
        assets.vendor_assets(tmp_path / "site", cache, ["vega"])
    text = messages(exc)
    assert assets.ASSETS["vega"].sri in text and assets.sri_of(b"tampered") in text
    assert not (tmp_path / "site" / assets.ASSETS["vega"].local_path).exists()


def test_vendor_unknown_key(tmp_path: Path) -> None:
    with pytest.raises(SitegenError) as exc:
        assets.vendor_assets(tmp_path / "site", tmp_path, ["jquery"])
    assert "unknown asset 'jquery'" in messages(exc)


# --- CLI --------------------------------------------------------------------------------


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sitegen")
    assets_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_cli_list_and_fetch_from_npm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = tmp_path / "cache"
    assert cli(["assets", "list", "--cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "missing" in out and assets.ASSETS["vega"].sri in out

    with pytest.raises(SitegenError) as exc:
        cli(["assets", "fetch", "--from-npm", str(tmp_path / "none"), "--cache", str(cache)])
    assert "npm-assets.sh" in messages(exc)
    packs = real_pack_dir()
    assert cli(["assets", "fetch", "--from-npm", str(packs), "--cache", str(cache)]) == 0
    assert "5 verified" in capsys.readouterr().out
    assert cli(["assets", "list", "--cache", str(cache)]) == 0
    assert "missing" not in capsys.readouterr().out


def test_cli_requires_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli(["assets"])
    assert exc.value.code == 2
