"""Where the probe splits a program, worked out by the parent, not in the program's process.

The probe runs a program's definitions and module-level code first, then wraps its task
functions, then runs the trailing ``if __name__ == "__main__":`` block
(``concsim.live.scope.run_program``). Finding that block takes ``ast`` (a few milliseconds
to import, and a parse) and ``__future__``: the parent, which already has the source,
finds it once and writes the answer into the plan.
"""

from __future__ import annotations
import __future__

import ast


def main_guard(source: str) -> tuple[int, int]:
    """The line the trailing ``if __name__ == "__main__":`` statements start on (0: none),
    and the compiler flags of the ``from __future__`` imports before it."""
    tree = ast.parse(source)
    split = len(tree.body)
    while split > 0 and _is_main_guard(tree.body[split - 1]):
        split -= 1
    flags = 0
    for node in tree.body[:split]:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                flags |= getattr(__future__, alias.name).compiler_flag
    line = tree.body[split].lineno if split < len(tree.body) else 0
    return line, flags


def _is_main_guard(node: ast.stmt) -> bool:
    """``if __name__ == "__main__":``."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    return (
        isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )
