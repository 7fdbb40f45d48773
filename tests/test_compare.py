"""Version comparison: the diff functions on crafted pairs, and the comparison pages.

The model objects are built directly (pure data), so each test states exactly the pair it
compares; the last tests build the bundled example and render crafted hostile stores.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from sitegen.build import BuildOptions, build
from sitegen.cell_rows import curve_rows
from sitegen.compare import (
    CURVE_TABLE_ROWS,
    CurveTable,
    compare,
    content_diffs,
    curve_line,
    curves,
    file_changes,
    keyed_rows,
    metric_rows,
    notes_for,
    recent_objects,
)
from sitegen.config import MetricSpec, SiteConfig
from sitegen.contentdiff import (
    csv_diff,
    decode_text,
    diff_contents,
    flatten_values,
    kind_of,
    side_by_side,
    structural,
)
from sitegen.filters import tojson_script
from sitegen.model import Collection, Project, Run, Version
from sitegen.pages.common import SiteInfo
from sitegen.pages.compare import any_page, pair_page
from sitegen.render import make_environment, render_page
from sitegen.store.files import FileEntry
from sitegen.store.records import VersionRecord
from sitegen.store.run_records import RunRecord

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_STORE = ROOT / "example_project" / "store"
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


# --- builders -------------------------------------------------------------------------------


def sha(text: str | bytes) -> str:
    return hashlib.sha256(text if isinstance(text, bytes) else text.encode()).hexdigest()


def entries(mapping: Mapping[str, str | bytes]) -> tuple[FileEntry, ...]:
    out = []
    for path, data in mapping.items():
        raw = data if isinstance(data, bytes) else data.encode()
        out.append(FileEntry(path, sha(raw), len(raw)))
    return tuple(out)


def vrecord(
    number: int,
    file_entries: tuple[FileEntry, ...] = (),
    run: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    type_: str = "model",
    name: str = "m",
) -> VersionRecord:
    return VersionRecord(
        type=type_,
        name=name,
        version=number,
        digest=sha(f"{type_}/{name}:{number}:{[(f.path, f.sha256) for f in file_entries]}"),
        created_at=f"2024-01-0{number + 1}T00:00:00Z",
        run=run,
        description="",
        metadata=metadata or {},
        files=file_entries,
        source=None,
        display=f"store/artifacts/{type_}/{name}/v{number}/manifest.json",
        manifest_sha256=sha(str(number)),
    )


def rrecord(
    run_id: str, config: Mapping[str, Any] | None = None, summary: Mapping[str, Any] | None = None
) -> RunRecord:
    return RunRecord(
        id=run_id,
        name=run_id,
        job_type="train",
        status="finished",
        started_at="2024-01-01T00:00:00Z",
        finished_at="2024-01-01T01:00:00Z",
        config=config or {},
        summary=summary or {},
        inputs=(),
        outputs=(),
        git={},
        host="h",
        user="u",
        notes="",
        tags=(),
        source=None,
        display=f"store/runs/{run_id}/run.json",
    )


def version(record: VersionRecord, aliases: tuple[str, ...] = ()) -> Version:
    return Version(record, aliases, record.run, (), sum(f.size for f in record.files))


def project(
    versions: list[Version],
    runs: list[Run] = (),  # type: ignore[assignment]
    metrics: tuple[MetricSpec, ...] = (),
) -> Project:
    by_coll: dict[str, list[Version]] = {}
    for v in versions:
        by_coll.setdefault(v.record.collection, []).append(v)
    collections = tuple(
        Collection(
            coll.split("/")[0],
            coll.split("/", 1)[1],
            None,
            tuple(sorted(vs, key=lambda v: v.record.version)),
            {},
            (),
        )
        for coll, vs in sorted(by_coll.items())
    )
    return Project("p", collections, tuple(runs), (), None, metrics, ())


def reader(*blobs: str | bytes) -> Any:
    store = {sha(b): (b if isinstance(b, bytes) else b.encode()) for b in blobs}
    return store.get


# --- files ----------------------------------------------------------------------------------


def test_file_changes_added_removed_modified_renamed_unchanged() -> None:
    old = entries({"a.txt": "same", "b.txt": "old b", "gone.txt": "bye", "old/name.bin": "moved"})
    new = entries({"a.txt": "same", "b.txt": "new b!", "new.txt": "hi", "new/name.bin": "moved"})
    fc = file_changes(old, new)
    assert [f["path"] for f in fc["added"]] == ["new.txt"]
    assert [f["path"] for f in fc["removed"]] == ["gone.txt"]
    assert fc["renamed"] == [
        {"from": "old/name.bin", "to": "new/name.bin", "size": 5, "sha256": sha("moved")}
    ]
    assert fc["unchanged"] == ["a.txt"]
    [mod] = fc["modified"]
    assert mod["path"] == "b.txt"
    assert (mod["old_size"], mod["new_size"], mod["delta"]) == (5, 6, 1)
    assert (mod["old_sha256"], mod["new_sha256"]) == (sha("old b"), sha("new b!"))
    assert fc["size_delta"] == sum(f.size for f in new) - sum(f.size for f in old)


def test_renames_pair_identical_contents_in_path_order() -> None:
    # Two removed files with the same bytes, two new paths with them: paired in sorted order,
    # and a third new copy (no removed source left) is an addition.
    old = entries({"x/1.txt": "dup", "x/2.txt": "dup"})
    new = entries({"y/1.txt": "dup", "y/2.txt": "dup", "y/3.txt": "dup"})
    fc = file_changes(old, new)
    assert [(r["from"], r["to"]) for r in fc["renamed"]] == [
        ("x/1.txt", "y/1.txt"),
        ("x/2.txt", "y/2.txt"),
    ]
    assert [f["path"] for f in fc["added"]] == ["y/3.txt"]
    assert fc["removed"] == []


def test_a_rename_that_also_changed_is_an_add_and_a_remove() -> None:
    fc = file_changes(entries({"a.txt": "one"}), entries({"b.txt": "two"}))
    assert fc["renamed"] == []
    assert [f["path"] for f in fc["added"]] == ["b.txt"]
    assert [f["path"] for f in fc["removed"]] == ["a.txt"]


def test_references_are_compared_by_digest() -> None:
    old = (FileEntry("data.parquet", "a" * 64, 10, "s3://bucket/data.parquet"),)
    same = (FileEntry("data.parquet", "a" * 64, 10, "s3://bucket/data.parquet"),)
    new = (FileEntry("data.parquet", "b" * 64, 12, "s3://bucket/data.parquet"),)
    assert file_changes(old, same)["unchanged"] == ["data.parquet"]
    fc = file_changes(old, new)
    assert fc["modified"][0]["ref"] == "s3://bucket/data.parquet"
    [item] = content_diffs(fc, reader(), 1000, lambda path: True)
    assert item["kind"] == "reference"
    assert "digest" in item["reason"]


# --- config / metadata ----------------------------------------------------------------------


def states(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {r["key"]: [c["state"] for c in r["cells"]] for r in rows}


def test_nested_config_added_removed_changed() -> None:
    base = {"lr": 0.1, "opt": {"name": "adam", "betas": [0.9, 0.99]}, "seed": 1, "drop": True}
    other = {"lr": 0.01, "opt": {"name": "adam", "betas": [0.9, 0.999], "eps": 1e-8}, "seed": 1}
    rows = keyed_rows([base, other], 0)
    assert states(rows) == {
        "drop": ["base", "removed"],
        "lr": ["base", "changed"],
        "opt.betas[0]": ["base", "same"],
        "opt.betas[1]": ["base", "changed"],
        "opt.eps": ["missing", "added"],
        "opt.name": ["base", "same"],
        "seed": ["base", "same"],
    }
    by_key = {r["key"]: r for r in rows}
    assert [c["value"] for c in by_key["lr"]["cells"]] == ["0.1", "0.01"]
    assert by_key["drop"]["cells"][1]["value"] is None
    assert by_key["opt.eps"]["cells"][1]["value"] == "1e-08"
    assert [r["key"] for r in rows if r["differs"]] == ["drop", "lr", "opt.betas[1]", "opt.eps"]


def test_keyed_rows_against_a_later_baseline_and_a_missing_map() -> None:
    rows = keyed_rows([{"a": 1}, {"a": 2, "b": "x"}, None], 1)
    assert states(rows) == {
        "a": ["changed", "base", "removed"],
        "b": ["removed", "base", "removed"],
    }


def test_flatten_long_lists_empty_containers_and_display() -> None:
    flat = flatten_values({"short": [1, 2], "long": list(range(201)), "empty": {}, "none": []})
    assert flat["short[0]"] == 1 and flat["short[1]"] == 2
    assert flat["long"] == list(range(201))
    assert flat["empty"] == {} and flat["none"] == []
    rows = {r["key"]: r for r in keyed_rows([{"d": {"z": 1, "a": [1, {"b": None}]}}] * 2, 0)}
    # dicts flatten all the way down; list items too
    assert set(rows) == {"d.a[0]", "d.a[1].b", "d.z"}
    rows = {r["key"]: r for r in keyed_rows([{"big": list(range(300))}, {"e": {}}], 0)}
    assert rows["big"]["cells"][0]["value"].startswith("[0, 1, 2")
    assert rows["e"]["cells"][1]["value"] == "{}"
    rows = {r["key"]: r for r in keyed_rows([{"m": [{"y": 1, "x": "é"}] * 201}], 0)}
    # JSON display: sorted keys, ", " and ": " separators, not ASCII-escaped
    assert rows["m"]["cells"][0]["value"].startswith('[{"x": "é", "y": 1}, {"x"')


def test_hostile_keys_and_values_are_kept_verbatim() -> None:
    rows = keyed_rows([{XSS: XSS}, {XSS: "ok"}], 0)
    assert rows[0]["key"] == XSS
    assert [c["value"] for c in rows[0]["cells"]] == [XSS, "ok"]


# --- metrics ---------------------------------------------------------------------------------


def test_metric_rows_direction_best_and_deltas() -> None:
    config = SiteConfig(metrics=(MetricSpec("score", "lower"),))
    summaries = [
        {"accuracy": 0.5, "val_loss": 1.0, "score": 3, "note": "text", "flag": True},
        {"accuracy": 0.75, "val_loss": 2.0, "score": 1},
        {"accuracy": 0.75, "val_loss": 0.5, "score": 2},
    ]
    rows = {r["name"]: r for r in metric_rows(summaries, 0, config)}
    assert set(rows) == {"accuracy", "val_loss", "score"}  # strings and booleans are not metrics
    acc, loss, score = rows["accuracy"], rows["val_loss"], rows["score"]
    assert acc["direction"] == "higher" and loss["direction"] == "lower"
    assert score["direction"] == "lower"  # configured, not guessed
    assert acc["best"] == [1, 2]  # ties are all best
    assert loss["best"] == [2]
    assert score["best"] == [1]
    assert acc["deltas"][1] == {"abs": 0.25, "pct": 50.0, "better": "better"}
    assert loss["deltas"][1] == {"abs": 1.0, "pct": 100.0, "better": "worse"}
    assert loss["deltas"][2]["better"] == "better"
    assert [d["better"] for d in score["deltas"]] == ["same", "better", "better"]
    assert all(r["differs"] for r in rows.values())


def test_metric_rows_missing_nan_inf_and_zero_baseline() -> None:
    summaries = [
        {"a": 0, "b": float("nan"), "c": 1.0},
        {"a": 2, "b": 1.0, "c": float("inf")},
        None,
    ]
    rows = {r["name"]: r for r in metric_rows(summaries, 0, SiteConfig())}
    a, b, c = rows["a"], rows["b"], rows["c"]
    assert a["values"] == [0.0, 2.0, None]
    assert a["deltas"][1] == {"abs": 2.0, "pct": None, "better": "better"}  # no % of zero
    assert a["deltas"][2] is None
    assert b["values"] == [None, 1.0, None]  # NaN is missing, not a number
    assert b["deltas"] == [None, None, None]
    assert b["best"] == []  # a single value is not "best"
    assert c["values"] == [1.0, None, None]
    assert all(r["differs"] for r in rows.values())
    same = metric_rows([{"x": 1}, {"x": 1}], 0, SiteConfig())
    assert same[0]["differs"] is False and same[0]["best"] == [0, 1]


def test_metric_rows_baseline_index() -> None:
    rows = metric_rows([{"loss": 2.0}, {"loss": 1.0}], 1, SiteConfig())
    assert rows[0]["deltas"] == [
        {"abs": 1.0, "pct": 100.0, "better": "worse"},
        {"abs": 0.0, "pct": 0.0, "better": "same"},
    ]


# --- contents --------------------------------------------------------------------------------


def test_csv_columns_added_removed_and_rows() -> None:
    old = "id,score,name\n1,0.5,a\n2,0.7,b\n"
    new = "id,score,grade\n1,0.9,A\n2,0.7,B\n3,0.1,C\n"
    d = csv_diff(old, new, "t.csv")
    assert (d["rows_old"], d["rows_new"]) == (2, 3)
    assert d["added"] == ["grade"] and d["removed"] == ["name"]
    changed = {c["column"]: c for c in d["changed"]}
    assert set(changed) == {"id", "score"}
    assert changed["score"]["old"]["mean"] == pytest.approx(0.6)
    assert changed["score"]["new"]["max"] == 0.9
    tsv = diff_contents("t.tsv", b"a\tb\n1\t2\n", b"a\tc\n1\t2\n")
    assert tsv["kind"] == "csv" and tsv["csv"]["added"] == ["c"]


def test_json_and_yaml_structural_diff() -> None:
    old = json.dumps({"model": {"layers": 2, "act": "relu"}, "tags": ["a"]}, indent=2)
    new = json.dumps({"model": {"layers": 3}, "tags": ["a", "b"], "new": None}, indent=2)
    d = diff_contents("cfg.json", old.encode(), new.encode())
    assert d["kind"] == "json" and d["reason"] is None
    assert {(r["key"], r["change"]) for r in d["structural"]} == {
        ("model.act", "removed"),
        ("model.layers", "changed"),
        ("new", "added"),
        ("tags[1]", "added"),
    }
    assert d["unified"].startswith("--- a/cfg.json\n+++ b/cfg.json")
    assert {r["tag"] for r in d["side_by_side"]} <= {"equal", "replace", "delete", "insert", "gap"}
    y = diff_contents("p.yml", b"a: 1\nb: [1, 2]\n", b"a: 1\nb: [1, 3]\n")
    assert y["kind"] == "yaml"
    assert y["structural"] == [{"key": "b[1]", "change": "changed", "old": "2", "new": "3"}]
    bad = diff_contents("broken.json", b"{}", b"{not json")
    assert bad["reason"].startswith("not valid JSON")
    assert "structural" not in bad and bad["unified"]


def test_structural_of_identical_data_is_empty() -> None:
    assert structural({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []


def test_side_by_side_trims_unchanged_runs_with_gaps() -> None:
    old = "\n".join(f"line {i}" for i in range(40))
    new = old.replace("line 3\n", "line three\n").replace("line 35", "line 35!")
    rows = side_by_side(old, new)
    tags = [r["tag"] for r in rows]
    assert "gap" in tags and tags.count("replace") == 2
    assert len(rows) < 40
    replaced = [r for r in rows if r["tag"] == "replace"]
    assert (replaced[0]["ln"], replaced[0]["left"], replaced[0]["right"]) == (
        4,
        "line 3",
        "line three",
    )


def test_binary_and_undecodable_bytes_say_why() -> None:
    assert decode_text(b"\x00\x01") is None and decode_text(b"\xff\xfe") is None
    d = diff_contents("w.txt", b"\xff\xfeabc", b"text")
    assert d["kind"] == "binary" and "digest" in d["reason"]
    assert "unified" not in d
    assert kind_of("A.JSON") == "json" and kind_of("x.bin") == "text"


def test_content_diffs_limits_unavailable_and_withheld() -> None:
    old = entries({"big.txt": "x" * 50, "gone.txt": "a", "ok.txt": "one\n", "d.csv": "a\n1\n"})
    new = entries({"big.txt": "y" * 50, "gone.txt": "b", "ok.txt": "two\n", "d.csv": "a\n2\n"})
    fc = file_changes(old, new)
    out = {
        c["path"]: c
        for c in content_diffs(
            fc,
            reader("one\n", "two\n", "a", "a\n1\n", "a\n2\n"),
            20,
            lambda path: path != "d.csv",
        )
    }
    assert out["big.txt"]["kind"] == "too-large" and "20 bytes" in out["big.txt"]["reason"]
    assert out["gone.txt"]["kind"] == "unavailable"
    assert out["d.csv"]["kind"] == "withheld"
    assert out["ok.txt"]["kind"] == "text" and "-one\n+two" in out["ok.txt"]["unified"]
    assert [c["kind"] for c in content_diffs(fc, None, 1000, lambda p: True)] == ["unavailable"] * 4


# --- compare() ---------------------------------------------------------------------------------


def pair_project() -> tuple[Project, list[Version], Any]:
    r0 = rrecord("r0", {"lr": 0.1, "opt": {"name": "sgd"}}, {"acc": 0.5, "loss": 1.0})
    r1 = rrecord("r1", {"lr": 0.2, "opt": {"name": "sgd", "m": 0.9}}, {"acc": 0.6})
    hist0 = tuple({"_step": i, "loss": 1.0 / (i + 1), "acc": 0.1 * i} for i in range(5))
    hist1 = tuple({"_step": i, "loss": 0.5 / (i + 1)} for i in range(3))
    v0 = version(
        vrecord(0, entries({"m.json": '{"a": 1}', "old.txt": "same"}), "r0", {"arch": "cnn"})
    )
    v1 = version(
        vrecord(1, entries({"m.json": '{"a": 2}', "new.txt": "same"}), "r1", {"arch": "rnn"}),
        ("production",),
    )
    proj = project([v0, v1], [Run(r0, hist0), Run(r1, hist1)])
    return proj, [v0, v1], reader('{"a": 1}', '{"a": 2}', "same")


def test_compare_a_pair_end_to_end() -> None:
    proj, versions, read = pair_project()
    result = compare(proj, versions, SiteConfig(), 0, read)
    assert result["format"] == 1 and result["baseline"] == 0
    assert [v["label"] for v in result["versions"]] == ["v0", "v1"]
    assert result["versions"][1]["aliases"] == ["production"]
    assert result["notes"] == []
    assert states(result["config"]) == {
        "lr": ["base", "changed"],
        "opt.m": ["missing", "added"],
        "opt.name": ["base", "same"],
    }
    assert states(result["metadata"]) == {"arch": ["base", "changed"]}
    metrics = {m["name"]: m for m in result["metrics"]}
    assert metrics["loss"]["values"] == [1.0, None]
    [fc] = result["files"]
    assert fc["against"] == 1
    assert [(r["from"], r["to"]) for r in fc["renamed"]] == [("old.txt", "new.txt")]
    [content] = result["contents"]
    assert content["path"] == "m.json" and content["structural"][0]["key"] == "a"
    # only "loss" is logged by both runs
    assert [c["metric"] for c in result["curves"]] == ["loss"]
    spec_values = result["curves"][0]["spec"]["data"]["values"]
    assert {v["version"] for v in spec_values} == {"v0", "v1"}
    assert sum(len(v["step"]) for v in spec_values) == 8  # flattened to one row per point
    json.dumps(result, allow_nan=False)  # the documented JSON is strict JSON


def test_compare_three_versions_has_no_contents_and_any_baseline() -> None:
    proj, (v0, v1), read = pair_project()
    v2 = version(vrecord(2, v1.record.files, None, {"arch": "rnn", "extra": [1]}))
    result = compare(proj, [v0, v1, v2], SiteConfig(), 2, read)
    assert "contents" not in result
    assert [f["against"] for f in result["files"]] == [0, 1]
    assert states(result["metadata"])["extra[0]"] == ["removed", "removed", "base"]
    assert result["notes"] == [
        "model/m:v2 has no producing run: its metrics and config are missing."
    ]


def test_notes_for_different_collections() -> None:
    a = version(vrecord(0, (), None, type_="model", name="a"))
    b = version(vrecord(0, (), None, type_="dataset", name="b"))
    notes = notes_for(project([a, b]), [a, b])
    assert notes[0].startswith("These versions belong to different collections")
    result = compare(project([a, b]), [a, b], SiteConfig())
    assert [v["label"] for v in result["versions"]] == ["model/a:v0", "dataset/b:v0"]


def test_curves_need_two_runs_sharing_a_metric() -> None:
    proj, versions, _ = pair_project()
    assert curves(proj, versions[:1]) == []


def test_pages_get_the_same_curves_pre_encoded() -> None:
    """The pair pages' curves (fragments encoded once per run) write exactly the JSON and
    table rows of the plain comparison that ``sitegen compare`` prints."""
    r0, r1 = rrecord("r0"), rrecord("r1")
    h0 = tuple({"_step": i, "loss": 1.0 / (i + 1), "acc": i / 7} for i in range(450))
    h1 = tuple({"_step": i, "loss": 0.5 / (i + 1), "acc": i / 9} for i in range(90))
    v0 = version(vrecord(0, (), "r0"))
    v1 = version(vrecord(1, (), "r1", name="</script><img src=x onerror=alert(1)>"))
    proj = project([v0, v1], [Run(r0, h0), Run(r1, h1)])
    plain, encoded = curves(proj, [v0, v1]), curves(proj, [v0, v1], encoded=True)
    assert [c["metric"] for c in encoded] == ["acc", "loss"]
    for a, b in zip(plain, encoded, strict=True):
        assert str(tojson_script(b["spec"])) == str(tojson_script(a["spec"]))
        assert "<" not in str(tojson_script(b["spec"]))
        assert isinstance(b["table"], CurveTable)
        assert list(b["table"]) == a["table"] and len(b["table"]) == len(a["table"])
        assert b["table"][-1] == a["table"][-1] and b["points"] == a["points"]
        for label in {row["version"] for row in a["table"]}:
            rows = [row for row in a["table"] if row["version"] == label]
            assert 0 < len(rows) <= CURVE_TABLE_ROWS and rows[0]["step"] == 0
        assert str(curve_rows(b["table"])) == str(curve_rows(a["table"]))


def test_curve_lines_are_kept_per_run_object_not_per_run_id() -> None:
    record = rrecord("r0")
    first = Run(record, tuple({"_step": i, "loss": float(i)} for i in range(3)))
    second = Run(record, tuple({"_step": i, "loss": -float(i)} for i in range(3)))
    assert curve_line(first, "loss").series is curve_line(first, "loss").series
    assert curve_line(second, "loss").series.values_json == "[-0.0,-1.0,-2.0]"
    assert curve_line(first, "loss").series.values_json == "[0.0,1.0,2.0]"


def test_non_finite_history_values_do_not_break_the_page_json() -> None:
    """A NaN logged in a history must not make the curve spec invalid JSON."""
    r0 = rrecord("r0")
    r1 = rrecord("r1")
    h = ({"_step": 0, "loss": float("nan")}, {"_step": 1, "loss": 1.0})
    v0 = version(vrecord(0, (), "r0"))
    v1 = version(vrecord(1, (), "r1"))
    result = compare(project([v0, v1], [Run(r0, h), Run(r1, h)]), [v0, v1], SiteConfig())
    values = result["curves"][0]["spec"]["data"]["values"]
    assert not any(math.isnan(x) for v in values for x in v["value"])
    json.dumps(result, allow_nan=False)


# --- pages ---------------------------------------------------------------------------------------


SITE = SiteInfo("t", "", "p", "", "0.0.0", False)


class _Cells(HTMLParser):
    """data-key rows and their data-state cells, per table[data-table]."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list[str]]] = {}
        self.best: dict[str, list[int]] = {}
        self._table: str | None = None
        self._row: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("data-table"):
            self._table = a["data-table"]
            self.tables.setdefault(self._table, {})
        elif tag == "tr" and self._table and a.get("data-key") is not None:
            self._row = a["data-key"]
            self.tables[self._table][self._row] = []
        elif tag == "td" and self._table and self._row is not None and "data-state" in a:
            cells = self.tables[self._table][self._row]
            if a.get("data-best") == "true":
                self.best.setdefault(self._row, []).append(len(cells))
            cells.append(a["data-state"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "tr":
            self._row = None


def cells_of(html: str) -> _Cells:
    parser = _Cells()
    parser.feed(html)
    return parser


def metric_states(rows: list[dict[str, Any]], base: int) -> dict[str, list[str]]:
    out = {}
    for r in rows:
        row = []
        for i, (value, d) in enumerate(zip(r["values"], r["deltas"], strict=True)):
            if i == base:
                row.append("base" if value is not None else "missing")
            elif value is None:
                row.append("missing")
            else:
                row.append("added" if d is None else d["better"])
        out[r["name"]] = row
    return out


def test_pair_page_cells_match_the_comparison() -> None:
    proj, _, read = pair_project()
    coll = proj.collections[0]
    page = pair_page(SITE, proj, coll, 1, SiteConfig(), read)
    html = render_page(make_environment(), page).decode()
    comparison = page.context["comparison"]
    found = cells_of(html)
    assert found.tables["config"] == states(comparison["config"])
    assert found.tables["metadata"] == states(comparison["metadata"])
    assert found.tables["metrics"] == metric_states(comparison["metrics"], 0)
    assert found.best == {m["name"]: m["best"] for m in comparison["metrics"] if m["best"]}
    assert found.tables["files"] == {"new.txt": ["renamed"], "m.json": ["changed"]}
    assert 'class="only-toggle" hidden' in html  # shown by compare.js only
    assert 'id="contents"' in html and 'data-tag="replace"' in html
    assert "assets/compare.js" in html and "assets/compare.css" in html


def hostile_project() -> tuple[Project, Any]:
    cfg0 = {XSS: {XSS: [XSS, 1]}, "n": 1}
    cfg1 = {XSS: {XSS: [XSS, 2]}, "n": 2, "</script>": XSS}
    r0 = rrecord("r0", cfg0, {XSS: 1.0})
    r1 = rrecord("r1", cfg1, {XSS: 2.0})
    path = "dir/<img src=x onerror=alert(3)>.json"
    old = json.dumps({XSS: XSS}).encode()
    new = json.dumps({XSS: XSS + "!"}).encode()
    v0 = version(vrecord(0, entries({path: old}), "r0", {XSS: XSS}), (XSS,))
    v1 = version(vrecord(1, entries({path: new}), "r1", {XSS: XSS + "2"}))
    hist = tuple({"_step": i, XSS: float(i)} for i in range(3))
    return project([v0, v1], [Run(r0, hist), Run(r1, hist)]), reader(old, new)


class _Live(HTMLParser):
    """Elements and attributes that injected markup would create."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "img" or (tag == "script" and not a.get("src") and "type" not in a):
            self.found.append(f"<{tag} {attrs}>")
        self.found.extend(f"{tag}[{k}]" for k in a if k.startswith("on"))


def live_markup(html: str) -> list[str]:
    parser = _Live()
    parser.feed(html)
    return parser.found


def test_hostile_strings_are_escaped_on_both_pages() -> None:
    proj, read = hostile_project()
    coll = proj.collections[0]
    env = make_environment()
    pair = render_page(env, pair_page(SITE, proj, coll, 1, SiteConfig(), read)).decode()
    assert live_markup(pair) == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pair
    # JSON data blocks cannot be closed early
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', pair, re.S):
        assert "<" not in block
        json.loads(block)
    anyp = render_page(env, any_page(SITE, proj, coll, SiteConfig())).decode()
    assert live_markup(anyp) == []
    [data] = re.findall(r'<script type="application/json" id="compare-data">(.*?)</script>', anyp)
    assert "<" not in data
    assert json.loads(data)["choices"][1]["aliases"] == [XSS]


# --- the example site ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("example") / "site"
    build(BuildOptions(EXAMPLE_STORE, out))
    return out


def test_example_build_has_comparison_pages(example_site: Path) -> None:
    coll = example_site / "artifacts" / "model" / "weather-classifier"
    pair = (coll / "compare" / "v0..v1.html").read_text(encoding="utf-8")
    second = (coll / "compare" / "v1..v2.html").read_text(encoding="utf-8")
    anyp = (coll / "compare.html").read_text(encoding="utf-8")
    assert (example_site / "assets" / "compare.js").is_file()
    assert (example_site / "assets" / "compare.css").is_file()
    assert (
        example_site / "data" / "artifacts" / "model" / "weather-classifier" / "v2.js"
    ).is_file()
    for marker in (
        'id="summary"',
        'id="metrics"',
        'id="config"',
        'id="metadata"',
        'id="files"',
        'id="contents"',
        'id="curves"',
        'data-key="model.family"',
        'data-state="changed"',
        'data-best="true"',
        'class="chart" data-spec="curve-1"',
        'data-tag="replace"',
        "compare.html#v=0,1",
        'href="v1..v2.html"',
    ):
        assert marker in pair, marker
    assert 'href="v0..v1.html"' in second
    for marker in ('id="compare-data"', 'id="compare-controls"', 'id="compare-nojs"'):
        assert marker in anyp, marker
    assert 'href="compare/v1..v2.html"' in anyp  # no-JS fallback links the pair pages


def test_example_pair_page_agrees_with_the_cli_json(example_site: Path) -> None:
    """The cells the page highlights are the ones `sitegen compare --format json` reports."""
    from sitegen.build import object_reader
    from sitegen.config import load_config
    from sitegen.model import build_model
    from sitegen.sdk.store import Store

    store = Store(EXAMPLE_STORE)
    config = load_config(None, EXAMPLE_STORE)
    proj = build_model(store.load(), config)
    coll = next(c for c in proj.collections if c.ref == "model/weather-classifier")
    result = compare(proj, list(coll.versions[:2]), config, 0, object_reader(store.backend.read))
    html = (
        example_site / "artifacts" / "model" / "weather-classifier" / "compare" / "v0..v1.html"
    ).read_text(encoding="utf-8")
    found = cells_of(html)
    assert found.tables["config"] == states(result["config"])
    assert found.tables["metadata"] == states(result["metadata"])
    assert found.tables["metrics"] == metric_states(result["metrics"], 0)
    modified = {f["path"]: ["changed"] for f in result["files"][0]["modified"]}
    assert found.tables["files"] == modified
    for content in result["contents"]:
        assert f'data-path="{content["path"]}"' in html


@pytest.mark.parametrize(
    "extra",
    [{}, {"description": "ünï <script>alert(1)</script> \u2028", "metadata": {"ü": "&'\""}}],
)
def test_version_data_files_are_each_object_encoded_whole(extra: dict[str, Any]) -> None:
    """``vN.json`` and ``vN.js`` share one encoding of the body: the bytes must be those of
    encoding each whole object (non-ASCII text takes the ASCII-escaped path for the script)."""
    from sitegen.model import build_model
    from sitegen.pages.collection import version_body
    from sitegen.pages.compare import version_files
    from sitegen.sdk.store import Store

    proj = build_model(Store(EXAMPLE_STORE).load(), SiteConfig())
    coll = next(c for c in proj.collections if c.ref == "model/weather-classifier")
    body = {**version_body(proj, coll, 1), **extra}
    data, script = version_files(proj, coll, 1, body)
    assert data.data == json.dumps(
        body, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    assert script.data is not None
    head, _, payload = script.data.decode("ascii").partition('"] = ')
    assert head.endswith('["model/weather-classifier:v1') and payload.endswith(";\n")
    value = json.loads(payload[:-2])
    assert value["history"] and set(value) == {*body, "history"}
    whole = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    assert payload[:-2] == whole.replace("<", "\\u003c").replace(">", "\\u003e")


def test_consecutive_comparisons_read_each_object_once() -> None:
    """v0..v1 then v1..v2 share v1: the plan's reader remembers what the last pages read."""
    from collections import Counter

    from sitegen.build import object_reader
    from sitegen.config import load_config
    from sitegen.model import build_model
    from sitegen.pages import plan_site
    from sitegen.sdk.store import Store

    store = Store(EXAMPLE_STORE)
    config = load_config(None, EXAMPLE_STORE)
    proj = build_model(store.load(), config)
    read_bytes = object_reader(store.backend.read)
    reads: Counter[str] = Counter()

    def read(sha256: str) -> bytes | None:
        reads[sha256] += 1
        return read_bytes(sha256)

    pairs = [
        g for g in plan_site(SITE, proj, config, read) if any("/compare/v" in u for u in g.urls)
    ]
    shared = {u for g in pairs for u in g.urls if "/compare/v1..v2" in u}
    assert shared  # a collection with three versions or more
    for group in pairs:
        group.pages()
    assert len(reads) > 2
    assert max(reads.values()) == 1


def test_recent_objects_keep_the_last_small_ones() -> None:
    reads: list[str] = []
    sizes = {"a": 10, "b": 10, "c": 10, "big": 2000}

    def read(sha256: str) -> bytes | None:
        reads.append(sha256)
        return b"x" * sizes[sha256] if sha256 in sizes else None

    recent = recent_objects(read, keep=2, largest=1000)
    for sha in ("a", "b", "a", "c", "b", "big", "big", "gone", "gone"):
        recent(sha)
    assert recent("a") == b"x" * 10
    # "c" evicts "b" ("a" was used since), "b" then evicts "a"; large or missing: never kept
    assert reads == ["a", "b", "c", "b", "big", "big", "gone", "gone", "a"]
