"""Site integrity: SHA256SUMS, an in-toto provenance statement, verify-site and a
deterministic zip for attaching a site to an audit."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from sitegen.errors import Problem
from sitegen.write import walk_files

SUMS = "SHA256SUMS"
PROVENANCE = "provenance.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://github.com/sitegen/sitegen/provenance/v1"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

ascii_json_string: Callable[[str], str] = json.encoder.encode_basestring_ascii


def site_files(
    root: Path,
    exclude: tuple[str, ...] = (SUMS, PROVENANCE),
    known: Mapping[str, str] | None = None,
    listed: Collection[str] | None = None,
) -> dict[str, str]:
    """Relative path -> sha256 of every file in the site, sorted; ``known`` hashes are reused.

    ``listed``: the site's files when the caller knows them (a rebuild has just listed the
    output to delete stale files), instead of listing the folder again; a name listed twice
    counts once.
    """
    known = known or {}
    out = {}
    names = walk_files(str(root), follow_symlinks=True) if listed is None else listed
    for rel in sorted(names):
        if rel not in exclude and rel not in out:
            out[rel] = known.get(rel) or _sha256_file(os.path.join(root, rel))
    return out


def _sha256_file(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def statement(subjects: Mapping[str, str], predicate: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": name, "digest": {"sha256": sha}} for name, sha in sorted(subjects.items())
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": dict(predicate),
    }


def statement_text(subjects: Mapping[str, str], predicate: Mapping[str, Any]) -> str:
    """``json.dumps(statement(...), indent=1, sort_keys=True)`` plus a newline, written
    directly: Python's indenting encoder takes half a second for 40,000 subjects."""
    head = json.dumps(statement({}, predicate), indent=1, sort_keys=True)
    if not subjects:
        return head + "\n"
    items = ",\n".join(
        f'  {{\n   "digest": {{\n    "sha256": "{sha}"\n   }},\n   "name": {ascii_json_string(name)}\n  }}'
        for name, sha in sorted(subjects.items())
    )
    before, _, after = head.rpartition('"subject": []')  # the last key, sorted
    return f'{before}"subject": [\n{items}\n ]{after}\n'


def seal_site(root: Path, predicate: Mapping[str, Any], subjects: Mapping[str, str]) -> None:
    """Write provenance.json (its subjects: every file of the site but the seal's two, with
    its sha256; see :func:`site_files`) then SHA256SUMS (every file but itself)."""
    body = statement_text(subjects, predicate).encode()
    (root / PROVENANCE).write_bytes(body)
    sums = dict(sorted({**subjects, PROVENANCE: hashlib.sha256(body).hexdigest()}.items()))
    (root / SUMS).write_bytes("".join(f"{sha}  {name}\n" for name, sha in sums.items()).encode())


def verify_site(root: Path) -> list[Problem]:
    """Every file matches SHA256SUMS and provenance.json; nothing added or missing."""
    sums_path = root / SUMS
    if not sums_path.is_file():
        return [Problem(str(sums_path), None, "missing", "was this site built by sitegen?")]
    problems: list[Problem] = []
    recorded: dict[str, str] = {}
    for lineno, line in enumerate(sums_path.read_text(encoding="utf-8").splitlines(), 1):
        sha, sep, name = line.partition("  ")
        if not sep or len(sha) != 64:
            problems.append(Problem(str(sums_path), lineno, "malformed line"))
            continue
        recorded[name] = sha
    actual = site_files(root, exclude=(SUMS,))
    problems.extend(_compare(str(sums_path), recorded, actual))
    problems.extend(_check_provenance(root, actual))
    return problems


def _compare(where: str, recorded: Mapping[str, str], actual: Mapping[str, str]) -> list[Problem]:
    problems = []
    for name in sorted(set(recorded) | set(actual)):
        if name not in actual:
            problems.append(Problem(where, None, f"{name} is listed but missing from the site"))
        elif name not in recorded:
            problems.append(Problem(where, None, f"{name} was added after the site was built"))
        elif recorded[name] != actual[name]:
            problems.append(Problem(where, None, f"{name} was modified after the site was built"))
    return problems


def _check_provenance(root: Path, actual: Mapping[str, str]) -> list[Problem]:
    path = root / PROVENANCE
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        subjects = {s["name"]: s["digest"]["sha256"] for s in body["subject"]}
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        return [Problem(str(path), None, f"unreadable provenance: {exc}")]
    return _compare(str(path), subjects, {k: v for k, v in actual.items() if k != PROVENANCE})


def write_zip(root: Path, target: Path) -> None:
    """A byte-for-byte reproducible zip: sorted entries, fixed times and permissions."""
    tmp = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=ZIP_EPOCH)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes(), compresslevel=9)
    tmp.replace(target)
