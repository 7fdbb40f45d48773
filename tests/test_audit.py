"""Audit features: sealed sites, deterministic zips, privacy by default, the audit page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import sitegen
from sitegen.build import BuildOptions, build
from sitegen.cli import main
from sitegen.integrity import statement, statement_text
from tests.helpers import make_files, small_project
from tests.sitecheck import links_of, tree_bytes

SECRET_EMAIL = "jane.student@school.example"
SECRET_SCORE = "0.123456789"
FILE_ONLY = "row-only-in-the-file-bytes"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    small_project(tmp_path / "store", tmp_path)
    return tmp_path / "store"


def test_site_is_sealed_and_any_change_is_detected(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    assert main(["verify-site", str(out)]) == 0
    statement = json.loads((out / "provenance.json").read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    names = {s["name"] for s in statement["subject"]}
    assert "index.html" in names and "SHA256SUMS" not in names
    assert len(statement["predicate"]["store"]["root_digest"]) == 64
    page = out / "artifacts/model/grader/v0/index.html"
    data = bytearray(page.read_bytes())
    data[100] ^= 0x20
    page.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["verify-site", str(out)]) == 1
    assert "artifacts/model/grader/v0/index.html was modified" in capsys.readouterr().err


def test_added_file_is_detected(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    (out / "extra.html").write_text("<script>evil()</script>")
    assert main(["verify-site", str(out)]) == 1


def test_zip_is_deterministic(store: Path, tmp_path: Path) -> None:
    build(BuildOptions(store, tmp_path / "a", zip_path=tmp_path / "a.zip"))
    build(BuildOptions(store, tmp_path / "b", zip_path=tmp_path / "b.zip", jobs=1))
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_offline_site_references_nothing_remote(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(BuildOptions(store, out, offline=True))
    for page in out.rglob("*.html"):
        for tag, link in links_of(page.read_text()):
            if tag in ("script", "link", "img"):
                assert not link.startswith(("http://", "https://", "//")), (page, link)
    assert (out / "assets/vendor").is_dir()
    assert main(["verify-site", str(out)]) == 0


def private_store(tmp_path: Path) -> Path:
    store = tmp_path / "private"
    clock = sitegen.FixedClock()
    with sitegen.init(
        store=store,
        project="p",
        job_type="train",
        id="r1",
        clock=clock,
        git={},
        config={"lr": 0.1, "student_email": SECRET_EMAIL, "data": {"student_ids": [11, 12]}},
    ) as run:
        run.log({"accuracy": 0.9, "student_score": float(SECRET_SCORE)})
        data = sitegen.Artifact(
            "grades", type="dataset", metadata={"owner_email": SECRET_EMAIL, "rows": 2}
        )
        data.add_file(
            make_files(tmp_path / "d", {"grades.csv": f"email\n{SECRET_EMAIL}\n{FILE_ONLY}\n"})
            / "grades.csv"
        )
        data.add_reference("s3://secret-bucket/students.parquet", sha256="ab" * 32, size=10)
        run.log_artifact(data)
        data2 = sitegen.Artifact("grades", type="dataset")
        data2.add_file(
            make_files(
                tmp_path / "d2", {"grades.csv": f"email\n{SECRET_EMAIL}\nother\n{FILE_ONLY}\n"}
            )
            / "grades.csv"
        )
        run.log_artifact(data2)
    return store


def test_withheld_fields_appear_nowhere(tmp_path: Path) -> None:
    store = private_store(tmp_path)
    config = tmp_path / "sitegen.yaml"
    config.write_text("redact:\n  keys: ['*email*', '*student*']\n")
    out = tmp_path / "site"
    build(BuildOptions(store, out, config_path=config))
    blob = b"".join(tree_bytes(out).values())
    for secret in (SECRET_EMAIL, SECRET_SCORE, "secret-bucket", "[11,12]", "[11, 12]"):
        assert secret.encode() not in blob, secret
    audit = (out / "audit/index.html").read_text()
    assert "student_email" in audit and "owner_email" in audit and "reference URIs" in audit
    assert "accuracy" in (out / "runs/r1/index.html").read_text()


def test_dataset_bytes_stay_out_by_default(tmp_path: Path) -> None:
    store = private_store(tmp_path)
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    files = tree_bytes(out)
    assert not any(name.startswith("files/") for name in files)
    pair = files["artifacts/dataset/grades/compare/v0..v1.html"].decode()
    assert FILE_ONLY not in pair and "privacy" in pair
    assert not any(FILE_ONLY.encode() in data for data in files.values())


def test_publish_files_opt_in_with_globs(tmp_path: Path) -> None:
    store = private_store(tmp_path)
    config = tmp_path / "sitegen.yaml"
    config.write_text("publish_files:\n  include: ['dataset/grades/*.csv']\n  max_bytes: 1000\n")
    out = tmp_path / "site"
    build(BuildOptions(store, out, config_path=config))
    assert any(name.startswith("files/sha256/") for name in tree_bytes(out))


def test_audit_page_lists_events_and_integrity(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    audit = (out / "audit/index.html").read_text()
    assert "Verified." in audit
    events = sitegen.Store(store).load().events
    assert all(e.hash[:12] in audit for e in events)
    assert 'href="model/grader.html"' in audit and "1 of 1 with a producing run" in audit
    model = (out / "audit/model/grader.html").read_text()
    assert "Produced by run" in model and "train1" in model
    assert re.search(r'<a href="../../artifacts/model/grader/v0/index.html">v0</a>', model)
    dataset = (out / "audit/dataset/grades.html").read_text()
    assert "production" in model and "Produced by run" not in dataset


def test_incremental_build_does_not_reseal_a_tampered_page(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(BuildOptions(store, out))
    page = out / "runs/train1/index.html"
    original = page.read_bytes()
    page.write_bytes(original + b"<script>evil()</script>")
    report = build(BuildOptions(store, out))
    assert report.rendered == 1
    assert page.read_bytes() == original
    assert main(["verify-site", str(out)]) == 0


@pytest.mark.parametrize(
    "subjects",
    [
        {},
        {"a.html": "0" * 64, "data/b c.json": "1" * 64},
        {
            "a.html": "0" * 64,
            'ü/q"uote\\.html': "1" * 64,
            "z/<b>.js": "2" * 64,
            "c\x01\u2028\t.x": "3" * 64,
        },
    ],
)
def test_provenance_text_is_the_indented_json_of_the_statement(subjects: dict[str, str]) -> None:
    predicate = {"store": {"subject": [], "name": "ü"}, "offline": False}
    expected = json.dumps(statement(subjects, predicate), indent=1, sort_keys=True) + "\n"
    assert statement_text(subjects, predicate) == expected
