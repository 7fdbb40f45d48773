"""Regression gates: ``--fail-on "accuracy < -0.01"`` and ``--fail-on "latency_ms > +10%"``.

Grammar (``docs/diff.md`` is the user-facing spec)::

    gate   := METRIC OP NUMBER [ "%" ]
    METRIC := one or more characters, none of them whitespace or one of < > = !
              (a glob: ``*`` and ``?`` match any metric, e.g. ``*_loss``)
    OP     := "<" | "<=" | ">" | ">="
    NUMBER := [+-] digits [ "." digits ] [ (e|E) [+-] digits ]   (or [+-] "." digits …)

Without ``%`` the threshold is compared with the *absolute* delta (new - baseline);
with ``%`` with the *relative* delta in percent of the baseline. Whitespace between the
parts is optional. Pure functions; a malformed expression raises :class:`GateSyntaxError`
(a usage error, exit 2) carrying the position of the mistake.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from sitegen.errors import Problem, UsageError

OPERATORS = ("<=", ">=", "<", ">")
METRIC_STOP = frozenset("<>=!")
NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
GRAMMAR_HINT = (
    'write METRIC OP NUMBER[%] with OP one of < <= > >=, e.g. "accuracy < -0.01" '
    '(absolute delta) or "latency_ms > +10%" (relative delta); see docs/diff.md'
)


@dataclass(frozen=True)
class Gate:
    """One parsed ``--fail-on`` expression."""

    text: str
    metric: str
    op: str
    threshold: float
    relative: bool

    def matches(self, metric: str) -> bool:
        return fnmatch.fnmatchcase(metric, self.metric)

    def trips(self, abs_delta: float | None, pct_delta: float | None) -> bool | None:
        """Whether a delta trips this gate; None when the delta it needs is unknown."""
        value = pct_delta if self.relative else abs_delta
        if value is None:
            return None
        return compare(value, self.op, self.threshold)

    def describe(self) -> str:
        unit = "%" if self.relative else ""
        return f"{self.metric} {self.op} {self.threshold:+g}{unit}"


def compare(value: float, op: str, threshold: float) -> bool:
    if op == "<":
        return value < threshold
    if op == "<=":
        return value <= threshold
    if op == ">":
        return value > threshold
    return value >= threshold


class GateSyntaxError(UsageError):
    """A malformed gate: exit 2, with the expression and a caret under the mistake."""

    def __init__(self, text: str, position: int, message: str) -> None:
        self.text, self.position, self.reason = text, position, message
        shown = text.replace("\t", " ").replace("\n", " ")
        located = f"{text!r}, column {position + 1}: {message}\n    {shown}\n    {' ' * position}^"
        super().__init__([Problem("--fail-on", None, located, GRAMMAR_HINT)])


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def fail(self, message: str, position: int | None = None) -> GateSyntaxError:
        where = self.pos if position is None else position
        if where >= len(self.text):
            message += " but the expression ends"
        return GateSyntaxError(self.text, where, message)


def _metric(s: _Scanner) -> str:
    start = s.pos
    while not s.at_end() and not s.text[s.pos].isspace() and s.text[s.pos] not in METRIC_STOP:
        s.pos += 1
    if s.pos == start:
        raise s.fail("expected a metric name")
    return s.text[start : s.pos]


def _operator(s: _Scanner) -> str:
    rest = s.text[s.pos :]
    if rest.startswith(("==", "=<", "=>", "!=", "=", "!")):
        raise s.fail(f"{rest[:2].strip()!r} is not an operator; use one of < <= > >=")
    for op in OPERATORS:
        if rest.startswith(op):
            s.pos += len(op)
            return op
    raise s.fail("expected an operator (< <= > >=)")


def _number(s: _Scanner) -> tuple[float, bool]:
    match = NUMBER_RE.match(s.text, s.pos)
    if match is None:
        raise s.fail("expected a number such as -0.01 or +10%")
    s.pos = match.end()
    value = float(match.group())
    s.skip_space()
    relative = not s.at_end() and s.text[s.pos] == "%"
    if relative:
        s.pos += 1
    return value, relative


def parse_gate(text: str) -> Gate:
    """Parse one ``--fail-on`` expression, or raise :class:`GateSyntaxError`."""
    s = _Scanner(text)
    s.skip_space()
    if s.at_end():
        raise s.fail("empty gate: expected METRIC OP NUMBER[%]")
    metric = _metric(s)
    s.skip_space()
    op = _operator(s)
    s.skip_space()
    threshold, relative = _number(s)
    s.skip_space()
    if not s.at_end():
        raise s.fail("unexpected text after the threshold")
    return Gate(text.strip(), metric, op, threshold, relative)


def parse_gates(texts: list[str] | tuple[str, ...]) -> tuple[Gate, ...]:
    """Parse every expression; the first malformed one raises."""
    return tuple(parse_gate(t) for t in texts)
