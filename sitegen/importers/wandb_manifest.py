"""W&B artifact manifests (``wandb_manifest.json``, version 1): check, resolve, hash.

A manifest maps each path to ``{digest, size[, ref]}``; ``digest`` is the base64 MD5 of
the file (or, for references to object stores, the object's ETag). W&B's digest of the
whole manifest is the hex MD5 of ``"wandb-artifact-manifest-v1\\n"`` followed by one
``"<path>:<digest>\\n"`` line per entry, sorted by path (``ArtifactManifestV1.digest`` in
the wandb SDK). Entries tagged ``extra.alg == "XXH128"`` (opt-in since wandb 0.2x) use
xxHash, which the standard library cannot compute: they are imported unchecked, with a
warning.

File bytes are looked for in ``<version dir>/files/<path>`` (what ``artifact.download()``
writes) and then in the client's cache ``SRC/cache/obj/md5/<2 hex>/<30 hex>``. Every copy
is checked against the manifest's MD5 and size before it is used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitegen.importers.common import PATH_HINT, FileSpec, ImportPlan, hash_file, mapping, safe_join

DIGEST_HEADER = b"wandb-artifact-manifest-v1\n"


@dataclass(frozen=True)
class Entry:
    path: str
    digest: str
    size: int | None
    ref: str | None
    xxh128: bool


def manifest_digest(entries: Mapping[str, str]) -> str:
    """W&B's digest of a manifest: MD5 over the header and sorted ``path:digest`` lines."""
    md5 = hashlib.md5(DIGEST_HEADER, usedforsecurity=False)
    for path in sorted(entries):
        md5.update(f"{path}:{entries[path]}\n".encode())
    return md5.hexdigest()


def b64_md5_hex(digest: str) -> str | None:
    """The hex form of a base64 MD5 digest, or None if it is not one (an ETag, a URI)."""
    try:
        raw = base64.b64decode(digest, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 16 else None


def read_manifest(path: Path, where: str, plan: ImportPlan) -> list[Entry] | None:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        plan.error(where, f"not a readable JSON manifest: {exc}")
        return None
    if (
        not isinstance(data, dict)
        or data.get("version") != 1
        or not isinstance(data.get("contents"), dict)
    ):
        plan.error(
            where, "not a W&B manifest of version 1", "expected {'version': 1, 'contents': {...}}"
        )
        return None
    entries = []
    for key, raw in sorted(data["contents"].items()):
        entry = _entry(key, raw, where, plan)
        if entry is not None:
            entries.append(entry)
    return entries


def _entry(key: str, raw: Any, where: str, plan: ImportPlan) -> Entry | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("digest"), str):
        plan.error(f"{where}: {key!r}", "manifest entry needs a string 'digest'")
        return None
    size = raw.get("size")
    ref = raw.get("ref")
    extra = mapping(raw.get("extra"))
    return Entry(
        key,
        raw["digest"],
        size if type(size) is int and size >= 0 else None,
        ref if isinstance(ref, str) and ref else None,
        extra.get("alg") == "XXH128",
    )


def resolve(
    entry: Entry, folder: Path, cache: Path, where: str, plan: ImportPlan
) -> FileSpec | None:
    """The entry as a sitegen file (hashed now), or None with a problem saying why."""
    target, why = safe_join(folder / "files", entry.path)
    if why is not None:
        plan.error(f"{where}: {entry.path!r}", why, PATH_HINT)
        return None
    for candidate in _candidates(entry, target, cache):
        if not candidate.is_file() or candidate.is_symlink():
            continue
        sha, md5_hex, size = hash_file(candidate)
        problem = _mismatch(entry, md5_hex, size)
        if problem is not None:
            plan.error(
                f"{where}: {entry.path!r}",
                f"{candidate.name}: {problem}",
                "the copy is corrupted or was changed",
            )
            return None
        if entry.ref is not None:
            return FileSpec(entry.path, sha, size, ref=entry.ref)
        return FileSpec(entry.path, sha, size, local=candidate)
    plan.warn(
        f"{where}: {entry.path!r}",
        "the file's bytes are not in files/ nor in the artifact cache",
        "download the artifact (artifact.download()) into files/ beside the manifest; the version was not imported",
    )
    return None


def _candidates(entry: Entry, target: Path | None, cache: Path) -> list[Path]:
    found = [target] if target is not None else []
    hex_digest = b64_md5_hex(entry.digest) if not entry.xxh128 else None
    if hex_digest is not None and entry.ref is None:
        found.append(cache / "obj" / "md5" / hex_digest[:2] / hex_digest[2:])
    return found


def _mismatch(entry: Entry, md5_hex: str, size: int) -> str | None:
    if entry.size is not None and entry.size != size:
        return f"size {size} does not match the manifest's {entry.size}"
    if entry.xxh128:
        return None
    expected = b64_md5_hex(entry.digest)
    if expected is None:
        return None if entry.ref is not None else f"digest {entry.digest!r} is not a base64 MD5"
    if expected != md5_hex:
        return "MD5 does not match the manifest's digest"
    return None
