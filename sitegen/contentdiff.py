"""Diffs of file contents: text (unified and side by side), JSON/YAML (structural), CSV.

Pure functions over bytes. Anything that cannot be diffed says why instead.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import statistics
from collections.abc import Mapping
from typing import Any

import yaml

from sitegen.store.nesting import TOO_DEEP, nesting_problem, value_problem

MAX_DIFF_LINES = 2000
STRUCTURED = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def decode_text(data: bytes) -> str | None:
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def kind_of(path: str) -> str:
    lower = path.lower()
    for ext, kind in STRUCTURED.items():
        if lower.endswith(ext):
            return kind
    return "csv" if lower.endswith((".csv", ".tsv")) else "text"


def unified(path: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), f"a/{path}", f"b/{path}", lineterm="", n=3
    )
    out = list(lines)[:MAX_DIFF_LINES]
    return "\n".join(out)


def side_by_side(old: str, new: str) -> list[dict[str, Any]]:
    """Rows of (left line no, left, right line no, right, tag) with unchanged runs trimmed."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[dict[str, Any]] = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(2):
        if rows:
            rows.append({"tag": "gap", "ln": None, "left": "", "rn": None, "right": ""})
        for tag, i1, i2, j1, j2 in group:
            for k in range(max(i2 - i1, j2 - j1)):
                li, rj = i1 + k, j1 + k
                rows.append(
                    {
                        "tag": tag,
                        "ln": li + 1 if li < i2 else None,
                        "left": a[li] if li < i2 else "",
                        "rn": rj + 1 if rj < j2 else None,
                        "right": b[rj] if rj < j2 else "",
                    }
                )
        if len(rows) > MAX_DIFF_LINES:
            break
    return rows[:MAX_DIFF_LINES]


def flatten_values(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaf values; list items are indexed ``key[3]``."""
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for key in sorted(value, key=str):
            out.update(flatten_values(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value and len(value) <= 200:
        out = {}
        for i, item in enumerate(value):
            out.update(flatten_values(item, f"{prefix}[{i}]"))
        return out
    return {prefix or "(root)": value}


def structural(old: Any, new: Any) -> list[dict[str, Any]]:
    a, b = flatten_values(old), flatten_values(new)
    rows = []
    for key in sorted(set(a) | set(b)):
        if key not in a:
            rows.append({"key": key, "change": "added", "old": None, "new": display_value(b[key])})
        elif key not in b:
            rows.append(
                {"key": key, "change": "removed", "old": display_value(a[key]), "new": None}
            )
        elif a[key] != b[key]:
            rows.append(
                {
                    "key": key,
                    "change": "changed",
                    "old": display_value(a[key]),
                    "new": display_value(b[key]),
                }
            )
    return rows


def display_value(value: Any) -> str:
    """A value as people read it: strings bare, everything else as JSON with sorted keys."""
    if isinstance(value, str):
        return value
    kind = type(value)
    if kind is int or (kind is float and math.isfinite(value)):
        return repr(value)  # what json.dumps writes for them, without building an encoder
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def parse_structured(kind: str, text: str) -> tuple[Any, str | None]:
    """The parsed file, or why it cannot be compared by structure (stored files are hostile
    input: see :mod:`sitegen.store.nesting`)."""
    try:
        if kind == "json":
            value = json.loads(text)
        else:
            value = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        why = nesting_problem(value)
    except (ValueError, yaml.YAMLError) as exc:
        why = value_problem(exc) if isinstance(exc, ValueError) else str(exc)
        return None, f"not valid {kind.upper()}: {why.splitlines()[0]}"
    except RecursionError:
        why = TOO_DEEP
    return (None, f"not compared by structure: {why}") if why else (value, None)


def csv_summary(text: str, path: str) -> dict[str, Any]:
    dialect = "excel-tab" if path.lower().endswith(".tsv") else "excel"
    rows = list(csv.reader(io.StringIO(text), dialect=dialect))
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    columns = {}
    for index, name in enumerate(header):
        values = [r[index] for r in body if index < len(r) and r[index] != ""]
        numbers = _numbers(values)
        if numbers is not None and numbers:
            columns[name] = {
                "kind": "number",
                "mean": round(statistics.fmean(numbers), 6),
                "min": min(numbers),
                "max": max(numbers),
                "missing": len(body) - len(values),
            }
        else:
            columns[name] = {
                "kind": "text",
                "distinct": len(set(values)),
                "missing": len(body) - len(values),
            }
    return {"rows": len(body), "columns": columns}


def _numbers(values: list[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def csv_diff(old: str, new: str, path: str) -> dict[str, Any]:
    a, b = csv_summary(old, path), csv_summary(new, path)
    ca, cb = a["columns"], b["columns"]
    changed = [{"column": c, "old": ca[c], "new": cb[c]} for c in ca if c in cb and ca[c] != cb[c]]
    return {
        "rows_old": a["rows"],
        "rows_new": b["rows"],
        "added": [c for c in cb if c not in ca],
        "removed": [c for c in ca if c not in cb],
        "changed": changed,
    }


def diff_contents(path: str, old: bytes, new: bytes) -> dict[str, Any]:
    """The richest diff the bytes allow, with ``reason`` when only digests can be compared."""
    old_text, new_text = decode_text(old), decode_text(new)
    if old_text is None or new_text is None:
        return {
            "path": path,
            "kind": "binary",
            "reason": "binary or not UTF-8 text: compared by digest and size",
        }
    kind = kind_of(path)
    result: dict[str, Any] = {
        "path": path,
        "kind": kind,
        "reason": None,
        "unified": unified(path, old_text, new_text),
        "side_by_side": side_by_side(old_text, new_text),
    }
    if kind in ("json", "yaml"):
        a, err_a = parse_structured(kind, old_text)
        b, err_b = parse_structured(kind, new_text)
        if err_a or err_b:
            result["reason"] = err_a or err_b
        else:
            result["structural"] = structural(a, b)
    elif kind == "csv":
        result["csv"] = csv_diff(old_text, new_text, path)
    return result
