"""Pre-encoded JSON fragments, spliced into page scripts by ``tojson_script``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any


class RawJSON:
    """JSON text spliced into :func:`tojson_script`'s output as it is (already encoded)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawJSON) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return self.text


@lru_cache(maxsize=8192)
def raw_numbers(values: tuple[float, ...]) -> RawJSON:
    """A list of numbers encoded once: a run's curve appears on its run page and on the
    comparison pages of both neighbours, and formatting floats is most of their JSON's cost."""
    return RawJSON(json.dumps(list(values), separators=(",", ":")))


def compact_chart(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A chart spec whose ``step``/``value`` data arrays are pre-encoded fragments."""
    values = [
        {**row, "step": raw_numbers(tuple(row["step"])), "value": raw_numbers(tuple(row["value"]))}
        for row in spec["data"]["values"]
    ]
    return {**spec, "data": {**spec["data"], "values": values}}
