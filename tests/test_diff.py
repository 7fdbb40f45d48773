"""``sitegen diff``: the PR-review report between two stores (markdown parsed, not snapshotted)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

import sitegen
from sitegen import diff
from sitegen.cli import main
from sitegen.diff_format import GITHUB_COMMENT_LIMIT
from sitegen.store.events import Event, head_of, list_event_seqs
from sitegen.store.format import canonical_json, content_digest, event_key, manifest_key, run_key
from sitegen.store.format import sha256_hex as sha
from tests.helpers import make_files

CLOCK = sitegen.FixedClock("2024-03-01T00:00:00Z")
SITE = "https://org.github.io/my-repo/"


def _run(store: Path, work: Path, run_id: str, **kw: Any) -> None:
    """One run: uses ``uses``, logs ``summary`` and the artifacts in ``logs``."""
    with sitegen.init(
        store=store, project="demo", job_type=kw.get("job", "train"), id=run_id,
        config=kw.get("config", {}), clock=CLOCK, user="u", host="h", git={},
    ) as run:  # fmt: skip
        for ref in kw.get("uses", ()):
            run.use_artifact(ref)
        if "summary" in kw:
            run.log(kw["summary"])
        for name, type_, files in kw.get("logs", ()):
            art = sitegen.Artifact(name, type=type_)
            art.add_dir(make_files(work / f"{run_id}-{name}", files))
            run.log_artifact(art, aliases=list(kw.get("aliases", ())))


def make_base(store: Path, work: Path) -> None:
    """grades v0 → train1 → grader v0 (production) ; train2 → grader v1."""
    _run(store, work, "prep0", job="prep", logs=[("grades", "dataset", {"grades.csv": "a\n1\n"})])
    _run(
        store, work, "train1", config={"lr": 0.1, "epochs": 3}, uses=["grades:v0"],
        summary={"accuracy": 0.9, "loss": 0.3, "latency_ms": 100.0, "f1": 0.7},
        logs=[("grader", "model", {"weights.bin": "w1", "README.md": "r"})], aliases=["production"],
    )  # fmt: skip
    _run(
        store, work, "train2", config={"lr": 0.1, "epochs": 4}, uses=["grades:v0"],
        summary={"accuracy": 0.92, "loss": 0.28, "latency_ms": 101.0, "f1": 0.71},
        logs=[("grader", "model", {"weights.bin": "w2", "README.md": "r"})],
    )  # fmt: skip


def add_head_changes(store: Path, work: Path) -> None:
    """New dataset version, a regressing grader v2 that takes 'production', a new collection."""
    _run(
        store, work, "prep1", job="prep", uses=["grades:v0"],
        logs=[("grades", "dataset", {"grades.csv": "a\n1\n2\n"})],
    )  # fmt: skip
    _run(
        store, work, "train3", config={"lr": 0.2, "epochs": 4, "dropout": 0.1},
        uses=["grades:v1"], summary={"accuracy": 0.85, "loss": 0.4, "latency_ms": 120.0, "f1": 0.75},
        logs=[("grader", "model", {"weights.bin": "w3 bigger", "README.md": "r", "extra.json": "{}"})],
        aliases=["production"],
    )  # fmt: skip
    _run(
        store, work, "tiny1", config={"lr": 0.5}, uses=["grades:v1"], summary={"accuracy": 0.6},
        logs=[("tiny", "model", {"t.bin": "t"})],
    )  # fmt: skip


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("diff")
    base, head = root / "base", root / "head"
    make_base(base, root / "work")
    shutil.copytree(base, head)
    add_head_changes(head, root / "work")
    return base, head


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- parsing the markdown ----------------------------------------------------------------------


def sections(md: str) -> dict[str, str]:
    """'### Title (n)' → body, by title without the count."""
    parts = re.split(r"^### (.+)$", md, flags=re.M)
    return {
        re.sub(r" \(\d[\d,]*\)$", "", t): b for t, b in zip(parts[1::2], parts[2::2], strict=True)
    }


def version_blocks(md: str) -> dict[str, str]:
    """'#### …`type/name:vN`…' → block text, keyed by the ref."""
    parts = re.split(r"^#### (.+)$", md, flags=re.M)
    out = {}
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        ref = re.search(r"`([^`]+:v\d+)`", title)
        assert ref, title
        out[ref.group(1)] = title + "\n" + body.split("\n### ")[0]
    return out


def table_rows(text: str, first_header: str) -> dict[str, list[str]]:
    """Rows of the markdown table whose first header cell is ``first_header``, by first cell."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        rows[cells[0]] = cells
    return rows


# --- the report --------------------------------------------------------------------------------


def test_markdown_has_each_change_with_deltas_and_marks(
    stores: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, head = stores
    code, md, _ = run_cli(capsys, str(base), str(head), "--format", "md")
    assert code == 0
    assert md.startswith(f"## sitegen diff: `{base}` → `{head}`")
    found = sections(md)
    assert set(found) >= {"New collections", "Alias changes", "New versions", "New runs"}
    assert (
        "`model/tiny`" in found["New collections"]
        and "`model/grader`" not in found["New collections"]
    )
    aliases = table_rows(found["Alias changes"], "collection")
    assert aliases["`model/grader`"][1:] == ["`production`", "`v0` → `v2`"]
    blocks = version_blocks(md)
    assert set(blocks) == {"dataset/grades:v1", "model/grader:v2", "model/tiny:v0"}

    grader = blocks["model/grader:v2"]
    assert "baseline `model/grader:v0` (alias production)" in grader
    metrics = table_rows(grader, "metric")
    # name, baseline, new, Δ, Δ%, mark -- direction-aware: loss/latency up is worse
    assert metrics["accuracy ↑"][1:5] == ["0.9", "0.85", "-0.05", "-5.56%"]
    assert metrics["accuracy ↑"][5] == "▼ worse"
    assert metrics["f1 ↑"][3:] == ["+0.05", "+7.14%", "▲ better"]
    assert metrics["loss ↓"][3:] == ["+0.1", "+33.33%", "▼ worse"]
    assert metrics["latency_ms ↓"][1:] == ["100", "120", "+20", "+20.00%", "▼ worse"]
    config = table_rows(grader, "key")
    assert config["lr"][1:] == ["`0.1`", "`0.2`"]
    assert config["dropout"][1:] == ["—", "`0.1` (added)"]
    assert config["epochs"][1:] == ["`3`", "`4`"]  # against the baseline's run (train1)
    assert "- added `extra.json` (2 B)" in grader
    assert "- modified `weights.bin` (2 B → 9 B)" in grader
    assert "1 unchanged" in grader

    assert "baseline `dataset/grades:v0` (previous version)" in blocks["dataset/grades:v1"]
    tiny = blocks["model/tiny:v0"]
    assert "first version: no baseline" in tiny
    assert table_rows(tiny, "metric")["accuracy ↑"][1:] == ["—", "0.6", "—", "—", "+ new"]
    assert "3 ▼ worse, 1 ▲ better" in md


def test_lineage_edges_as_mermaid(
    stores: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, head = stores
    _, md, _ = run_cli(capsys, str(base), str(head), "--format", "md")
    lineage = sections(md)["New lineage edges"]
    block = re.search(r"```mermaid\n(.*?)\n```", lineage, flags=re.S)
    assert block is not None
    drawing = block.group(1)
    assert drawing.startswith("flowchart LR")
    ids = dict(re.findall(r'^  (n\d+)\(?\["?([^"\]]+)', drawing, flags=re.M))
    edges = {(ids[a], ids[b]) for a, b in re.findall(r"^  (n\d+) --> (n\d+)$", drawing, flags=re.M)}
    assert ("train3", "grader:v2 (production)") in edges
    assert ("grades:v1", "train3") in edges
    assert not any("grader:v0" in a or "grader:v0" in b for a, b in edges)  # not new
    assert "- `run train3` → `model/grader:v2`" in lineage


def test_baseline_alias_missing_falls_back_to_previous_version(
    stores: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, head = stores
    _, md, _ = run_cli(
        capsys, str(base), str(head), "--format", "md", "--baseline-alias", "staging"
    )
    grader = version_blocks(md)["model/grader:v2"]
    assert "baseline `model/grader:v1` (previous version)" in grader
    assert table_rows(grader, "metric")["accuracy ↑"][1:4] == ["0.92", "0.85", "-0.07"]


def test_site_url_links_every_item(
    stores: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, head = stores
    _, md, _ = run_cli(capsys, str(base), str(head), "--format", "md", "--site-url", SITE)
    links = set(re.findall(r"\]\((https://[^)]+)\)", md))
    for page in (
        "artifacts/model/tiny/index.html",
        "artifacts/model/grader/v2/index.html",
        "artifacts/model/grader/v0/index.html",
        "runs/train3/index.html",
        "artifacts/dataset/grades/compare/v0..v1.html",  # adjacent: the pre-rendered pair
        "artifacts/model/grader/compare.html#v=0,2",  # alias baseline: the any-N page
    ):
        assert SITE + page in links
    assert not any("//" in link.removeprefix("https://") for link in links)
    blocks = version_blocks(md)
    assert blocks["model/grader:v2"].startswith(
        f"[`model/grader:v2`]({SITE}artifacts/model/grader/v2/index.html)"
    )


def test_site_url_must_be_http(
    stores: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, head = stores
    code, _, err = run_cli(capsys, str(base), str(head), "--site-url", "javascript:alert(1)")
    assert code == 2 and "--site-url" in err


def test_site_links_match_the_site_layout() -> None:
    from sitegen.pages.common import collection_url, run_url, version_url
    from sitegen.pages.compare import any_url, pair_url

    assert diff.collection_page("model/a") == collection_url("model/a")
    assert diff.version_page("model/a", 3) == version_url("model/a", 3)
    assert diff.run_page("r1") == run_url("r1")
    assert diff.pair_page("model/a", 2, 3) == pair_url("model/a", 2, 3)
    assert diff.any_compare_page("model/a", (1, 3)).startswith(any_url("model/a") + "#v=1,3")


def test_json_format_is_stable_and_complete(
    stores: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, head = stores
    code, out, _ = run_cli(
        capsys, str(base), str(head), "--format", "json", "--fail-on", "accuracy < -0.01"
    )
    assert code == 3
    report = json.loads(out)
    assert report["format"] == 1
    assert set(report) == {
        "format", "base", "head", "baseline_alias", "site_url", "summary", "new_collections",
        "new_versions", "alias_moves", "new_runs", "lineage", "conflicts", "missing_versions",
        "gates",
    }  # fmt: skip
    summary = report["summary"]
    assert summary["new_versions"] == 3 and summary["new_collections"] == 1
    assert summary["alias_moves"] == 1 and summary["changed"] and summary["tripped"]
    assert report["alias_moves"] == [
        {"collection": "model/grader", "alias": "production", "action": "moved", "from": 0,
         "to": 2, "from_url": None, "to_url": None}
    ]  # fmt: skip
    grader = next(v for v in report["new_versions"] if v["ref"] == "model/grader:v2")
    assert grader["baseline"]["ref"] == "model/grader:v0"
    assert grader["baseline"]["reason"] == "alias production"
    accuracy = next(m for m in grader["metrics"] if m["name"] == "accuracy")
    assert accuracy == {
        "name": "accuracy", "direction": "higher", "base": 0.9, "head": 0.85, "abs": -0.05,
        "pct": pytest.approx(-5.555556), "mark": "worse", "gates": ["accuracy < -0.01"],
    }  # fmt: skip
    assert {f["path"] for f in grader["files"]["added"]} == {"extra.json"}
    assert report["gates"][0]["tripped"] == [
        {
            "ref": "model/grader:v2",
            "metric": "accuracy",
            "abs": -0.05,
            "pct": pytest.approx(-5.555556),
        }
    ]
    assert "flowchart LR" in report["lineage"]["mermaid"]


def test_text_format(stores: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    base, head = stores
    code, out, _ = run_cli(capsys, str(base), str(head))
    assert code == 0
    assert "model/grader:v2 (production)" in out and "|" not in out and "```" not in out
    assert re.search(r"accuracy ↑\s+0\.9\s+0\.85\s+-0\.05\s+-5\.56%\s+▼ worse", out)


def test_no_changes_is_one_line(
    stores: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = stores
    for fmt in ("md", "text"):
        code, out, _ = run_cli(
            capsys, str(base), str(base), "--format", fmt, "--fail-on", "accuracy < 0"
        )
        assert (code, out) == (0, "No changes.\n")
    _, out, _ = run_cli(capsys, str(base), str(base), "--format", "json")
    assert json.loads(out)["summary"]["changed"] is False


def test_not_a_store_is_exit_1(
    tmp_path: Path, stores: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, str(tmp_path), str(stores[1]))
    assert code == 1 and "not a sitegen store" in err


# --- git:REV:PATH --------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repo: commit 1 holds the base store, commit 2 adds the head changes."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    make_base(root / "ml" / "store", tmp_path / "work")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    add_head_changes(root / "ml" / "store", tmp_path / "work")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "head")
    return root


def test_git_rev_path_sources(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    (repo / "ml" / "store" / "untracked.txt").write_text("x")  # the working tree is not touched
    status = git(repo, "status", "--porcelain")
    code, md, _ = run_cli(capsys, "git:HEAD~1:ml/store", "ml/store", "--format", "md")
    assert code == 0
    assert set(version_blocks(md)) == {"dataset/grades:v1", "model/grader:v2", "model/tiny:v0"}
    assert "`git:HEAD~1:ml/store` → `ml/store`" in md
    _, both, _ = run_cli(capsys, "git:HEAD~1:ml/store", "git:main:ml/store", "--format", "md")
    assert version_blocks(both).keys() == version_blocks(md).keys()
    assert git(repo, "status", "--porcelain") == status
    monkeypatch.chdir(repo / "ml")  # PATH is relative to the current directory
    _, sub, _ = run_cli(capsys, "git:HEAD~1:store", "git:HEAD:./store/", "--format", "md")
    assert version_blocks(sub).keys() == version_blocks(md).keys()
    _, same, _ = run_cli(capsys, "git:HEAD:store", "store")
    assert same == "No changes.\n"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("git:no-such-branch:ml/store", "unknown git revision 'no-such-branch'"),
        ("git:HEAD:nowhere", "'nowhere' does not exist at HEAD"),
        ("git:HEAD:ml", "is not a sitegen store"),
        ("git:HEAD", "the store path is missing"),
    ],
)
def test_git_source_errors(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    source: str,
    message: str,
) -> None:
    monkeypatch.chdir(repo)
    code, _, err = run_cli(capsys, source, "ml/store")
    assert code == 1
    assert message in err and "hint:" in err and "Traceback" not in err


def test_git_outside_a_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, _, err = run_cli(capsys, "git:HEAD:store", "store")
    assert code == 1 and "not inside a git repository" in err


# --- size limit ----------------------------------------------------------------------------------


def add_many_versions(store: Path, count: int, collections: int = 40) -> None:
    """``count`` new model versions with runs, written with the format helpers (fast: no fsync)."""
    seq, prev = head_of(sitegen.Store(store).backend, list_event_seqs(sitegen.Store(store).backend))
    for i in range(count):
        name, number = f"bulk-{i % collections:02d}", i // collections
        run_id = f"bulk{i}"
        files = {"weights.bin": {"sha256": sha(f"w{i}".encode()), "size": 10 + i % 7}}
        body = canonical_json(
            {"format": 1, "type": "model", "name": name, "version": number, "run": run_id,
             "created_at": "2024-04-01T00:00:00.000Z", "description": "", "metadata": {},
             "files": files, "digest": content_digest(files)}
        )  # fmt: skip
        _write(store / manifest_key("model", name, number), body)
        record = {"id": run_id, "name": run_id, "status": "finished", "config": {"lr": i / 1000},
                  "summary": {"accuracy": accuracy(i), "loss": 1 - (i % 89) / 1000},
                  "outputs": [f"model/{name}:v{number}"], "inputs": ["dataset/grades:v0"]}  # fmt: skip
        _write(store / run_key(run_id), canonical_json(record))
        data = {"collection": f"model/{name}", "version": number, "digest": content_digest(files),
                "manifest_sha256": sha(body), "run": run_id}  # fmt: skip
        event = canonical_json(
            Event(seq, prev, "2024-04-01T00:00:00.000Z", "version.created", {}, data).body()
        )
        _write(store / event_key(seq), event)
        seq, prev = seq + 1, sha(event)


def accuracy(i: int) -> float:
    """Small noise, and a drop of 0.4 every 997th version (5 in 5,000)."""
    return 0.8 + (i % 7) / 100 - (0.4 if i % 997 == 0 and i > 0 else 0)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.mark.slow
def test_markdown_stays_under_githubs_limit_with_5000_new_versions(
    stores: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, head = stores
    big = tmp_path / "big"
    shutil.copytree(head, big)
    add_many_versions(big, 5000)
    started = time.perf_counter()
    code, md, _ = run_cli(
        capsys,
        str(base),
        str(big),
        "--format",
        "md",
        "--site-url",
        SITE,
        "--fail-on",
        "accuracy < -0.3",
    )
    seconds = time.perf_counter() - started
    assert code == 3  # some bulk versions trip against their previous version
    assert len(md) < GITHUB_COMMENT_LIMIT
    assert len(md) > GITHUB_COMMENT_LIMIT // 2  # it used the room it had
    assert "**5,003** new version(s)" in md
    note = md.strip().splitlines()[-1]
    assert note.startswith("_Left out to stay under GitHub's 65,536-character comment limit:")
    shown = len(version_blocks(md))
    short = len(re.findall(r"^- \[`[^`]+:v\d+`\]", sections(md)["New versions"], flags=re.M))
    left = int(re.search(r"limit: ([\d,]+) new versions", note).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert shown + short + left == 5003 and left > 0
    # the versions that tripped a gate are chosen first, in full
    blocks = version_blocks(md)
    for i in (997, 1994, 2991, 3988, 4985):
        ref = f"model/bulk-{i % 40:02d}:v{i // 40}"
        assert "**✖ GATE** `accuracy < -0.3`" in blocks[ref]
    assert md.count("```mermaid") == 1 and md.count("```") == 2
    assert seconds < 60


def test_small_max_chars_still_valid(
    stores: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, head = stores
    code, md, _ = run_cli(capsys, str(base), str(head), "--format", "md", "--max-chars", "2000")
    assert code == 0 and len(md) <= 2000 + 100
    assert "Left out" in md
    code, _, err = run_cli(capsys, str(base), str(head), "--max-chars", "10")
    assert code == 2 and "--max-chars" in err
