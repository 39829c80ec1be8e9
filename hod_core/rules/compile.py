"""Compile a CEL condition into fast Python closures, and sort its parts.

Each condition is type-checked against the vocabulary, then split at its
top-level `&&` into conjuncts, each filed by what it depends on:

- key terms: `consumer.F in agent.G`, `consumer.F == agent.G`, optionally
  guarded by an agent-only test (`agent.display_option != 3 || ...`). They
  become index lookups: the matcher groups agents by the values of G;
- static: agent only, checked once when the agent is added;
- consumer: the request only (and constants), checked once per match;
- dynamic: everything else (availability, open offers, the referral),
  checked per candidate, nearest first.

Closures take (agent record, query); policy constants are folded in.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from typing import Any

from attrs import frozen

from hod_core.errors import InputError
from hod_core.rules.expr import Binary, Call, Cond, Index, ListLit, Lit, Macro, Node, Unary, Var
from hod_core.rules.operators import (
    AGAINST_CONSTANT,
    ARITHMETIC,
    CALLS,
    COMPARE,
    NOT_IN,
    lookup_form,
)
from hod_core.rules.vocabulary import FACTS, ROOTS, policy_type

WILDCARD = "*"  # a key term that admits every consumer value
NUMERIC = {"int", "double"}


@frozen
class Compiled:
    fn: Callable[[Any, Any], Any]
    type: str
    kinds: frozenset[str]  # fact kinds read; empty = constant
    value: Any = None  # the value when constant

    @property
    def constant(self) -> bool:
        return not self.kinds


@frozen
class KeyTerm:
    """consumer.<field> must be one of the values the agent's record yields."""

    field: str
    values: Callable[[Any], Any]  # record -> {value: until date or None} or WILDCARD


@frozen
class RuleProgram:
    id: str
    description: str
    seed: str
    condition: str
    line: int
    check: Callable[[Any, Any], bool]  # the whole condition (explain, naive scan)
    static: Callable[[Any, Any], bool] | None
    consumer: Callable[[Any, Any], bool] | None
    keys: tuple[KeyTerm, ...]
    dynamic: Callable[[Any, Any], bool] | None


class _Scope:
    """A macro variable bound over the query while a macro body runs."""

    __slots__ = ("parent", "name", "value")

    def __init__(self, parent, name, value):
        self.parent, self.name, self.value = parent, name, value

    def local(self, name):
        return self.value if name == self.name else self.parent.local(name)

    def __getattr__(self, attribute):
        return getattr(self.parent, attribute)


def _base(t: str) -> str:
    return t.rstrip("?")


def _element(t: str) -> str | None:
    t = _base(t)
    if t.startswith("list<"):
        return t[5:-1]
    if t.startswith("map<"):
        return t[4:-1].split(",", 1)[0]
    return None


def _comparable(a: str, b: str) -> bool:
    a, b = _base(a), _base(b)
    return (
        a == b
        or "dyn" in (a, b)
        or "null" in (a, b)
        or {a, b} <= NUMERIC
        or (a.startswith("list") and b.startswith("list"))
    )


class Compiler:
    def __init__(self, policy: dict[str, Any], line: int):
        self.policy = policy
        self.line = line

    def fail(self, node: Node, message: str):
        raise InputError(f"{message} (column {node.column})", field="condition", line=node.line)

    # -- conditions -------------------------------------------------------
    def rule(
        self, node: Node, *, id: str, description: str, seed: str, condition: str
    ) -> RuleProgram:
        whole = self.compile(node, {})
        if _base(whole.type) not in {"bool", "dyn"}:
            self.fail(node, f"a condition must be true or false, this one is {whole.type}")
        static, consumer, dynamic, keys = [], [], [], []
        for part in _conjuncts(node):
            key = self.key_term(part)
            if key is not None:
                keys.append(key)
                continue
            compiled = self.compile(part, {})
            if compiled.kinds <= {"static"} and compiled.kinds:
                static.append(compiled.fn)
            elif compiled.kinds <= {"consumer"}:
                consumer.append(compiled.fn)
            else:
                dynamic.append(compiled.fn)
        return RuleProgram(
            id,
            description,
            seed,
            condition,
            self.line,
            whole.fn,
            _all(static),
            _all(consumer),
            tuple(keys),
            _all(dynamic),
        )

    def key_term(self, node: Node) -> KeyTerm | None:
        """The index key a conjunct gives, or None. In the shipped file E6 and
        E9 are plain key terms, and E7 and E8 key terms guarded by the agent's
        display option (E8: an agent sits only in its preferred states' buckets)."""
        if isinstance(node, Binary) and node.op == "||":
            for guard, rest in ((node.left, node.right), (node.right, node.left)):
                inner = self.key_term(rest)
                test = self.compile(guard, {})
                if inner is not None and test.kinds == {"static"}:
                    return KeyTerm(inner.field, _guarded(test.fn, inner.values))
            return None
        if not (isinstance(node, Binary) and node.op in {"in", "=="}):
            return None
        sides = [(node.left, node.right)]
        if node.op == "==":
            sides.append((node.right, node.left))
        for consumer_side, agent_side in sides:
            if not (isinstance(consumer_side, Var) and isinstance(agent_side, Var)):
                continue
            wanted, fact = FACTS.get(consumer_side.dotted), FACTS.get(agent_side.dotted)
            if wanted is None or fact is None or wanted.kind != "consumer":
                continue
            field = consumer_side.path[-1]
            if node.op == "in" and fact.kind == "dated":
                return KeyTerm(field, fact.dated_values)
            if node.op == "in" and fact.kind == "static" and _element(fact.type):
                return KeyTerm(field, _listed(fact.getter))
            if node.op == "==" and fact.kind == "static" and not _element(fact.type):
                return KeyTerm(field, _single(fact.getter))
        return None

    # -- expressions ------------------------------------------------------
    def compile(self, node: Node, scope: dict[str, str]) -> Compiled:
        method = getattr(self, f"c_{type(node).__name__.lower()}")
        result = method(node, scope)
        if result.constant and result.value is None and not isinstance(node, Lit):
            # Fold: a constant sub-expression is computed once, here.
            value = result.fn(None, None)
            return Compiled(lambda a, q, v=value: v, result.type, frozenset(), value)
        return result

    def c_lit(self, node: Lit, scope) -> Compiled:
        value = node.value
        kind = {bool: "bool", int: "int", float: "double", str: "string"}.get(type(value), "null")
        return Compiled(lambda a, q: value, kind, frozenset(), value)

    def c_var(self, node: Var, scope) -> Compiled:
        root = node.path[0]
        if root in scope:
            if len(node.path) > 1:
                self.fail(node, f"{root} is a single value, it has no field {node.path[1]!r}")
            return Compiled(lambda a, q: q.local(root), scope[root], frozenset({"local"}))
        if root == "policy":
            return self.policy_value(node)
        if root not in ROOTS:
            self.fail(node, f"unknown name {root!r} (use agent, consumer, referral or policy)")
        fact = FACTS.get(node.dotted)
        if fact is None:
            close = difflib.get_close_matches(node.dotted, list(FACTS), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            self.fail(node, f"unknown fact {node.dotted}{hint}")
        return Compiled(fact.getter, fact.type, frozenset({fact.kind}))

    def policy_value(self, node: Var) -> Compiled:
        value: Any = self.policy
        for depth, name in enumerate(node.path[1:], start=1):
            if not isinstance(value, dict) or name not in value:
                where = ".".join(node.path[:depth])
                self.fail(node, f"{where} has no parameter {name!r}")
            value = value[name]
        return Compiled(lambda a, q: value, policy_type(value), frozenset(), value)

    def c_unary(self, node: Unary, scope) -> Compiled:
        operand = self.compile(node.operand, scope)
        f = operand.fn
        if node.op == "!":
            self.expect(node, operand, {"bool"}, "!")
            inner = node.operand
            if isinstance(inner, Binary) and inner.op == "in" and not operand.constant:
                left, right = self.compile(inner.left, scope), self.compile(inner.right, scope)
                return Compiled(NOT_IN(left.fn, right.fn), "bool", operand.kinds)
            return Compiled(lambda a, q: not f(a, q), "bool", operand.kinds)
        self.expect(node, operand, NUMERIC, "-")
        return Compiled(lambda a, q: -f(a, q), operand.type, operand.kinds)

    def expect(self, node: Node, value: Compiled, types: set[str], op: str):
        if _base(value.type) not in types | {"dyn"}:
            self.fail(node, f"{op} needs {' or '.join(sorted(types))}, got {value.type}")

    def c_binary(self, node: Binary, scope) -> Compiled:
        left, right = self.compile(node.left, scope), self.compile(node.right, scope)
        kinds = left.kinds | right.kinds
        lf, rf, op = left.fn, right.fn, node.op
        if op in {"&&", "||"}:
            self.expect(node, left, {"bool"}, op)
            self.expect(node, right, {"bool"}, op)
            fn = (
                (lambda a, q: lf(a, q) and rf(a, q))
                if op == "&&"
                else (lambda a, q: lf(a, q) or rf(a, q))
            )
            return Compiled(fn, "bool", kinds)
        if op in {"==", "!="}:
            if not _comparable(left.type, right.type):
                self.fail(node, f"cannot compare {left.type} with {right.type}")
        elif op == "in":
            element = _element(right.type)
            if element is None and _base(right.type) != "dyn":
                self.fail(node, f"'in' needs a list or map on the right, got {right.type}")
            if element is not None and not _comparable(left.type, element):
                self.fail(node, f"cannot look for {left.type} in {right.type}")
        elif op in {"<", "<=", ">", ">="}:
            ordered = {_base(left.type), _base(right.type)}
            if not (ordered <= NUMERIC | {"dyn"} or ordered <= {"string", "dyn"}):
                self.fail(node, f"cannot order {left.type} and {right.type} with {op}")
        else:
            return self.arithmetic(node, left, right, kinds)
        if right.constant and not left.constant:
            # The usual shape (agent.x < policy.y): test against the folded value.
            return Compiled(AGAINST_CONSTANT[op](lf, lookup_form(op, right.value)), "bool", kinds)
        return Compiled(COMPARE[op](lf, rf), "bool", kinds)

    def arithmetic(self, node: Binary, left: Compiled, right: Compiled, kinds) -> Compiled:
        lt, rt, op = _base(left.type), _base(right.type), node.op
        if op == "+" and lt == rt and (lt == "string" or lt.startswith("list")):
            result = lt
        elif {lt, rt} <= NUMERIC | {"dyn"}:
            result = "double" if "double" in {lt, rt} else lt if lt != "dyn" else rt
        else:
            self.fail(node, f"cannot apply {op} to {left.type} and {right.type}")
        return Compiled(ARITHMETIC[op](left.fn, right.fn, node), result, kinds)

    def c_cond(self, node: Cond, scope) -> Compiled:
        test, then, other = (self.compile(n, scope) for n in (node.test, node.then, node.other))
        self.expect(node, test, {"bool"}, "? :")
        tf, yf, nf = test.fn, then.fn, other.fn
        return Compiled(
            lambda a, q: yf(a, q) if tf(a, q) else nf(a, q),
            then.type,
            test.kinds | then.kinds | other.kinds,
        )

    def c_index(self, node: Index, scope) -> Compiled:
        target, key = self.compile(node.target, scope), self.compile(node.key, scope)
        t = _base(target.type)
        if t.startswith("list<"):
            self.expect(node, key, {"int"}, "[ ] on a list")
            result = t[5:-1]
        elif t.startswith("map<"):
            result = t[4:-1].split(",", 1)[1]
        else:
            self.fail(node, f"cannot index {target.type}")
        tf, kf = target.fn, key.fn
        if target.constant and key.constant:
            try:
                value = target.value[key.value]
            except (KeyError, IndexError, TypeError):
                self.fail(node, f"no entry {key.value!r} in that policy table")
            return Compiled(lambda a, q: value, result, frozenset(), value)
        return Compiled(lambda a, q: tf(a, q)[kf(a, q)], result, target.kinds | key.kinds)

    def c_listlit(self, node: ListLit, scope) -> Compiled:
        items = [self.compile(i, scope) for i in node.items]
        types = {_base(i.type) for i in items}
        fns = [i.fn for i in items]
        kinds = frozenset().union(*(i.kinds for i in items))
        element = types.pop() if len(types) == 1 else "dyn"
        return Compiled(lambda a, q: [f(a, q) for f in fns], f"list<{element}>", kinds)

    def c_call(self, node: Call, scope) -> Compiled:
        args = [self.compile(x, scope) for x in node.args]
        if node.target is not None:
            args.insert(0, self.compile(node.target, scope))
        kinds = frozenset().union(*(x.kinds for x in args))
        spec = CALLS[node.name]
        if len(args) != spec[0]:
            self.fail(
                node, f"{node.name}() takes {spec[0] - (node.target is not None)} argument(s)"
            )
        for arg in args[:1]:
            self.expect(node, arg, spec[1], f"{node.name}()")
        fns = [x.fn for x in args]
        impl = spec[3]
        return Compiled(lambda a, q: impl(*(f(a, q) for f in fns)), spec[2], kinds)

    def c_macro(self, node: Macro, scope) -> Compiled:
        target = self.compile(node.target, scope)
        element = _element(target.type)
        if element is None or not _base(target.type).startswith("list"):
            self.fail(node, f"{node.name}() needs a list, got {target.type}")
        body = self.compile(node.body, {**scope, node.var: element})
        self.expect(node, body, {"bool"}, f"{node.name}() body")
        tf, bf, var = target.fn, body.fn, node.var
        test = any if node.name == "exists" else all
        return Compiled(
            lambda a, q: test(bf(a, _Scope(q, var, item)) for item in (tf(a, q) or ())),
            "bool",
            (target.kinds | body.kinds) - {"local"},
        )


def _conjuncts(node: Node) -> list[Node]:
    if isinstance(node, Binary) and node.op == "&&":
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _all(fns: list) -> Callable | None:
    """One closure for a conjunction: a flat `and`, cheaper than all() or nesting."""
    if not fns:
        return None
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        f1, f2 = fns
        return lambda a, q: f1(a, q) and f2(a, q)
    if len(fns) == 3:
        f1, f2, f3 = fns
        return lambda a, q: f1(a, q) and f2(a, q) and f3(a, q)
    return functools.reduce(_and, fns)


def all_of(fns: list) -> Callable | None:
    return _all([f for f in fns if f is not None])


def _and(first, second):
    return lambda a, q: first(a, q) and second(a, q)


def _guarded(guard, values):
    return lambda record: WILDCARD if guard(record, None) else values(record)


def _listed(getter):
    return lambda record: dict.fromkeys(getter(record, None) or ())


def _single(getter):
    return lambda record: {getter(record, None): None}
