"""Store values nested too deeply, or too large once YAML aliases are expanded, are refused.

Python parses JSON nested ~990 levels deep, but pickling, encoding and rendering such a
value recurse again, and a build ended in a ``RecursionError`` traceback. A YAML document
of a few lines whose anchors name anchors (a "billion laughs") expands to billions of
values when walked. Both are refused where files are read, as a located problem: values
may nest :data:`MAX_DEPTH` levels (objects and arrays), a document may hold
:data:`MAX_VALUES` values counting each alias as a copy.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 100
MAX_VALUES = 1_000_000
TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"
HINT = f"sitegen reads values nested at most {MAX_DEPTH} levels deep; flatten the value"
NUMBER_HINT = "integers may have at most 4,300 digits (Python's limit); store it as a string"
Refusal = tuple[str, str]  # why a value is refused, and the hint
DEEP: Refusal = (TOO_DEEP, HINT)  # what a parser's own RecursionError means


def value_problem(error: ValueError) -> str:
    """A parser's ``ValueError`` as users read it: without Python's advice to programmers
    (``int()`` refuses integers of more than 4,300 digits, and says how to lift that)."""
    return str(error).split(";")[0]


def refused(value: Any) -> Refusal | None:
    """:func:`nesting_problem` with its hint."""
    why = nesting_problem(value)
    return None if why is None else (why, HINT)


def refused_number(error: ValueError) -> Refusal:
    return value_problem(error), NUMBER_HINT


def nesting_problem(value: Any) -> str | None:
    """Why a parsed JSON or YAML value is refused, or None; walked without recursion."""
    budget = MAX_VALUES
    stack = [(value, 0)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth >= MAX_DEPTH:
            return TOO_DEEP
        budget -= len(children)
        if budget < 0:
            return f"more than {MAX_VALUES:,} values (with YAML aliases expanded)"
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return None


def may_be_too_deep(text: str | bytes, containers: int = 0) -> bool:
    """Whether JSON ``text`` has enough brackets to nest deeper than :data:`MAX_DEPTH`,
    beyond ``containers`` it is known to hold (a history's rows): when not, parsed values
    need no walk (:func:`nesting_problem`), which is what loading 10,000 manifests does."""
    brace, bracket = ("{", "[") if isinstance(text, str) else (b"{", b"[")
    return text.count(brace) + text.count(bracket) - containers > MAX_DEPTH  # type: ignore[arg-type]
