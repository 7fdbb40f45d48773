"""Regression gates (``sitegen diff --fail-on``): grammar, positions, thresholds, exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import sitegen
from sitegen.cli import main
from sitegen.errors import UsageError
from sitegen.gates import Gate, GateSyntaxError, parse_gate, parse_gates
from tests.helpers import make_files

# --- grammar -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metric", "op", "threshold", "relative"),
    [
        ("accuracy < -0.01", "accuracy", "<", -0.01, False),
        ("latency_ms > +10%", "latency_ms", ">", 10.0, True),
        ("loss>=0.5", "loss", ">=", 0.5, False),
        ("  f1 <= 1e-3  ", "f1", "<=", 0.001, False),
        ("*_loss > 5 %", "*_loss", ">", 5.0, True),
        ("val/acc<.5", "val/acc", "<", 0.5, False),
        ("accuracy <= -2.%", "accuracy", "<=", -2.0, True),
        ("eval.top-1 >= 0", "eval.top-1", ">=", 0.0, False),
    ],
)
def test_valid_gates(text: str, metric: str, op: str, threshold: float, relative: bool) -> None:
    gate = parse_gate(text)
    assert (gate.metric, gate.op, gate.threshold, gate.relative) == (
        metric,
        op,
        threshold,
        relative,
    )
    assert gate.text == text.strip()


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("", 0, "empty gate"),
        ("   ", 3, "empty gate"),
        ("accuracy", 8, "expected an operator (< <= > >=) but the expression ends"),
        ("accuracy == 0.1", 9, "'==' is not an operator"),
        ("accuracy = 0.1", 9, "'=' is not an operator"),
        ("accuracy != 0.1", 9, "'!=' is not an operator"),
        ("accuracy => 1", 9, "'=>' is not an operator"),
        ("accuracy < abc", 11, "expected a number"),
        ("accuracy <", 10, "expected a number such as -0.01 or +10% but the expression ends"),
        ("accuracy < 0.1 extra", 15, "unexpected text after the threshold"),
        ("accuracy < 10%%", 14, "unexpected text after the threshold"),
        ("accuracy < - 1", 11, "expected a number"),
        ("< 0.1", 0, "expected a metric name"),
        ("val acc < 1", 4, "expected an operator"),
        ("acc ≤ 1", 4, "expected an operator"),
        ("acc < 1e", 7, "unexpected text after the threshold"),
    ],
)
def test_malformed_gates_name_the_position(text: str, position: int, reason: str) -> None:
    with pytest.raises(GateSyntaxError) as caught:
        parse_gate(text)
    error = caught.value
    assert isinstance(error, UsageError)
    assert (error.position, error.reason.startswith(reason.split(" but ")[0])) == (position, True)
    problem = error.problems[0]
    assert problem.path == "--fail-on" and problem.hint and "METRIC OP NUMBER[%]" in problem.hint
    first, shown, caret = problem.message.splitlines()
    assert f"column {position + 1}: {reason}" in first
    assert shown == "    " + text and caret == "    " + " " * position + "^"


def test_parse_gates_stops_at_the_first_bad_one() -> None:
    assert len(parse_gates(["a < 1", "b > 2%"])) == 2
    with pytest.raises(GateSyntaxError) as caught:
        parse_gates(["a < 1", "b >> 2"])
    assert caught.value.position == 3


# --- thresholds ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "abs_delta", "pct", "trips"),
    [
        ("accuracy < -0.01", -0.01, -1.0, False),  # exactly at the threshold: strict
        ("accuracy < -0.01", -0.010001, -1.0, True),
        ("accuracy <= -0.01", -0.01, -1.0, True),
        ("accuracy <= -0.01", -0.009999, -1.0, False),
        ("latency_ms > +10%", 5.0, 10.0, False),
        ("latency_ms > +10%", 5.0, 10.000001, True),
        ("latency_ms >= 10%", 5.0, 10.0, True),
        ("latency_ms >= 10%", 5.0, 9.999999, False),
        ("latency_ms > 10%", 50.0, None, None),  # no relative delta (baseline 0): not checked
        ("accuracy < 0", None, None, None),
    ],
)
def test_trips_at_the_exact_threshold(
    text: str, abs_delta: float | None, pct: float | None, trips: bool | None
) -> None:
    assert parse_gate(text).trips(abs_delta, pct) is trips


def test_metric_globs() -> None:
    gate = Gate("*_loss > 0", "*_loss", ">", 0.0, False)
    assert gate.matches("val_loss") and gate.matches("train_loss")
    assert not gate.matches("loss") and not gate.matches("val_loss_ema")


# --- through the CLI -------------------------------------------------------------------------------


def _model(store: Path, work: Path, run_id: str, summary: dict[str, float], weights: str) -> None:
    clock = sitegen.FixedClock("2024-05-01T00:00:00Z")
    with sitegen.init(
        store=store, project="gates", job_type="train", id=run_id, clock=clock, user="u",
        host="h", git={},
    ) as run:  # fmt: skip
        run.log(summary)
        art = sitegen.Artifact("clf", type="model")
        art.add_dir(make_files(work / run_id, {"w.bin": weights}))
        run.log_artifact(art, aliases=["production"] if run_id == "r0" else [])


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """v0 (production): accuracy 0.90, latency 100, drift 0; v1: 0.89, 110, 3."""
    root = tmp_path_factory.mktemp("gates")
    base, head = root / "base", root / "head"
    _model(base, root, "r0", {"accuracy": 0.90, "latency_ms": 100.0, "drift": 0.0}, "a")
    shutil.copytree(base, head)
    _model(head, root, "r1", {"accuracy": 0.89, "latency_ms": 110.0, "drift": 3.0}, "b")
    return str(base), str(head)


@pytest.mark.parametrize(
    ("gates", "code"),
    [
        ([], 0),
        (["accuracy < -0.01"], 0),  # delta is exactly -0.01
        (["accuracy <= -0.01"], 3),
        (["accuracy < -0.009"], 3),
        (["latency_ms > +10%"], 0),  # +10% exactly
        (["latency_ms >= +10%"], 3),
        (["latency_ms > 9.99%"], 3),
        (["latency_ms > 10"], 0),  # absolute: +10 is not > 10
        (["accuracy < -0.01", "latency_ms > +10%"], 0),
        (["accuracy < -0.01", "latency_ms >= +10%"], 3),
        (["drift > 1%"], 0),  # baseline 0: no relative delta, not checked
        (["drift > 1"], 3),
        (["*ms > 5%"], 3),
    ],
)
def test_exit_codes(
    stores: tuple[str, str], capsys: pytest.CaptureFixture[str], gates: list[str], code: int
) -> None:
    argv = ["diff", *stores, "--format", "md"]
    for gate in gates:
        argv += ["--fail-on", gate]
    assert main(argv) == code
    out = capsys.readouterr().out
    if code == 3:
        assert "**✖ FAILED" in out and "**✖ GATE**" in out
    elif gates:
        assert "**✖ GATE**" not in out and "✔ passed" in out


def test_tripping_rows_are_marked(
    stores: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["diff", *stores, "--format", "md", "--fail-on", "accuracy <= -0.01",
                 "--fail-on", "latency_ms > +10%"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 3
    rows = {
        line.split(" | ")[0].strip("| "): line for line in out.splitlines() if line.startswith("| ")
    }
    assert rows["accuracy ↑"].endswith("▼ worse · **✖ GATE** `accuracy <= -0.01` |")
    assert "GATE" not in rows["latency_ms ↓"]
    assert rows["`accuracy <= -0.01`"].split(" | ")[1] == "**✖ FAIL**"
    assert rows["`latency_ms > +10%`"].split(" | ")[1] == "✔ pass"


def test_malformed_gate_is_exit_2_with_a_caret(
    stores: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", *stores, "--fail-on", "accuracy < 1", "--fail-on", "latency_ms >> 5"]) == 2
    err = capsys.readouterr().err
    assert "--fail-on: 'latency_ms >> 5', column 13: expected a number" in err
    assert "\n    latency_ms >> 5\n                ^\n" in err
    assert "Traceback" not in err


def test_gate_matching_nothing_warns(
    stores: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", *stores, "--fail-on", "acuracy < -0.01"]) == 0
    captured = capsys.readouterr()
    assert "gate 'acuracy < -0.01' checked nothing" in captured.err
    assert "not evaluated" in captured.out
