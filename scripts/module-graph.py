#!/usr/bin/env python3
"""Which top-level modules of pipelinescope-core use which, and the cycles among them.

Reads every `.rs` file under pipelinescope-core/src (test modules left out: a `#[cfg(test)]`
item and what follows it in its file), takes the module each file belongs to (`src/a.rs` and
`src/a/...` are `a`; `lib.rs` is the crate root, whose public re-exports are not a layer), and
the modules it names through `crate::x`, or `super::x` from a file at the top of its module.
Prints the edges, the layers (longest path from the bottom) and every cycle; exits 1 when there
is a cycle.

Usage: scripts/module-graph.py [path/to/pipelinescope-core/src]
"""

import pathlib
import re
import sys


def module_of(path: pathlib.Path, src: pathlib.Path) -> str | None:
    rel = path.relative_to(src)
    if rel.parts == ("lib.rs",):
        return None
    return rel.parts[0].removesuffix(".rs")


def strip_tests(text: str) -> str:
    """The file without its test code: a `#[cfg(test)] mod x;` line, and from a
    `#[cfg(test)]` item with a body on (test modules and helpers come last in this crate)."""
    text = re.sub(r"#\[cfg\(test\)\]\s*mod [a-z_0-9]+;", "", text)
    i = text.find("#[cfg(test)]")
    return text if i < 0 else text[:i]


def strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def uses(text: str) -> set[str]:
    found = set(re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", text))
    # `use crate::{a, b::c}` groups.
    for group in re.findall(r"\bcrate::\{([^}]*)\}", text):
        found |= set(re.findall(r"(?:^|,)\s*([a-z_][a-z0-9_]*)", group))
    return found


def main() -> int:
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "pipelinescope-core/src")
    modules = {module_of(p, src) for p in src.rglob("*.rs")} - {None}
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for p in sorted(src.rglob("*.rs")):
        m = module_of(p, src)
        if m is None:
            continue
        text = strip_comments(strip_tests(p.read_text()))
        for t in uses(text):
            if t in modules and t != m:
                edges[m].add(t)

    for m in sorted(edges):
        print(f"{m} -> {', '.join(sorted(edges[m])) or '(nothing)'}")

    # Cycles: strongly connected components of more than one module (Tarjan).
    index, low, on, stack, sccs = {}, {}, set(), [], []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            sccs.append(comp)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    cycles = [sorted(c) for c in sccs if len(c) > 1]
    if cycles:
        for c in cycles:
            print("cycle:", " <-> ".join(c))
        return 1

    level: dict[str, int] = {}

    def depth(v: str) -> int:
        if v not in level:
            level[v] = 1 + max((depth(w) for w in edges[v]), default=-1)
        return level[v]

    for v in edges:
        depth(v)
    print()
    for n in sorted(set(level.values()), reverse=True):
        print(f"level {n}: {' '.join(sorted(m for m in level if level[m] == n))}")
    print("\nno cycle between top-level modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
