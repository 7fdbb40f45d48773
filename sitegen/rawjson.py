"""Pre-encoded JSON fragments, spliced into page scripts by ``tojson_script``."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

json_string: Callable[[str], str] = json.encoder.encode_basestring
"""``json.dumps(text, ensure_ascii=False)`` of a ``str`` without its Python layers (a new
encoder per call): page scripts quote thousands of names and links."""


def many_encoder(
    *,
    sort_keys: bool = True,
    ensure_ascii: bool = True,
    separators: tuple[str, str] = (", ", ": "),
    default: Callable[[Any], Any] | None = None,
) -> Callable[[Any], str]:
    """``json.JSONEncoder(...).encode`` for encoding many small values, such as the 27,000
    rows of a 10,000-version lineage export: ``encode`` builds a C encoder for every value
    (a third of its time); this one is built once. Same text; Python's encoder where the C
    one is missing."""
    encoder = json.JSONEncoder(
        sort_keys=sort_keys, ensure_ascii=ensure_ascii, separators=separators, default=default
    )
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return encoder.encode
    strings = (
        json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    )
    item, key = separators
    encode = make(None, encoder.default, strings, None, key, item, sort_keys, False, True)
    return lambda value: "".join(encode(value, 0))


@dataclass(frozen=True, slots=True)
class RawJSON:
    """JSON text spliced into :func:`tojson_script`'s output as it is (already encoded).

    ``script``: the same text escaped for a ``<script>`` element (:func:`script_escape`),
    when its maker has it for less than a scan of the text (a curve's numbers need none).
    """

    text: str
    script: str | None = None

    @property
    def script_text(self) -> str:
        return script_escape(self.text) if self.script is None else self.script


def script_escape(text: str) -> str:
    """JSON text safe inside ``<script type="application/json">``: no ``</script>``, no
    ``<!--``, no line separators (JavaScript reads those as line ends); the same JSON value."""
    for raw, escaped in _SCRIPT_ESCAPES:
        text = text.replace(raw, escaped)
    return text


_SCRIPT_ESCAPES = (
    ("&", "\\u0026"),
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)
_SPLICE = f"\u0000splice-{uuid.uuid4().hex}-"  # unguessable: store strings cannot match it
_SPLICED = re.compile(re.escape(json.dumps(_SPLICE))[:-1] + r'(\d+)"')
_PENDING = threading.local()  # the fragments met by the encoding under way in this thread


def _placeholder(item: Any) -> str:
    if not isinstance(item, RawJSON):
        raise TypeError(f"{type(item).__name__} is not JSON serializable")
    raws: list[RawJSON] = _PENDING.raws
    raws.append(item)
    return f"{_SPLICE}{len(raws) - 1}"


def _compact(ensure_ascii: bool) -> Callable[[Any], str]:
    return many_encoder(ensure_ascii=ensure_ascii, separators=(",", ":"), default=_placeholder)


_ENCODE = {True: _compact(True), False: _compact(False)}


def encode(value: Any, ensure_ascii: bool) -> tuple[str, list[RawJSON]]:
    """Sorted, compact JSON of ``value`` with a placeholder for each :class:`RawJSON`, and
    those fragments in order (see :func:`splice`)."""
    raws: list[RawJSON] = []
    _PENDING.raws = raws
    try:
        return _ENCODE[ensure_ascii](value), raws
    finally:
        _PENDING.raws = None


def splice(text: str, fragments: list[str]) -> str:
    """``text`` from :func:`encode` with its placeholders replaced by ``fragments``."""
    return _SPLICED.sub(lambda match: fragments[int(match[1])], text) if fragments else text


def dumps(value: Any, ensure_ascii: bool) -> str:
    """Sorted, compact JSON of ``value`` with its :class:`RawJSON` fragments spliced in."""
    text, raws = encode(value, ensure_ascii)
    return splice(text, [raw.text for raw in raws])


class RawValues(Mapping[str, RawJSON]):
    """A mapping's values, each encoded (sorted, compact, not ASCII-escaped: the way
    :func:`~sitegen.filters.tojson_script` writes them) the first time it is asked for.

    A lineage node's details go into the panel of every page within three hops of it.
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values
        self._encoded: dict[str, RawJSON] = {}

    def __getitem__(self, key: str) -> RawJSON:
        raw = self._encoded.get(key)
        if raw is None:
            raw = self._encoded[key] = RawJSON(dumps(self._values[key], ensure_ascii=False))
        return raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
