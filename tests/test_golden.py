"""Golden build of ``example_project/``: any change to the output shows up as a reviewable diff.

Regenerate after an intended change with ``python -m pytest tests/test_golden.py --regen-golden``
and review ``git diff tests/golden``.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, build
from tests.sitecheck import broken_links, tree_bytes

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "example-site"


def test_example_site_matches_golden(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1725000000")
    out = tmp_path / "site"
    build(BuildOptions(ROOT / "example_project" / "store", out))
    assert broken_links(out) == []
    shutil.rmtree(out / "assets")  # verbatim copies of themes/default/static
    if request.config.getoption("--regen-golden"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(out, GOLDEN)
    expected, actual = tree_bytes(GOLDEN), tree_bytes(out)
    assert sorted(actual) == sorted(expected), (
        "files added or removed; regenerate with --regen-golden"
    )
    for name in sorted(expected):
        if expected[name] != actual[name]:
            diff = difflib.unified_diff(
                expected[name].decode(errors="replace").splitlines(),
                actual[name].decode(errors="replace").splitlines(),
                lineterm="",
                n=1,
            )
            pytest.fail(f"{name} differs from the golden copy:\n" + "\n".join(list(diff)[:40]))
