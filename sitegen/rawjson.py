"""Pre-encoded JSON fragments, spliced into page scripts by ``tojson_script``."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any


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
    """JSON text spliced into :func:`tojson_script`'s output as it is (already encoded)."""

    text: str


_SPLICE = f"\u0000splice-{uuid.uuid4().hex}-"  # unguessable: store strings cannot match it
_SPLICED = re.compile(re.escape(json.dumps(_SPLICE))[:-1] + r'(\d+)"')


def dumps(value: Any, ensure_ascii: bool) -> str:
    """Sorted, compact JSON of ``value`` with its :class:`RawJSON` fragments spliced in."""
    raws: list[str] = []

    def splice(item: Any) -> str:
        if not isinstance(item, RawJSON):
            raise TypeError(f"{type(item).__name__} is not JSON serializable")
        raws.append(item.text)
        return f"{_SPLICE}{len(raws) - 1}"

    text = json.dumps(
        value, ensure_ascii=ensure_ascii, sort_keys=True, separators=(",", ":"), default=splice
    )
    return _SPLICED.sub(lambda match: raws[int(match[1])], text) if raws else text


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
