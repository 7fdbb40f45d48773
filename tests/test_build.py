"""``sitegen build``: atomic, deterministic, incremental, linked, and safe on bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sitegen
from sitegen.build import BuildOptions, build
from sitegen.cli import main
from sitegen.write import read_build_manifest
from tests.helpers import log_version, small_project
from tests.sitecheck import broken_links, tree_bytes


@pytest.fixture
def store(tmp_path: Path) -> Path:
    small_project(tmp_path / "store", tmp_path)
    return tmp_path / "store"


def test_site_map(store: Path, tmp_path: Path) -> None:
    build(BuildOptions(store, tmp_path / "site"))
    files = set(tree_bytes(tmp_path / "site"))
    for url in [
        "index.html",
        "404.html",
        ".nojekyll",
        "runs/index.html",
        "runs/train1/index.html",
        "artifacts/dataset/grades/index.html",
        "artifacts/dataset/grades/v1/index.html",
        "artifacts/model/grader/v0/index.html",
        "data/search.js",
        "data/artifacts/model/grader/v0.json",
        "assets/site.css",
        "assets/site.js",
    ]:
        assert url in files, url
    assert "sitemap.xml" not in files


def test_every_relative_link_resolves(store: Path, tmp_path: Path) -> None:
    build(BuildOptions(store, tmp_path / "site"))
    assert broken_links(tmp_path / "site") == []


def test_two_builds_are_byte_identical(store: Path, tmp_path: Path) -> None:
    build(BuildOptions(store, tmp_path / "a", jobs=1))
    build(BuildOptions(store, tmp_path / "b", jobs=2))
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")


def test_the_same_store_at_another_path_builds_the_same_site(store: Path, tmp_path: Path) -> None:
    """Where a store lives is no input: a CI checkout and a laptop build identical sites."""
    (store / "artifacts/model/grader/collection.yaml").write_text("description: Grades\n")
    moved = tmp_path / "elsewhere" / "store"
    shutil.copytree(store, moved)
    build(BuildOptions(store, tmp_path / "a"))
    build(BuildOptions(moved, tmp_path / "b"))
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")


def test_source_date_epoch_sets_the_stamp(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build(BuildOptions(store, tmp_path / "site"))
    assert "2023-11-14" in (tmp_path / "site/index.html").read_text()


def test_rebuild_renders_only_what_changed(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = build(BuildOptions(store, out))
    again = build(BuildOptions(store, out))
    assert first.rendered == first.pages and again.rendered == 0
    before = read_build_manifest(out).pages
    log_version(store, "grades", {"grades.csv": "a,b\n9,9\n"}, tmp_path)
    third = build(BuildOptions(store, out))
    assert 0 < third.rendered < third.pages
    after = read_build_manifest(out).pages
    page = "artifacts/dataset/grades/v{}/index.html".format
    assert after[page(0)] == before[page(0)], "two versions back: nothing it shows changed"
    assert after[page(1)] != before[page(1)], "the previous version: latest moved, a next link"
    assert page(2) in after and (out / page(2)).is_file()
    fresh = tmp_path / "fresh"
    build(BuildOptions(store, fresh))
    assert tree_bytes(out) == tree_bytes(fresh)


def test_an_alias_leaving_the_next_version_renders_only_that_version_again(
    store: Path, tmp_path: Path
) -> None:
    """A version's pages show only the number of the next one: the `candidate` alias
    moving from v2 to v3 renders v2's group again (its aliases changed) but not v1's."""
    log_version(store, "grades", {"grades.csv": "a,b\n5,5\n"}, tmp_path, aliases=("candidate",))
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    before = read_build_manifest(out).pages
    log_version(store, "grades", {"grades.csv": "a,b\n6,6\n"}, tmp_path, aliases=("candidate",))
    build(BuildOptions(store, out))
    after = read_build_manifest(out).pages
    group = [
        "artifacts/dataset/grades/v{}/index.html",
        "data/artifacts/dataset/grades/v{}.json",
        "artifacts/dataset/grades/compare/v{}..v{}.html",
    ]
    page, data, pair = group
    assert after[page.format(1)] == before[page.format(1)], "v1 shows v2 only by its number"
    assert after[data.format(1)] == before[data.format(1)]
    assert after[pair.format(0, 1)] == before[pair.format(0, 1)]
    assert after[page.format(2)] != before[page.format(2)], "v2 lost `candidate` to v3"
    fresh = tmp_path / "fresh"
    build(BuildOptions(store, fresh))
    assert tree_bytes(out) == tree_bytes(fresh)


def test_broken_store_fails_and_keeps_the_old_site(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    before = tree_bytes(out)
    manifest = store / "artifacts/dataset/grades/v0/manifest.json"
    manifest.write_text(manifest.read_text().replace('"files": {', '"files": {,'))
    proc = subprocess.run(
        [sys.executable, "-m", "sitegen.cli", "build", str(store), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert f"{manifest}:" in proc.stderr and "invalid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert tree_bytes(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_bad_config_is_located(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sitegen.yaml"
    config.write_text("title: Demo\nmetrics:\n  accuracy: higher\n  loss: sideways\ntitel: x\n")
    assert main(["build", str(store), "-o", str(tmp_path / "site"), "-c", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"{config}:4: metric 'loss'" in err
    assert f"{config}:5: unknown setting 'titel'" in err and "did you mean 'title'" in err
    config.write_text("title: [unclosed\n")
    assert main(["build", str(store), "-o", str(tmp_path / "site"), "-c", str(config)]) == 1
    assert "invalid YAML" in capsys.readouterr().err
    assert not (tmp_path / "site").exists()


def test_refuses_to_replace_a_foreign_directory(store: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "precious.txt").write_text("keep me")
    assert main(["build", str(store), "-o", str(home)]) == 1
    assert (home / "precious.txt").read_text() == "keep me"


def test_strict_fails_on_warnings(store: Path, tmp_path: Path) -> None:
    (store / "artifacts/dataset/grades/collection.yaml").write_text("description: hi\nowner: me\n")
    assert main(["build", str(store), "-o", str(tmp_path / "a")]) == 0
    assert main(["build", str(store), "-o", str(tmp_path / "b"), "--strict"]) == 1


def test_config_title_metrics_and_sitemap(store: Path, tmp_path: Path) -> None:
    config = tmp_path / "sitegen.yaml"
    config.write_text(
        "title: Grading models\nbase_url: https://example.org/repo\nmetrics:\n  loss: lower\n"
    )
    build(BuildOptions(store, tmp_path / "site", config_path=config))
    index = (tmp_path / "site/index.html").read_text()
    assert "Grading models" in index
    sitemap = (tmp_path / "site/sitemap.xml").read_text()
    assert "<loc>https://example.org/repo/artifacts/model/grader/v0/index.html</loc>" in sitemap
    assert main(["verify-site", str(tmp_path / "site")]) == 0  # the seal lists the sitemap


def test_published_files_are_downloadable(store: Path, tmp_path: Path) -> None:
    config = tmp_path / "sitegen.yaml"
    config.write_text("publish_files:\n  max_bytes: 100\n")
    build(BuildOptions(store, tmp_path / "site", config_path=config))
    data = json.loads((tmp_path / "site/data/artifacts/dataset/grades/v0.json").read_text())
    sha = data["files"]["grades.csv"]["sha256"]
    assert (tmp_path / f"site/files/sha256/{sha[:2]}/{sha[2:]}").read_text() == "a,b\n1,2\n"
    assert broken_links(tmp_path / "site") == []
    assert main(["verify-site", str(tmp_path / "site")]) == 0  # and the published files


def test_store_api_still_reads_after_build(store: Path, tmp_path: Path) -> None:
    build(BuildOptions(store, tmp_path / "site"))
    assert sitegen.Store(store).artifact("grader:production").version == 0


def test_the_build_manifest_is_written_as_json_dumps_would(tmp_path: Path) -> None:
    from sitegen.write import manifest_text

    info = {"sitegen": "1.2", "salt": "ab"}
    hostile = {'b/é"<.html': "f:1", "a.html": "x:y", "0.js": "q", "c\x01\u2028\\.x": "r"}
    for pages in ({}, {"a.html": "x:y", "b/é.html": "f:1"}, hostile):
        body = {**info, "pages": dict(sorted(pages.items()))}
        expected = json.dumps(body, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        assert manifest_text(info, pages) == expected


def test_a_store_in_ascii_gives_pages_in_ascii(store: Path, tmp_path: Path) -> None:
    """Templates and cell helpers write symbols as character references (``&rarr;``): a page
    with one non-ASCII character is held in two bytes per character while it is joined and
    then re-encoded, which made rendering ~10 % slower. Only the store's own text is not."""
    build(BuildOptions(store, tmp_path / "site"))
    written = {
        url: data
        for url, data in tree_bytes(tmp_path / "site").items()
        if not url.startswith("assets/") and url.endswith((".html", ".js", ".json"))
    }
    assert any(url.endswith("compare/v0..v1.html") for url in written)
    offenders = {
        url: sorted({ch for ch in data.decode() if ord(ch) > 127})
        for url, data in written.items()
        if not data.isascii() and url != "audit/index.html"  # "alias -> vN" in the event log
    }
    assert offenders == {}


def test_pages_are_written_relative_to_the_open_staging_folder(tmp_path: Path) -> None:
    """``write_at`` makes missing folders, replaces a file's bytes, and returns the stat of
    what it wrote (the identity a rebuild checks pages by)."""
    import os

    from sitegen.write import write_at

    root = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        (tmp_path / "artifacts" / "model").mkdir(parents=True)  # made by another worker
        st = write_at(root, "artifacts/model/m/v1/index.html", b"<p>one</p>")
        write_at(root, "artifacts/model/m/v2/index.html", b"two")
        again = write_at(root, "artifacts/model/m/v1/index.html", b"<p>1</p>")
    finally:
        os.close(root)
    page = tmp_path / "artifacts/model/m/v1/index.html"
    assert page.read_bytes() == b"<p>1</p>"
    assert (tmp_path / "artifacts/model/m/v2/index.html").read_bytes() == b"two"
    on_disk = page.stat()
    assert (again.st_ino, again.st_size, again.st_mtime_ns) == (
        on_disk.st_ino,
        on_disk.st_size,
        on_disk.st_mtime_ns,
    )
    assert st.st_size == len(b"<p>one</p>")
    gone = tmp_path / "gone"
    gone.mkdir()
    root = os.open(gone, os.O_RDONLY | os.O_DIRECTORY)
    try:
        gone.rmdir()
        with pytest.raises(FileNotFoundError):
            write_at(root, "deep/page.html", b"x")
    finally:
        os.close(root)


def test_a_user_without_a_home_folder_builds_without_caches(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No ``$HOME`` and no password entry (some containers): the caches are off, the build
    is the same; ``--offline`` says which setting names its asset cache (no traceback)."""

    def no_home(cls: type[Path]) -> Path:
        raise RuntimeError("Could not determine home directory.")

    for name in ("HOME", "XDG_CACHE_HOME", "SITEGEN_BUILD_CACHE", "SITEGEN_RECORDS_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("SITEGEN_ASSET_CACHE", raising=False)
    monkeypatch.setattr(Path, "home", classmethod(no_home))
    build(BuildOptions(store, tmp_path / "site"))
    build(BuildOptions(store, tmp_path / "site"))  # a rebuild, unmemoized
    monkeypatch.setenv("SITEGEN_BUILD_CACHE", "off")
    build(BuildOptions(store, tmp_path / "again"))
    assert tree_bytes(tmp_path / "site") == tree_bytes(tmp_path / "again")
    assert main(["build", str(store), "-o", str(tmp_path / "offline"), "--offline"]) == 1
    assert "SITEGEN_ASSET_CACHE" in capsys.readouterr().err


def test_each_page_group_names_the_markdown_its_pages_render() -> None:
    """The render stage renders a chunk's markdown in a row before building its pages
    (``markdown.prerender``): a text a group renders without naming it is rendered cold."""
    from sitegen.config import SiteConfig
    from sitegen.markdown import prerender, render_markdown
    from sitegen.model import build_model
    from sitegen.pages import SiteInfo, plan_site

    project = build_model(sitegen.Store(Path("example_project/store")).load(), SiteConfig())
    site = SiteInfo("t", "", "demo", "2024-01-01", "0", False)
    named = 0
    for group in plan_site(site, project, SiteConfig()):
        render_markdown.cache_clear()
        prerender(group.markdown)
        misses = render_markdown.cache_info().misses
        group.pages()
        assert render_markdown.cache_info().misses == misses, group.urls
        named += any(text.strip() for text in group.markdown)
    assert named > 10
