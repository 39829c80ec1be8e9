"""The operators and functions of the rule language, as closure builders.

Each builder takes compiled operands, closures of (agent record, query), and
returns the closure for the whole expression. They are spelled out one per
operator because they run per candidate: a table of small lambdas is faster
than one generic closure that dispatches on the operator at run time.
"""

from __future__ import annotations

from collections.abc import Callable

COMPARE = {
    "==": lambda left, right: lambda a, q: left(a, q) == right(a, q),
    "!=": lambda left, right: lambda a, q: left(a, q) != right(a, q),
    "<": lambda left, right: lambda a, q: left(a, q) < right(a, q),
    "<=": lambda left, right: lambda a, q: left(a, q) <= right(a, q),
    ">": lambda left, right: lambda a, q: left(a, q) > right(a, q),
    ">=": lambda left, right: lambda a, q: left(a, q) >= right(a, q),
    "in": lambda left, right: lambda a, q: (c := right(a, q)) is not None and left(a, q) in c,
}
# `!(x in y)`, the shape of E11, as one closure rather than `not` around `in`.
NOT_IN = lambda left, right: lambda a, q: (c := right(a, q)) is None or left(a, q) not in c  # noqa: E731
AGAINST_CONSTANT = {
    "==": lambda left, c: lambda a, q: left(a, q) == c,
    "!=": lambda left, c: lambda a, q: left(a, q) != c,
    "<": lambda left, c: lambda a, q: left(a, q) < c,
    "<=": lambda left, c: lambda a, q: left(a, q) <= c,
    ">": lambda left, c: lambda a, q: left(a, q) > c,
    ">=": lambda left, c: lambda a, q: left(a, q) >= c,
    "in": lambda left, c: lambda a, q: c is not None and left(a, q) in c,
}


def lookup_form(op: str, value):
    """A constant list on the right of `in` becomes a set: O(1) membership."""
    if op == "in" and isinstance(value, list | tuple):
        try:
            return frozenset(value)
        except TypeError:  # unhashable items: keep the list
            return value
    return value


def divide(x, y):
    if isinstance(x, int) and isinstance(y, int):
        return abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)  # CEL truncates
    return x / y


ARITHMETIC = {
    "+": lambda left, right, n: lambda a, q: left(a, q) + right(a, q),
    "-": lambda left, right, n: lambda a, q: left(a, q) - right(a, q),
    "*": lambda left, right, n: lambda a, q: left(a, q) * right(a, q),
    "/": lambda left, right, n: lambda a, q: divide(left(a, q), right(a, q)),
    "%": lambda left, right, n: lambda a, q: left(a, q) % right(a, q),
}

# name -> (argument count incl. target, allowed first-argument types, result type, implementation)
CALLS: dict[str, tuple[int, set[str], str, Callable]] = {
    "size": (
        1,
        {"string", "list<string>", "list<int>", "list<dyn>"},
        "int",
        lambda x: len(x or ()),
    ),
    "string": (
        1,
        {"string", "int", "double", "bool"},
        "string",
        lambda x: str(x).lower() if isinstance(x, bool) else str(x),
    ),
    "int": (1, {"string", "int", "double"}, "int", int),
    "contains": (2, {"string"}, "bool", lambda s, x: x in s),
    "startsWith": (2, {"string"}, "bool", lambda s, x: s.startswith(x)),
    "endsWith": (2, {"string"}, "bool", lambda s, x: s.endswith(x)),
}
