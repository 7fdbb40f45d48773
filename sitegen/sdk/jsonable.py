"""Turn what users log (NumPy scalars, tuples, NaN…) into plain JSON values, or say why not."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sitegen.errors import InvalidInput, Problem

MAX_DEPTH = 64


def to_jsonable(value: Any, where: str, depth: int = 0) -> Any:
    """A JSON-safe copy: NumPy scalars via ``.item()``, tuples as lists, NaN/inf as null."""
    if depth > MAX_DEPTH:
        raise InvalidInput(
            [Problem(where, None, "value is nested too deeply (or refers to itself)")]
        )
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, f"{where}.{k}", depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:
        return to_jsonable(item(), where, depth + 1)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return to_jsonable(tolist(), where, depth + 1)
    raise InvalidInput(
        [
            Problem(
                where,
                None,
                f"cannot record a value of type {type(value).__name__}",
                "log numbers, strings, booleans, lists and dicts",
            )
        ]
    )
