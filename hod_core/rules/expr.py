"""Rule conditions: CEL (Common Expression Language) parsed into a small AST.

CEL is Google's safe, side-effect-free expression language (used by
Kubernetes, Envoy and Firebase rules): no loops, no I/O, no eval. We parse it
with cel-python's grammar and keep the subset a policy needs: literals,
field access, `!`, `&&`, `||`, comparisons, `in`, arithmetic, `? :`, lists,
`size()`, `string()`, `int()`, `.contains()`, `.startsWith()`, `.endsWith()`
and the `exists` / `all` macros. Anything else is rejected with its line and
column, so a rule file never half-works.
"""

from __future__ import annotations

import ast as python_ast
from typing import Any

from attrs import frozen
from lark import Token, Tree

from hod_core.errors import InputError

BINARY_RULES = {
    "conditionalor": "||",
    "conditionaland": "&&",
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
    "addition_add": "+",
    "addition_sub": "-",
    "multiplication_mul": "*",
    "multiplication_div": "/",
    "multiplication_mod": "%",
}
FUNCTIONS = {"size", "string", "int"}
METHODS = {"contains", "startsWith", "endsWith", "size"}
MACROS = {"exists", "all"}


@frozen
class Node:
    line: int
    column: int


@frozen
class Lit(Node):
    value: Any


@frozen
class Var(Node):
    """A name and the fields selected from it: agent.participation.plan_year."""

    path: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@frozen
class Index(Node):
    target: Node
    key: Node


@frozen
class Unary(Node):
    op: str  # "!" or "-"
    operand: Node


@frozen
class Binary(Node):
    op: str
    left: Node
    right: Node


@frozen
class Cond(Node):
    test: Node
    then: Node
    other: Node


@frozen
class ListLit(Node):
    items: tuple[Node, ...]


@frozen
class Call(Node):
    """size(x), x.contains(y): `target` is None for a global function."""

    name: str
    target: Node | None
    args: tuple[Node, ...]


@frozen
class Macro(Node):
    """list.exists(v, body) / list.all(v, body)."""

    name: str
    target: Node
    var: str
    body: Node


def parse(text: str, *, line_offset: int = 0) -> Node:
    """CEL source -> AST; InputError with line and column on any problem."""
    from celpy.celparser import CELParseError, CELParser  # imported on first use: ~0.1 s

    try:
        tree = CELParser().parse(text)
    except CELParseError as exc:
        line = (exc.line or 1) + line_offset
        detail = str(exc.args[0]).strip().splitlines()[0] if exc.args else "syntax error"
        raise InputError(
            f"syntax error at column {exc.column}: {detail}", field="condition", line=line
        ) from None
    return _Builder(line_offset).build(tree)


class _Builder:
    """lark parse tree (cel.lark) -> our AST."""

    def __init__(self, line_offset: int):
        self.line_offset = line_offset

    def where(self, item) -> tuple[int, int]:
        meta = getattr(item, "meta", None)
        line = getattr(item, "line", None) or getattr(meta, "line", None) or 1
        column = getattr(item, "column", None) or getattr(meta, "column", None) or 1
        return line + self.line_offset, column

    def fail(self, item, message: str):
        line, column = self.where(item)
        raise InputError(f"{message} (column {column})", field="condition", line=line)

    def build(self, item) -> Node:
        if isinstance(item, Token):
            return self.token(item)
        kind = item.data
        children = item.children
        method = getattr(self, f"node_{kind}", None)
        if method is not None:
            return method(item, children)
        if len(children) == 1 and kind in {
            "expr",
            "conditionalor",
            "conditionaland",
            "relation",
            "addition",
            "multiplication",
            "unary",
            "member",
            "primary",
            "literal",
        }:
            return self.build(children[0])
        if kind in {"conditionalor", "conditionaland"}:
            left, right = children
            return Binary(
                *self.where(item), BINARY_RULES[kind], self.build(left), self.build(right)
            )
        if kind in {"relation", "addition", "multiplication"}:
            operator, right = children
            (left,) = operator.children
            return Binary(
                *self.where(operator),
                BINARY_RULES[operator.data],
                self.build(left),
                self.build(right),
            )
        return self.fail(item, f"'{kind.replace('_', ' ')}' is not supported in rule conditions")

    def node_expr(self, item, children):
        if len(children) == 1 or children[1] is None:
            return self.build(children[0])
        test, then, other = children
        return Cond(*self.where(item), self.build(test), self.build(then), self.build(other))

    def node_unary(self, item, children):
        if len(children) == 1:
            return self.build(children[0])
        marker, operand = children
        op = "!" if marker.data == "unary_not" else "-"
        return Unary(*self.where(item), op, self.build(operand))

    def node_ident(self, item, children):
        return Var(*self.where(item), (str(children[0]),))

    def node_paren_expr(self, item, children):
        return self.build(children[0])

    def node_member_dot(self, item, children):
        target, name = children
        built = self.build(target)
        if isinstance(built, Var):
            return Var(built.line, built.column, (*built.path, str(name)))
        return self.fail(item, "field selection is only supported on names")

    def node_member_index(self, item, children):
        target, key = children
        return Index(*self.where(item), self.build(target), self.build(key))

    def node_member_dot_arg(self, item, children):
        target, name, *rest = children
        args = self.exprs(rest[0] if rest else None)
        name = str(name)
        if name in MACROS:
            if len(args) != 2 or not (isinstance(args[0], Var) and len(args[0].path) == 1):
                self.fail(
                    item, f"{name}() takes a variable name and a condition: list.{name}(x, x > 1)"
                )
            return Macro(*self.where(item), name, self.build(target), args[0].path[0], args[1])
        if name not in METHODS:
            self.fail(
                item, f"unknown method {name}() (supported: {', '.join(sorted(METHODS | MACROS))})"
            )
        return Call(*self.where(item), name, self.build(target), args)

    def node_ident_arg(self, item, children):
        name, *rest = children
        if str(name) not in FUNCTIONS:
            self.fail(
                item, f"unknown function {name}() (supported: {', '.join(sorted(FUNCTIONS))})"
            )
        return Call(*self.where(item), str(name), None, self.exprs(rest[0] if rest else None))

    def node_list_lit(self, item, children):
        return ListLit(*self.where(item), self.exprs(children[0] if children else None))

    def exprs(self, exprlist: Tree | None) -> tuple[Node, ...]:
        return () if exprlist is None else tuple(self.build(c) for c in exprlist.children)

    def token(self, token: Token) -> Node:
        line, column = self.where(token)
        text = str(token)
        kind = token.type
        if kind == "BOOL_LIT":
            return Lit(line, column, text == "true")
        if kind == "NULL_LIT":
            return Lit(line, column, None)
        if kind == "INT_LIT":
            return Lit(line, column, int(text, 16) if "0x" in text else int(text))
        if kind == "FLOAT_LIT":
            return Lit(line, column, float(text))
        if kind in {"STRING_LIT", "MLSTRING_LIT"} and text[:1] not in "rRbB":
            # literal_eval reads one string literal and nothing else: no code runs.
            return Lit(line, column, python_ast.literal_eval(text))
        raise InputError(
            f"{kind.lower()} literals are not supported (column {column})",
            field="condition",
            line=line,
        )
