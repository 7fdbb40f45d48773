"""Pre-encoded JSON fragments, spliced into page scripts by ``tojson_script``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True, slots=True)
class RawJSON:
    """JSON text spliced into :func:`tojson_script`'s output as it is (already encoded)."""

    text: str


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
