"""Work on the second core: a forked child's value, the store walk and the previous-site
survey must answer exactly what the direct, in-process way answers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from sitegen.background import Background
from sitegen.build import BuildOptions, build
from sitegen.previous import survey
from sitegen.store.backend import LocalBackend
from sitegen.store.listing import ListedBackend, list_store
from tests.helpers import small_project
from tests.sitecheck import tree_bytes


def test_the_value_comes_from_a_child_process() -> None:
    assert Background(os.getpid).result() != os.getpid()


def test_a_failing_child_costs_only_time(tmp_path: Path) -> None:
    """The child raises (or dies): the value is computed in-process instead."""
    flag = tmp_path / "in-child"

    def work() -> int:
        if not flag.exists():
            flag.write_text("x")
            raise RuntimeError("child fails")
        return 7

    assert Background(work).result() == 7


def test_without_fork_the_value_is_computed_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "fork")
    assert Background(os.getpid).result() == os.getpid()


def test_the_value_is_kept_and_a_forked_descendant_makes_its_own() -> None:
    """Asked twice, the same value (not work() again); asked in a process forked after the
    start (a render worker), the child's pipe is left to the owner, who still gets it."""
    import time

    task = Background(lambda: (time.sleep(0.3), os.getpid())[1])
    child = task._pid
    read, write = os.pipe()
    if (pid := os.fork()) == 0:
        os.write(write, str(task.result()).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        in_descendant = int(pipe.read())
    os.waitpid(pid, 0)
    assert in_descendant == pid, "computed in the descendant, not read from the pipe"
    assert task.result() == child and task.result() == child


def test_cancel_stops_the_child_and_reaps_it(tmp_path: Path) -> None:
    import time

    task = Background(lambda: time.sleep(30))
    pid = task._pid
    task.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    small_project(tmp_path / "store", tmp_path / "work")
    return tmp_path / "store"


def _every_key(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if not p.name.startswith(".tmp")
    )


def test_the_walked_store_answers_like_the_directory(store: Path) -> None:
    (store / "artifacts" / ".tmp-half-written").write_text("x")
    version = next((store / "artifacts").glob("*/*/v0"))
    (version / "notes.txt").write_text("a version folder holding more than its manifest")
    (store / "runs" / "link").symlink_to(store / "runs")
    direct, walked = LocalBackend(store), ListedBackend(store)
    for key in ["", *_every_key(store), "missing", "runs/nope/run.json"]:
        assert walked.children(key) == direct.children(key), key
        assert walked.exists(key) == direct.exists(key), key
        if (store / key).is_file():
            assert walked.identity(key) == direct.identity(key), key
    assert "runs/link" not in walked.listing.folders, "links are asked directly, not walked"
    apart = list_store(str(store), skip=("events",)).files
    assert apart and not any(k.startswith("events/") for k in apart), "the log, listed apart"
    assert walked._log.files and all(k.startswith("events/") for k in walked._log.files)
    assert set(walked.listing.files) == set(apart) | set(walked._log.files)
    with pytest.raises(ValueError, match="unsafe"):
        walked.identity("../outside")
    walked.forget_listing()  # the disk answers from then on
    assert not walked.listing.files
    assert walked.children("runs") == direct.children("runs") and walked.exists("runs/link")


def test_the_survey_trusts_only_pages_that_hold_their_recorded_bytes(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITEGEN_BUILD_CACHE", str(tmp_path / "builds"))
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    before = survey(out)
    assert set(before.intact) == set(before.pages) - {"sitegen-build.json"}
    assert set(before.files) >= set(before.pages)
    (out / "index.html").write_text("<p>edited in place</p>")
    (out / "stray.txt").write_text("x")
    after = survey(out)
    assert "index.html" not in after.intact and "stray.txt" in after.files
    assert len(after.intact) == len(before.intact) - 1


def test_the_survey_never_reads_outside_the_output(tmp_path: Path) -> None:
    """A hostile build manifest naming ``../secret`` gets nothing checked outside ``out``."""
    out = tmp_path / "site"
    out.mkdir()
    (tmp_path / "secret").write_text("s")
    entry = "f:" + "0" * 64
    pages = {"../secret": entry, "a.html": entry}
    (out / "sitegen-build.json").write_text(json.dumps({"pages": pages}))
    (out / "a.html").write_text("a")
    found = survey(out)
    assert found.intact == {} and sorted(found.files) == ["a.html", "sitegen-build.json"]


def test_one_job_means_one_process(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-j 1``: neither the store walk, the survey nor the site-wide pages are forked."""
    out = tmp_path / "site"
    build(BuildOptions(store, out, jobs=1))

    def no_fork() -> int:
        raise AssertionError("forked with jobs=1")

    monkeypatch.setattr(os, "fork", no_fork)
    report = build(BuildOptions(store, out, jobs=1))
    assert report.rendered == 0 and report.reused > 0


def test_lineage_keys_made_in_a_child_plan_the_same_site() -> None:
    """The build has the plan's lineage keys made on the second core: same keys, same plan."""
    from functools import partial

    import sitegen
    from sitegen.config import SiteConfig
    from sitegen.model import build_model
    from sitegen.pages import SiteInfo, lineage_facts, lineage_keys, plan_site

    project = build_model(sitegen.Store(Path("example_project/store")).load(), SiteConfig())
    site = SiteInfo("t", "", "demo", "2024-01-01", "0", False)
    facts = lineage_facts(project)
    child = Background(partial(lineage_keys, facts))
    assert child._pid  # really forked
    made_apart = plan_site(site, project, SiteConfig(), keys=child.result, facts=facts)
    made_here = plan_site(site, project, SiteConfig())
    assert [p.urls for p in made_apart] == [p.urls for p in made_here]
    keyed = [(a.key(), b.key()) for a, b in zip(made_apart, made_here, strict=True) if a.key]
    assert len(keyed) > 10 and all(a == b for a, b in keyed)


def test_two_ends_give_every_item_to_exactly_one_side() -> None:
    from sitegen.two_ends import TwoEnds

    ends = TwoEnds(500)
    read, write = os.pipe()
    if (pid := os.fork()) == 0:
        taken = []
        while (index := ends.take_front()) is not None:
            taken.append(index)
        os.write(write, json.dumps(taken).encode())
        os._exit(0)
    os.close(write)
    back = []
    while (index := ends.take_back()) is not None:
        back.append(index)
    with os.fdopen(read) as pipe:
        front = json.loads(pipe.read())
    os.waitpid(pid, 0)
    assert front == list(range(len(front))) and back == list(range(499, len(front) - 1, -1))
    assert sorted(front + back) == list(range(500)) and ends.taken_from_front() == len(front)


def test_the_front_can_leave_a_share_of_what_it_took_to_the_back() -> None:
    """The prewarm helper stops taking while the build can parse what is left in the time
    the helper needs to write what it parsed."""
    from sitegen.two_ends import TwoEnds

    ends = TwoEnds(100)
    front = []
    while (index := ends.take_front(0.25)) is not None:
        front.append(index)
    assert front == list(range(80)), "stops when what is left is a quarter of what it took"
    assert ends.take_back() == 99 and ends.take_front() == 80
    assert TwoEnds(3).take_front(0.25) == 0, "a short list: nothing is left to the back"


def test_site_wide_pages_a_failed_helper_had_taken_are_rendered_by_the_build(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper dies after its first site-wide group: the build renders that group again
    and takes the rest, and the site equals one built from scratch."""
    from sitegen import render_stage
    from tests.helpers import log_version

    out = tmp_path / "site"
    build(BuildOptions(store, out))
    log_version(store, "grades", {"grades.csv": "a,b\n7,7\n"}, tmp_path / "more")
    builder, render = os.getpid(), render_stage._render_groups
    done = tmp_path / "helper-rendered-one"

    def dies_after_one(groups: list[Any]) -> list[Any]:
        if os.getpid() != builder and any(g.site_wide for g in groups):
            if done.exists():
                os._exit(1)
            done.write_text("x")
        return render(groups)

    monkeypatch.setattr(render_stage, "_render_groups", dies_after_one)
    build(BuildOptions(store, out, jobs=2))
    monkeypatch.undo()
    assert done.exists(), "the helper rendered a group before it died"
    build(BuildOptions(store, tmp_path / "fresh"))
    assert tree_bytes(out) == tree_bytes(tmp_path / "fresh")


def test_render_workers_collect_young_cycles_and_rarely_scan_everything(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers render with the collector on (Jinja makes cycles), but with full collections
    far rarer than Python's default: what a worker keeps lives until it exits."""
    import gc

    from sitegen import render_stage

    builder, render = os.getpid(), render_stage._render_groups
    seen = tmp_path / "worker-gc"

    def noting_gc(groups: list[Any]) -> list[Any]:
        if os.getpid() != builder:
            seen.write_text(json.dumps([gc.isenabled(), list(gc.get_threshold())]))
        return render(groups)

    monkeypatch.setattr(render_stage, "PARALLEL_FROM_PAGES", 1)
    monkeypatch.setattr(render_stage, "_render_groups", noting_gc)
    build(BuildOptions(store, tmp_path / "site", jobs=2))
    enabled, thresholds = json.loads(seen.read_text())
    assert enabled and thresholds[0] == gc.get_threshold()[0]
    assert thresholds[2] >= 100 * gc.get_threshold()[2]
