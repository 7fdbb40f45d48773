"""Bad input gets a specific error with a hint, never a traceback, and loses nothing."""

from __future__ import annotations

import hashlib
import html
import json
import os
from pathlib import Path

import pytest

import sitegen
from sitegen.cli import main
from sitegen.errors import InvalidInput, SitegenError
from sitegen.store.format import check_file_path
from tests.helpers import log_version, make_files, small_project


@pytest.mark.parametrize(
    "name", ["", "../etc", "a/b", "-lead", "x" * 129, "名前", "a b", "<script>", "ok\n"]
)
def test_invalid_artifact_names(name: str) -> None:
    with pytest.raises(InvalidInput, match="invalid artifact name"):
        sitegen.Artifact(name, type="model")


@pytest.mark.parametrize("type_", ["Model", "", "a/b", "../x", "model\n"])
def test_invalid_types(type_: str) -> None:
    with pytest.raises(InvalidInput, match="invalid artifact type"):
        sitegen.Artifact("ok", type=type_)


@pytest.mark.parametrize("alias", ["latest", "v3", "a b", "", "<b>", "prod\n"])
def test_invalid_or_reserved_aliases(tmp_path: Path, alias: str) -> None:
    art = sitegen.Artifact("ok", type="model")
    art.add_file(make_files(tmp_path, {"f": "x"}) / "f")
    with pytest.raises(InvalidInput, match="alias"):
        sitegen.Store(tmp_path / "s", project="p").log_artifact(art, aliases=[alias])


@pytest.mark.parametrize(
    "path",
    [
        "../x",
        "a/../../x",
        "/etc/passwd",
        "C:/x",
        "a\\b",
        "a\x00b",
        "a//b",
        "./a",
        "a/%2e%2e/b",
        "a\nb",
        "a/b\n",
        "a/.",
        "x" * 1025,
        "",
    ],
)
def test_unsafe_paths_rejected(tmp_path: Path, path: str) -> None:
    assert check_file_path(path) is not None
    art = sitegen.Artifact("ok", type="model")
    src = make_files(tmp_path, {"f": "x"}) / "f"
    with pytest.raises(InvalidInput, match=r"unsafe file path|invalid file path"):
        art.add_file(src, name=path)


def test_case_folded_collision_rejected(tmp_path: Path) -> None:
    art = sitegen.Artifact("ok", type="model")
    src = make_files(tmp_path, {"f": "x"}) / "f"
    art.add_file(src, name="Model.bin")
    with pytest.raises(InvalidInput, match="collides"):
        art.add_file(src, name="model.BIN")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    art = sitegen.Artifact("ok", type="model")
    with pytest.raises(InvalidInput, match="no such file"):
        art.add_file(tmp_path / "nope")
    with pytest.raises(InvalidInput, match="no such directory"):
        art.add_dir(tmp_path / "nope")


def test_reference_needs_digest_and_size() -> None:
    art = sitegen.Artifact("ok", type="dataset")
    with pytest.raises(InvalidInput, match="sha256"):
        art.add_reference("s3://b/k")
    with pytest.raises(InvalidInput, match="size"):
        art.add_reference("s3://b/k", sha256="a" * 64)


def test_symlink_out_of_directory_is_not_followed(tmp_path: Path) -> None:
    secret = make_files(tmp_path / "outside", {"secret.txt": "s3cr3t"}) / "secret.txt"
    src = make_files(tmp_path / "src", {"ok.txt": "ok"})
    os.symlink(secret, src / "link.txt")
    art = sitegen.Artifact("ok", type="dataset")
    with pytest.raises(InvalidInput, match="symlink points outside"):
        art.add_dir(src)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_store_files_that_are_links_or_folders_are_refused_not_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], jobs: str
) -> None:
    """A store file that is a symbolic link was read through it (a run record linked to any
    JSON file on the machine was loaded); one that is a folder ended in an
    IsADirectoryError traceback. Each is now a problem naming the file: the links point at
    exact copies, so only not following them explains the problems."""
    store = tmp_path / "store"
    small_project(store, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    linked = [
        "artifacts/model/grader/v0/manifest.json",
        "runs/train1/history.jsonl",
        "runs/prep1/run.json",
        sorted(p.relative_to(store).as_posix() for p in (store / "events").iterdir())[3],
    ]
    for rel in linked:
        target = outside / rel.replace("/", "_")
        target.write_bytes((store / rel).read_bytes())
        (store / rel).unlink()
        (store / rel).symlink_to(target)
    (store / "runs/ghost").mkdir()
    (store / "runs/ghost/run.json").mkdir()
    assert main(["build", str(store), "-o", str(tmp_path / "site"), "--jobs", jobs]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for rel in linked[:3]:
        assert f"{store / rel}: unreadable: a symbolic link" in err
    assert f"{store / linked[3]}: event unreadable: a symbolic link" in err
    assert f"{store / 'runs/ghost/run.json'}: unreadable: Is a directory" in err


def test_logging_into_a_store_whose_last_event_is_a_link_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The writer reads the log's last event to chain the next one: a link there is one
    clean error (exit 1, the file named), not an OSError traceback."""
    store = tmp_path / "store"
    small_project(store, tmp_path)
    last = sorted((store / "events").iterdir())[-1]
    copy = tmp_path / "last.json"
    copy.write_bytes(last.read_bytes())
    last.unlink()
    last.symlink_to(copy)
    src = make_files(tmp_path / "src", {"a.txt": "a"})
    args = ["log-artifact", str(src), "--store", str(store), "--name", "x", "--type", "dataset"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"sitegen: error: {last}: a symbolic link" in err and "Traceback" not in err


def test_a_stored_object_that_is_a_link_is_not_hashed_through_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    small_project(store, tmp_path)
    obj = next(p for p in sorted((store / "objects").rglob("*")) if p.is_file())
    copy = tmp_path / "copy"
    copy.write_bytes(obj.read_bytes())  # the very bytes: only the link is wrong
    obj.unlink()
    obj.symlink_to(copy)
    assert main(["verify", str(store)]) == 1
    err = capsys.readouterr().err
    assert "is missing (or not a regular file)" in err and "Traceback" not in err
    assert main(["build", str(store), "-o", str(tmp_path / "site")]) == 0  # shown, not fatal
    audit = (tmp_path / "site/audit/index.html").read_text()
    assert "is missing (or not a regular file)" in html.unescape(audit)


def test_not_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "not a sitegen store" in err and "hint:" in err and "Traceback" not in err


def test_newer_format_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sitegen-store.json").write_text(json.dumps({"format": 99, "project": "p"}))
    with pytest.raises(SitegenError, match="newer than this sitegen"):
        sitegen.Store(tmp_path)
    assert main(["validate", str(tmp_path)]) == 1
    assert "upgrade sitegen" in capsys.readouterr().err


def test_malformed_manifest_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small_project(tmp_path / "store", tmp_path)
    manifest = tmp_path / "store/artifacts/model/grader/v0/manifest.json"
    lines = manifest.read_text().splitlines()
    lines[3] = lines[3] + " oops"
    manifest.write_text("\n".join(lines))
    assert main(["validate", str(tmp_path / "store")]) == 1
    err = capsys.readouterr().err
    assert f"{manifest}:4: invalid JSON" in err
    assert "Traceback" not in err


def test_bad_summary_type_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small_project(tmp_path / "store", tmp_path)
    run_file = tmp_path / "store/runs/train1/run.json"
    body = json.loads(run_file.read_text())
    body["inputs"] = ["not a ref"]
    run_file.write_text(json.dumps(body, indent=2, sort_keys=True))
    assert main(["validate", str(tmp_path / "store")]) == 1
    err = capsys.readouterr().err
    line = next(i for i, t in enumerate(run_file.read_text().splitlines(), 1) if '"inputs"' in t)
    assert f"{run_file}:{line}: 'inputs' entry 'not a ref'" in err


def test_unknown_reference_names_the_problem(tmp_path: Path) -> None:
    store = small_project(tmp_path / "store", tmp_path)
    with pytest.raises(InvalidInput, match="no version or alias 'staging'"):
        store.artifact("grades:staging")
    with pytest.raises(InvalidInput, match="no collection"):
        store.artifact("missing:latest")


def test_quick_path_and_uri_checks_agree_with_the_full_checks() -> None:
    """The fast paths used while loading big stores accept nothing the full checks reject."""
    import random

    from sitegen.store.format import (
        check_reference_uri,
        entries_digest,
        is_plain_path,
        is_plain_uri,
    )

    rng = random.Random(1)
    alphabet = 'ab./_- %\\"~:\n\x7f'
    sha = "a" * 64
    plain = 0
    for _ in range(20000):
        path = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
        uri = "s3://" + path
        if is_plain_path(path):
            plain += 1
            assert check_file_path(path) is None, path
        if is_plain_uri(uri):
            assert check_reference_uri(uri) is None, uri
        line = json.dumps([path, sha, 1, uri], ensure_ascii=False, separators=(",", ":"))
        expected = hashlib.sha256((line + "\n").encode()).hexdigest()
        assert entries_digest([(path, sha, 1, uri)]) == expected
    assert plain > 1000


def test_bulk_file_checks_accept_only_what_the_entry_checks_accept() -> None:
    """``plain_files`` (whole manifests at once, in bulk) gives the entries and digest of the
    entry-by-entry checks, or None; never an entry those reject."""
    import random

    from sitegen.store.format import casefold_collisions, entries_digest, plain_files
    from sitegen.store.records import _file_entry_problem

    rng = random.Random(3)
    paths = ["a", "A", "b/c.txt", "d.bin", "../x", "e f", "ü", "g\\h", ""]
    shas = ["a" * 64, "F" * 64, "0" * 63, 7, None]
    sizes = [0, 12, -1, True, 1.5, "3", None]
    refs = [None, None, None, "s3://b/k", "file:///data/x", "", "no scheme", 3]
    accepted = 0
    for _ in range(5000):
        files: dict[str, object] = {}
        for _ in range(rng.randint(0, 4)):
            entry = {
                "sha256": rng.choice(shas[:1] * 6 + shas),
                "size": rng.choice(sizes[:2] * 6 + sizes),
            }
            ref = rng.choice(refs)
            if ref is not None or rng.random() < 0.5:
                entry["ref"] = ref
            files[rng.choice(paths[:4] * 2 + paths)] = entry if rng.random() > 0.02 else "x"
        fast = plain_files(files)
        if fast is None:
            continue
        accepted += 1
        entries, digest = fast
        assert all(_file_entry_problem(p, files[p]) is None for p in files), files
        assert [e[0] for e in entries] == sorted(files)
        assert not list(casefold_collisions(files))
        expected = [
            (p, e["sha256"], e["size"], e.get("ref") or None) for p, e in sorted(files.items())
        ]
        assert entries == expected and digest == entries_digest(expected)
    assert accepted > 200


@pytest.mark.parametrize(
    "text",
    [
        '{"_step": 0, "loss": 1.5}\n{"_step": 1, "loss": 1.25}\n',
        '{"_step": 0}\n\n{"_step": 1}\n',  # a blank line
        '  {"_step": 0}\n{"_step": 1}  \n',  # spaces around values
        '{"_step": 0}\r\n{"_step": 1}\r\n',
        '{"_step": 0}\n{"_step": 1}{"_step": 2}\n"text"\n[1]\n',  # two values on a line
        '{"_step": 0}\n{"_step": \n1}\n{"_step": 2',  # broken lines, a cut last line
        '{"a": [{"b": 1}\n{"c": 2}]}\n',  # one value over two lines
        "",
    ],
)
def test_history_lines_are_read_alike_on_the_quick_path_and_line_by_line(
    text: str, tmp_path: Path
) -> None:
    """A history is read in one pass when every line is one JSON value; anything else is
    read line by line: the same rows, the same problems, line numbers included."""
    from sitegen.errors import Problem
    from sitegen.store.backend import LocalBackend
    from sitegen.store.reader import _json_line, read_jsonl

    (tmp_path / "history.jsonl").write_text(text, encoding="utf-8", newline="")
    problems: list[Problem] = []
    raw = read_jsonl(LocalBackend(tmp_path), "history.jsonl", problems)
    expected_rows, expected_lines = [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                expected_rows.append(_json_line(line))
            except json.JSONDecodeError:
                expected_lines.append(lineno)
    assert raw.data == expected_rows
    assert [p.line for p in problems] == expected_lines


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_values_nested_too_deeply_are_refused_where_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON nested ~1,000 levels deep ended the build in a RecursionError traceback (parsing,
    pickling into the memo); every store file is now refused past 100 levels, by name and
    line, and the build fails cleanly. 99 levels (a row holding 98) are kept, and rebuild."""
    store = tmp_path / "store"
    small_project(store, tmp_path)
    history = store / "runs/train1/history.jsonl"
    lines = len(history.read_text().splitlines())
    history.write_text(history.read_text() + f'{{"_step": 99, "x": {_nested(990)}}}\n')
    run = store / "runs/prep1/run.json"
    body = json.loads(run.read_text())
    body["config"]["deep"] = json.loads(_nested(150))
    run.write_text(json.dumps(body))
    manifest = store / "artifacts/dataset/grades/v0/manifest.json"
    body = json.loads(manifest.read_text())
    body["metadata"]["deep"] = "here"
    manifest.write_text(json.dumps(body).replace('"here"', "[" * 2000 + "]" * 2000))
    (store / "artifacts/dataset/grades/collection.yaml").write_text("a: " + "[" * 300 + "]" * 300)
    event = sorted((store / "events").iterdir())[-1]
    body = json.loads(event.read_text())
    body["data"]["deep"] = json.loads(_nested(120))
    event.write_text(json.dumps(body))
    site = tmp_path / "site"
    assert main(["build", str(store), "-o", str(site)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "RecursionError" not in err
    for where in (
        f"{history}:{lines + 1}: refused: nested more than 100 levels deep",
        f"{run}: refused: nested more than 100 levels deep",
        f"{manifest}: refused: nested more than 100 levels deep",
        f"{store}/artifacts/dataset/grades/collection.yaml: refused: nested more than 100",
        f"{event}: event refused: nested more than 100 levels deep",
    ):
        assert where in err
    assert "hint: sitegen reads values nested at most 100 levels deep" in err
    kept = tmp_path / "kept"
    small_project(kept, tmp_path)
    history = kept / "runs/train1/history.jsonl"
    history.write_text(history.read_text() + f'{{"_step": 99, "x": {_nested(98)}}}\n')
    for _ in range(2):  # the second from the records memo
        assert main(["build", str(kept), "-o", str(tmp_path / "kept-site")]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_numbers_no_float_or_int_holds_are_refused_or_shown_without_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An integer of 5,000 digits (Python's int() refuses past 4,300) ended the build in a
    ValueError traceback; one of 4,000 digits (no float holds it) in a metric, an
    OverflowError. The first is refused where it is read (path:line, hint); the second is a
    number that is not drawn, and a file that size is shown as such."""
    store = tmp_path / "store"
    small_project(store, tmp_path)
    history = store / "runs/train1/history.jsonl"
    lines = len(history.read_text().splitlines())
    history.write_text(history.read_text() + '{"_step": 99, "loss": 1' + "0" * 5000 + "}\n")
    (store / "artifacts/dataset/grades/collection.yaml").write_text("n: 1" + "0" * 5000 + "\n")
    site = tmp_path / "site"
    assert main(["build", str(store), "-o", str(site)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "set_int_max_str_digits" not in err
    assert f"{history}:{lines + 1}: refused: Exceeds the limit (4300 digits)" in err
    assert "collection.yaml: refused: Exceeds the limit (4300 digits)" in err
    assert "hint: integers may have at most 4,300 digits" in err
    huge = tmp_path / "huge"
    small_project(huge, tmp_path)
    history = huge / "runs/train1/history.jsonl"
    history.write_text(history.read_text() + '{"_step": 99, "loss": 1' + "0" * 4000 + "}\n")
    for run in ("prep1", "train1"):
        path = huge / f"runs/{run}/run.json"
        body = json.loads(path.read_text())
        body["summary"].update(huge=10**4000, loss=-(10**4000))
        path.write_text(json.dumps(body))
    handle = sitegen.Store(huge, project="demo")
    for i in range(2):
        art = sitegen.Artifact("weights", type="model")
        art.add_reference(f"s3://b/k{i}", sha256=f"{i:064x}", size=10**400 + i, name="w.bin")
        handle.log_artifact(art)
    assert main(["build", str(huge), "-o", str(tmp_path / "huge-site")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    page = (tmp_path / "huge-site/artifacts/model/weights/v1/index.html").read_text()
    assert "more than 1e300 TB" in page
    from sitegen.diff_format import size

    assert size(-(10**400)) == "-more than 1e300 GB" and size(1500) == "1.5 kB"
    from sitegen.contentdiff import parse_structured

    value, why = parse_structured("json", '{"a": 1' + "0" * 5000 + "}")
    assert value is None and why == (
        "not valid JSON: Exceeds the limit (4300 digits) for integer string conversion: "
        "value has 5001 digits"
    )


def test_yaml_aliases_expanding_to_billions_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A few lines of YAML whose anchors name anchors expand to 9^9 values: a stored YAML
    file is then compared by its text only, a collection.yaml is refused; no hang."""
    laughs = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for name, prev in zip("bcdefghi", "abcdefgh", strict=True):
        laughs += f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
    store = tmp_path / "store"
    for i in range(2):
        log_version(store, "bomb", {"conf.yaml": f"{laughs}v: {i}\n"}, tmp_path, "model")
    site = tmp_path / "site"
    assert main(["build", str(store), "-o", str(site)]) == 0
    page = (site / "artifacts/model/bomb/compare/v0..v1.html").read_text()
    assert "not compared by structure: more than 1,000,000 values" in html.unescape(page)
    (store / "artifacts/model/bomb/collection.yaml").write_text(laughs)
    assert main(["build", str(store), "-o", str(site)]) == 1
    err = capsys.readouterr().err
    assert "collection.yaml: refused: more than 1,000,000 values" in err
    assert "Traceback" not in err


def test_history_lines_that_are_not_objects_are_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JSON line that is not an object (text, a list) is reported like any bad row, on the
    first build and on the next one from the records memo (it used to end in a traceback)."""
    monkeypatch.setenv("SITEGEN_RECORDS_CACHE", str(tmp_path / "records"))
    small_project(tmp_path / "store", tmp_path)
    history = tmp_path / "store/runs/train1/history.jsonl"
    kept = len(history.read_text().splitlines())
    with history.open("a") as handle:
        handle.write('"not a row"\n[1, 2]\n{"loss": 3}\n')
    for _ in range(2):
        assert main(["build", str(tmp_path / "store"), "-o", str(tmp_path / "site")]) == 1
        err = capsys.readouterr().err
        for line in (kept + 1, kept + 2, kept + 3):
            assert f"{history}:{line}: history row must be an object" in err
        assert "Traceback" not in err


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("artifacts/model/grader/v0/manifest.json", "manifest"),
        ("runs/train1/run.json", "run record"),
    ],
)
def test_record_that_is_not_an_object_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str, what: str
) -> None:
    small_project(tmp_path / "store", tmp_path)
    (tmp_path / "store" / path).write_text('["valid JSON", "not an object"]\n')
    assert main(["validate", str(tmp_path / "store")]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'store' / path}: {what} must be a JSON object" in err
    assert "Traceback" not in err
