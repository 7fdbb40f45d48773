"""Small graph algorithms over plain adjacency mappings, shared by validation and lineage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def strongly_connected_cycles(
    nodes: Sequence[str], succ: Mapping[str, Sequence[str]]
) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative) of size > 1 or with a self-loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = succ.get(node, [])
            if i < len(children):
                work.append((node, i + 1))
                child = children[i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            for child in children:
                if child in on_stack:
                    low[node] = min(low[node], low[child])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1 or node in succ.get(node, []):
                    cycles.append(sorted(component))
    return sorted(cycles)
