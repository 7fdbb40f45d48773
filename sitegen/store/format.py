"""The store format, in one place: names, keys, canonical JSON and digests.

``docs/format.md`` is the human-readable spec of what this module encodes. The writer
(:mod:`sitegen.store.writer`) and the reader (:mod:`sitegen.store.reader`) both use it,
so the two sides cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

FORMAT_VERSION = 1
ROOT_KEY = "sitegen-store.json"
ARTIFACTS = "artifacts"
RUNS = "runs"
OBJECTS = "objects/sha256"
EVENTS = "events"
EVENT_DIGITS = 12

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}\Z")
ALIAS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
VERSION_RE = re.compile(r"^v(0|[1-9][0-9]{0,8})\Z")
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")
REF_RE = re.compile(
    r"^(?P<type>[a-z0-9][a-z0-9._-]{0,63}/)?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,127})"
    r"(?::(?P<tag>[A-Za-z0-9][A-Za-z0-9._-]{0,63}))?\Z"
)
LATEST = "latest"

NAME_RULE = "1-128 characters: letters, digits, '.', '_', '-', starting with a letter or digit"
TYPE_RULE = "1-64 characters: lowercase letters, digits, '.', '_', '-'"
ALIAS_RULE = (
    "1-64 characters: letters, digits, '.', '_', '-'; not 'latest' (automatic) and not "
    "a version like 'v3'"
)


def check_name(name: object) -> str | None:
    """Why ``name`` is not a valid collection name, or None."""
    if not isinstance(name, str) or not NAME_RE.match(name) or name in {".", ".."}:
        return f"invalid artifact name {name!r}: use {NAME_RULE}"
    return None


def check_type(type_: object) -> str | None:
    if not isinstance(type_, str) or not TYPE_RE.match(type_):
        return f"invalid artifact type {type_!r}: use {TYPE_RULE}"
    return None


def check_alias(alias: object) -> str | None:
    """Why ``alias`` cannot be set by a user, or None."""
    if not isinstance(alias, str) or not ALIAS_RE.match(alias):
        return f"invalid alias {alias!r}: use {ALIAS_RULE}"
    if alias == LATEST or VERSION_RE.match(alias):
        return f"alias {alias!r} is reserved: 'latest' and 'vN' are set automatically"
    return None


def check_run_id(run_id: object) -> str | None:
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id):
        return f"invalid run id {run_id!r}: use 1-64 letters, digits, '_' or '-'"
    return None


_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_PERCENT_RE = re.compile(r"%[0-9A-Fa-f]{2}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc


def check_file_path(path: object) -> str | None:
    """Why a manifest path is unsafe, or None. Paths are untrusted input."""
    if isinstance(path, str) and is_plain_path(path):
        return None
    if not isinstance(path, str) or not path:
        return f"invalid file path {path!r}: must be a non-empty string"
    reasons = [
        ("\x00" in path, "contains a NUL byte"),
        ("\\" in path, "contains a backslash; use '/'"),
        (path.startswith("/") or bool(_DRIVE_RE.match(path)), "is absolute"),
        (
            any(seg in {"", ".", ".."} for seg in path.split("/")),
            "has an empty, '.' or '..' segment",
        ),
        (bool(_PERCENT_RE.search(path)), "contains a percent-encoded escape"),
        (bool(_CONTROL_RE.search(path)), "contains a control character"),
        (len(path.encode("utf-8")) > 1024, "is longer than 1024 bytes"),
    ]
    for bad, why in reasons:
        if bad:
            return f"unsafe file path {path!r}: {why}"
    return None


def fold_path(path: str) -> str:
    """The key under which two paths collide on case-insensitive, normalising filesystems."""
    return unicodedata.normalize("NFC", path).casefold()


def casefold_collisions(paths: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of paths that name the same file on a case-insensitive filesystem."""
    seen: dict[str, str] = {}
    clashes: list[tuple[str, str]] = []
    for path in sorted(paths):
        folded = path.lower() if path.isascii() else fold_path(path)
        if folded in seen:
            clashes.append((seen[folded], path))
        else:
            seen[folded] = path
    return clashes


def canonical_json(value: Any) -> bytes:
    """The one serialisation of records: sorted keys, 2-space indent, UTF-8, final newline."""
    text = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_digest(files: Mapping[str, Mapping[str, Any]]) -> str:
    """A version's identity: sha256 over one JSON line ``[path, sha256, size, ref]`` per file.

    Files are sorted by path; JSON encoding keeps paths and URIs unambiguous (a ``:`` or a
    newline in a name cannot make two different file sets hash alike). Only content counts
    (like W&B's manifest digest): the same files logged again are the same version.
    """
    return entries_digest(
        [(path, e["sha256"], e["size"], e.get("ref") or None) for path, e in sorted(files.items())]
    )


def entries_digest(entries: Sequence[tuple[str, str, Any, str | None]]) -> str:
    """:func:`content_digest` of ``(path, sha256, size, ref)`` tuples already sorted by path."""
    if _all_plain(entries):
        return _plain_digest(entries)
    lines = [_DIGEST_LINE.encode(list(entry)) + "\n" for entry in entries]
    return sha256_hex("".join(lines).encode("utf-8"))


def _plain_digest(entries: Sequence[tuple[str, str, Any, str | None]]) -> str:
    lines = [
        f'["{p}","{s}",{n},null]\n' if r is None else f'["{p}","{s}",{n},"{r}"]\n'
        for p, s, n, r in entries
    ]
    return sha256_hex("".join(lines).encode("utf-8"))


_DIGEST_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# Paths and URIs that are safe at a glance (plain ASCII, nothing JSON would escape), checked in
# bulk, one regex over many values joined by newlines; anything else takes the full check.
_PLAIN_PATH_RE = re.compile(r"[A-Za-z0-9_+=,@~ ./-]+(?:\n[A-Za-z0-9_+=,@~ ./-]+)*")
_URI = r"[A-Za-z][A-Za-z0-9+.-]*://[!#-\[\]-~]+"
_PLAIN_URI_RE = re.compile(f"{_URI}(?:\n{_URI})*")
_NOT_HEX = str.maketrans("", "", "0123456789abcdef")


def is_plain_path(path: str) -> bool:
    """A path that passes :func:`check_file_path` at a glance (the common case)."""
    return _plain_paths([path])


def is_plain_uri(uri: str) -> bool:
    """A reference URI that passes :func:`check_reference_uri` at a glance."""
    return _joined_if_every_line_matches(_PLAIN_URI_RE, [uri], 2048) is not None


def _joined_if_every_line_matches(
    pattern: re.Pattern[str], items: Sequence[str], limit: int
) -> str | None:
    """The items joined by newlines if one regex over them matches; none may hold a newline."""
    if not items:
        return ""
    joined = "\n".join(items)
    if (
        max(map(len, items)) <= limit
        and joined.count("\n") == len(items) - 1
        and pattern.fullmatch(joined) is not None
    ):
        return joined
    return None


def _plain_paths(paths: Sequence[str]) -> bool:
    """Plain paths: printable ASCII that JSON does not escape, relative, no empty, '.' or
    '..' segment, at most 1024 bytes."""
    joined = _joined_if_every_line_matches(_PLAIN_PATH_RE, paths, 1024) if paths else None
    return (
        joined is not None
        and joined[0] not in "./"
        and joined[-1] != "/"
        and not any(bad in joined for bad in ("/.", "//", "\n.", "\n/", "/\n"))
    )


def _all_sha256(shas: Sequence[str]) -> bool:
    return set(map(len, shas)) == {64} and not "".join(shas).translate(_NOT_HEX)


def _all_plain(entries: Sequence[tuple[Any, Any, Any, Any]]) -> bool:
    """Every entry plain; the columns checked a type at a time (``set(map(type, …))``: no
    Python code per entry, half a million entries at 10,000 versions)."""
    if not entries:
        return False
    paths, shas, sizes, refs = zip(*entries, strict=True)
    uris = [ref for ref in refs if ref is not None] if refs.count(None) != len(refs) else []
    return (
        set(map(type, paths)) == _STR == set(map(type, shas))
        and set(map(type, sizes)) == _INT
        and set(map(type, uris)) <= _STR
        and _plain_paths(paths)
        and _all_sha256(shas)
        and _joined_if_every_line_matches(_PLAIN_URI_RE, uris, 2048) is not None
    )


_STR, _INT = {str}, {int}


def plain_files(
    files: Mapping[Any, Any],
) -> tuple[list[tuple[str, str, int, str | None]], str] | None:
    """A manifest's ``files`` as sorted ``(path, sha256, size, ref)`` and their content
    digest, when every entry is plain.

    Checked in bulk (one regex over all paths, one over all digests, one over all URIs): that
    is what makes loading 10,000 manifests of 50 files fast. None means: check each entry.
    """
    if not files or set(map(type, files)) != _STR or set(map(type, files.values())) != {dict}:
        return None
    items = sorted(files.items())  # by path alone: the paths are distinct strings
    entries = [(p, e.get("sha256"), e.get("size"), e.get("ref")) for p, e in items]
    if not _all_plain(entries) or min(map(itemgetter(2), entries)) < 0:
        return None
    if len(set(map(str.lower, files))) != len(entries):
        return None
    return entries, _plain_digest(entries)


def check_reference_uri(uri: object) -> str | None:
    """Why a reference URI is unusable, or None: it needs a scheme and no control characters."""
    if isinstance(uri, str) and is_plain_uri(uri):
        return None
    if (
        not isinstance(uri, str)
        or not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$", uri)
        or len(uri) > 2048
    ):
        return f"invalid reference URI {uri!r}: expected scheme://location without spaces, at most 2048 characters"
    if _CONTROL_RE.search(uri):
        return f"invalid reference URI {uri!r}: contains a control character"
    return None


def collection_key(type_: str, name: str) -> str:
    return f"{ARTIFACTS}/{type_}/{name}"


def manifest_key(type_: str, name: str, version: int) -> str:
    return f"{collection_key(type_, name)}/v{version}/manifest.json"


def run_key(run_id: str) -> str:
    return f"{RUNS}/{run_id}/run.json"


def history_key(run_id: str) -> str:
    return f"{RUNS}/{run_id}/history.jsonl"


def object_key(sha256: str) -> str:
    return f"{OBJECTS}/{sha256[:2]}/{sha256[2:]}"


def event_key(seq: int) -> str:
    return f"{EVENTS}/{seq:0{EVENT_DIGITS}d}.json"


def parse_event_name(name: str) -> int | None:
    stem, dot, ext = name.partition(".")
    if ext != "json" or not dot or len(stem) != EVENT_DIGITS or not stem.isdigit():
        return None
    return int(stem)


def format_ref(type_: str, name: str, version: int) -> str:
    return f"{type_}/{name}:v{version}"
