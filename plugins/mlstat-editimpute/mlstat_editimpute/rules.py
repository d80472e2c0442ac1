"""Edit rules: readable expressions parsed safely, checked per record, linearised for solvers.

A rule is one line such as::

    balance: wfood + wfuel + wcloth + walc + wtrans + wother == 1 +- 0.01
    0 <= age <= 120
    totexp <= 4 * income
    if children > 0 then age >= 16

Expressions are parsed with :mod:`ast` and walked by a small evaluator that accepts only a
whitelist of nodes (numbers, variable names, ``+ - * /``, comparisons, ``and``/``or``/``not``
and ``abs``); nothing is ever passed to ``eval``. A leading ``name:`` names the rule; ``+- tol``
at the end allows a tolerance on every comparison of the rule.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import math
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlstat_core.errors import ConfigError

_NAME_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*:\s*(.+)$", re.S)
_TOL_RE = re.compile(r"^(.*?)(?:\+-|±)\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$", re.S)
_INNER_TOL_RE = re.compile(r"(?:\+-|±)\s*\.?\d[\d.]*(?:[eE][-+]?\d+)?")
"""A tolerance ``+- tol`` (or ``± tol``: ``+-`` without a space, then a number) left inside a
rule's body, where Python would read it as a subtraction; ``a + -b`` and ``x + -1`` (a
space between ``+`` and ``-``) are arithmetic, and ``a +-b`` adds ``-b``."""
_IF_RE = re.compile(r"^\s*if\s+(.+?)\s+then\s+(.+)$", re.S | re.I)
_IF_START_RE = re.compile(r"^\s*if\b", re.I)
_HINTS = (  # (pattern, hint) for the usual slips, tried in turn; {0}: what matched
    (re.compile(r"=>"), "write '>=' for 'at least'"),
    (re.compile(r"=<"), "write '<=' for 'at most'"),
    (re.compile(r"(?<![<>=!])=(?![=<>])"), "write '==' for equality"),
    (re.compile(r"(?<![\w.])(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+|(?![eE][-+]?\d))\s*"
                r"(?!(?:and|or|not|then|if|else)\b)[A-Za-z_]"),  # 1e6 is a number
     "write '*' between a number and a variable ('4 * income')"),
    (re.compile(r"\b(" + "|".join(k for k in keyword.kwlist if k not in (
        "and", "or", "not", "if", "True", "False", "None")) + r")\b"),
     "'{0}' is a reserved word: a variable of that name cannot be used in a rule (rename "
     "the column, e.g. '{0}_'), and a rule's only words are 'if', 'then', 'and', 'or' and "
     "'not'"),
)
_DIGIT_COMMA_RE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*,\d+")
"""A number written with a decimal comma or ',' between thousands (``0,02``, ``1,000``)."""
_FUNCTIONS = {"abs": np.abs}
_CMP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_ALLOWED = (ast.Expression, ast.Compare, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Name,
            ast.Constant, ast.Load, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd,
            ast.Not, ast.And, ast.Or, ast.Call, *_CMP)
EQ_TOL = 1e-9
"""Tolerance of ``==`` in rules without ``+- tol`` (floating point, not a real allowance)."""
STRICT_EPS = 1e-6
"""How far beyond the boundary a strict inequality (``<``, ``>``) must be in the solvers."""
MAX_DEPTH = 200
"""How many levels of operators a rule's expression may nest (each term of a sum is one): the
parser's walks recurse, and a deeper rule would exhaust Python's recursion limit."""
_TOO_DEEP = (f"is nested too deeply: more than {MAX_DEPTH} levels of operators (each term of a "
             "sum, each '-' and each 'not' is one); simplify it")
_TOO_LARGE = ("works out to a number too large to compute with (beyond about 1.8e308); use "
              "smaller numbers, such as another unit")


class RuleError(ConfigError):
    """An edit rule cannot be parsed, is unsafe, names an unknown variable or contradicts
    another rule. ``detail`` is the problem without the rule's text and ``index`` the rule's
    place in the list parsed, for messages that point at the rule otherwise (such as a
    pipeline file's field ``rules.3``)."""

    def __init__(self, message: str, detail: str = "", index: int | None = None) -> None:
        super().__init__(message)
        self.detail = detail or message
        self.index = index


def _rule_error(rule: str, detail: str) -> RuleError:
    """'edit rule <rule> <detail>', with the detail kept apart (a long rule cut short)."""
    shown = repr(rule) if len(rule) <= 120 else f"{rule[:60]!r}..."
    return RuleError(f"edit rule {shown} {detail}", detail)


@dataclass(frozen=True)
class Atom:
    """A linear comparison ``sum(coefs[v] * v) + const  op  0`` with op ``<=`` or ``==``
    (``>=`` is stored negated); ``strict`` marks ``<``, ``tol`` the allowance."""

    coefs: tuple[tuple[str, float], ...]
    const: float
    op: str
    tol: float = 0.0
    strict: bool = False

    def negated(self) -> list[Atom]:
        """The atoms whose disjunction is 'this atom does not hold'."""
        neg = tuple((v, -c) for v, c in self.coefs)
        if self.op == "==":  # |a.x + c| > tol: above or below
            return [Atom(neg, -self.const + self.tol, "<=", 0.0, True),
                    Atom(self.coefs, self.const + self.tol, "<=", 0.0, True)]
        return [Atom(neg, -self.const - self.tol, "<=", 0.0, not self.strict)]

    @property
    def variables(self) -> list[str]:
        return [v for v, _ in self.coefs]


@dataclass
class EditRule:
    """One parsed edit rule."""

    name: str
    text: str
    expression: str
    tree: ast.Expression
    condition: ast.expr | None
    consequence: ast.expr
    tol: float
    variables: list[str]
    condition_atoms: list[Atom] | None = None
    consequence_atoms: list[Atom] | None = None
    nonlinear_reason: str = ""

    @property
    def linear(self) -> bool:
        return self.consequence_atoms is not None and (
            self.condition is None or self.condition_atoms is not None)

    @property
    def is_balance(self) -> bool:
        """An unconditional equality whose variables all have coefficient 1 (a sum edit)."""
        return (self.condition is None and self.consequence_atoms is not None
                and len(self.consequence_atoms) == 1
                and self.consequence_atoms[0].op == "=="
                and all(abs(c - 1) < 1e-12 for _, c in self.consequence_atoms[0].coefs)
                and -self.consequence_atoms[0].const > 0)

    def evaluate(self, values: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(passes, evaluable) per record; a record is evaluable when every variable the rule
        needs is present (a false condition needs only the condition's variables)."""
        with np.errstate(all="ignore"):
            cons, cons_ok = _eval(self.consequence, values, self.tol)
            if self.condition is None:
                return cons & cons_ok, cons_ok
            cond, cond_ok = _eval(self.condition, values, 0.0)
        passes = (cond_ok & ~cond) | (cond_ok & cond & cons_ok & cons)
        evaluable = cond_ok & (~cond | cons_ok)
        return passes & evaluable, evaluable

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rule": self.text, "variables": self.variables,
                "linear": self.linear, "conditional": self.condition is not None}


WHOLE_TOL = 1e-9
"""How far from a whole number (relative to its size, at least 1) a value of a variable declared
integer may be and pass its whole-number edit (float noise, not an allowance)."""


@dataclass
class WholeNumberRule(EditRule):
    """The hard edit 'the variable holds a whole number', made for each variable the metadata
    declares ``integer`` (or ``categorical``: whole codes). The rule language cannot write it,
    so it is not parsed: it is made from the metadata, never from types guessed from the data
    (a variable that happens to hold whole numbers gets no such edit)."""

    kind: str = "integer"

    def evaluate(self, values: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(values[self.variables[0]], dtype=float)
        evaluable = ~np.isnan(x)
        with np.errstate(invalid="ignore"):
            whole = np.abs(x - np.round(x)) <= WHOLE_TOL * np.maximum(np.abs(x), 1.0)
        return whole & evaluable, evaluable


def whole_number_rules(declared: dict[str, str], taken: list[str]) -> list[WholeNumberRule]:
    """One :class:`WholeNumberRule` per variable of ``declared`` (variable -> its type in the
    metadata, ``integer`` or ``categorical``), named ``<variable>_whole`` (with a further
    ``_`` where a rule of ``taken`` already has the name)."""
    out, names = [], set(taken)
    for v, kind in declared.items():
        name = f"{v}_whole"
        while name in names:
            name += "_"
        names.add(name)
        what = "categorical (whole codes)" if kind == "categorical" else "integer"
        text = f"{v} is a whole number ({what} in the metadata)"
        node = ast.Name(id=v, ctx=ast.Load())
        out.append(WholeNumberRule(name, text, text, ast.Expression(body=node), None, node, 0.0,
                                   [v], nonlinear_reason="a whole-number edit is not linear",
                                   kind=kind))
    return out


def _truth(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=bool)


def _eval(node: ast.expr, values: dict[str, np.ndarray], tol: float
          ) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate a boolean node: (result, defined) arrays, defined False where a value is NaN."""
    if isinstance(node, ast.BoolOp):
        parts = [_eval(v, values, tol) for v in node.values]
        if isinstance(node.op, ast.And):
            res = np.logical_and.reduce([p[0] for p in parts])
        else:
            res = np.logical_or.reduce([p[0] for p in parts])
        return res, np.logical_and.reduce([p[1] for p in parts])
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        res, ok = _eval(node.operand, values, tol)
        return ~res, ok
    if isinstance(node, ast.Compare):
        left = _arith(node.left, values)
        result: np.ndarray | None = None
        defined: np.ndarray | None = None
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _arith(comp, values)
            diff = np.asarray(left - right, dtype=float)
            sym = _CMP[type(op)]
            eq_tol = tol + EQ_TOL  # a value exactly at the tolerance passes
            part = {"<": diff < tol, "<=": diff <= tol + EQ_TOL, ">": diff > -tol,
                    ">=": diff >= -tol - EQ_TOL, "==": np.abs(diff) <= eq_tol,
                    "!=": np.abs(diff) > eq_tol}[sym]
            ok = ~np.isnan(diff)
            result = part if result is None else result & part
            defined = ok if defined is None else defined & ok
            left = right
        assert result is not None and defined is not None
        return _truth(result), _truth(defined)
    raise RuleError(f"expected a comparison, found {ast.unparse(node)!r}")


def _arith(node: ast.expr, values: dict[str, np.ndarray]) -> Any:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        inner = _arith(node.operand, values)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        a, b = _arith(node.left, values), _arith(node.right, values)
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
        return a / b
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        return _FUNCTIONS[node.func.id](_arith(node.args[0], values))
    raise RuleError(f"unsupported expression {ast.unparse(node)!r}")


# --- parsing ---------------------------------------------------------------------------------


def _depth(node: ast.expr) -> int:
    """How many levels of expressions ``node`` nests, counted without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(current)
                     if isinstance(child, ast.expr))
    return deepest


def _shown_number(text: str) -> str:
    """A number as the rule writes it, a long one cut short with its count of characters."""
    return text if len(text) <= 20 else f"{text[:12]}... ({len(text)} characters)"


def _check_number(node: ast.Constant, rule: str, source: str) -> None:
    """Refuse a number that is infinite as a float (``1e400``, 400 digits)."""
    try:
        finite = math.isfinite(float(node.value))
    except OverflowError:
        finite = False
    if not finite:
        shown = _shown_number(ast.get_source_segment(source, node) or repr(node.value))
        raise _rule_error(rule, f"contains the number {shown}, which is "
                                "too large (numbers must be below about 1.8e308); use smaller "
                                "numbers, such as another unit")


def _check_safe(tree: ast.AST, rule: str, source: str) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise _rule_error(rule, f"uses {type(node).__name__}, which edit rules do not "
                              "allow (only numbers, variable names, + - * /, comparisons, "
                              "and/or/not, abs(), 'if ... then ...' and '+- tol')")
        if isinstance(node, ast.Constant) and (
                isinstance(node.value, bool) or not isinstance(node.value, int | float)):
            raise _rule_error(rule, f"contains the constant {node.value!r}; only numbers are "
                              "allowed")
        if isinstance(node, ast.Constant):
            _check_number(node, rule, source)
        if isinstance(node, ast.Name) and node.id.startswith("__"):
            raise _rule_error(rule, f"names {node.id!r}; names starting with '__' are not "
                              "allowed")
        if isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
                and len(node.args) == 1 and not node.keywords):
            raise _rule_error(rule, f"calls {ast.unparse(node.func)!r}; the only function "
                              f"allowed is {', '.join(_FUNCTIONS)}() of one argument")


def _syntax_hint(text: str) -> str:
    """'; <hint>' for a usual slip in a rule that does not parse ('=' for '=='), else ''."""
    for pattern, hint in _HINTS:
        found = pattern.search(text)
        if found:
            return f"; {hint.format(found.group(0))}"
    return ""


def _parse_expr(text: str, rule: str) -> ast.expr:
    if len(text) > 2000:
        raise RuleError(f"edit rule {rule[:60]!r}... is longer than 2000 characters",
                        "is longer than 2000 characters")
    source = text.strip()
    try:
        with warnings.catch_warnings():  # 'invalid decimal literal' would be printed too
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise _rule_error(rule, f"is not a valid expression: {exc.msg}"
                                f"{_syntax_hint(text)}") from None
    except (RecursionError, MemoryError):
        raise _rule_error(rule, _TOO_DEEP) from None
    if _depth(tree.body) > MAX_DEPTH:
        raise _rule_error(rule, _TOO_DEEP)
    _check_safe(tree, rule, source)
    body = tree.body
    if not isinstance(body, ast.Compare | ast.BoolOp) and not (
            isinstance(body, ast.UnaryOp) and isinstance(body.op, ast.Not)):
        raise _rule_error(rule, "is not a comparison (use <, <=, >, >=, == or !=)")
    for node in ast.walk(body):
        if isinstance(node, ast.BoolOp | ast.UnaryOp) and isinstance(
                getattr(node, "op", None), ast.And | ast.Or | ast.Not):
            operands = node.values if isinstance(node, ast.BoolOp) else [node.operand]
            for sub in operands:
                if not isinstance(sub, ast.Compare | ast.BoolOp | ast.UnaryOp):
                    raise _rule_error(rule, f"has {ast.unparse(sub)!r} where a comparison "
                                            "is needed")
    return body


def _names(node: ast.AST) -> list[str]:
    found = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)
             and n.id not in _FUNCTIONS]
    return list(dict.fromkeys(found))


class NonLinear(Exception):
    pass


def _linear(node: ast.expr) -> tuple[dict[str, float], float]:
    """``node`` as (coefficients, constant); raises NonLinear for products of variables."""
    if isinstance(node, ast.Constant):
        return {}, float(node.value)
    if isinstance(node, ast.Name):
        return {node.id: 1.0}, 0.0
    if isinstance(node, ast.UnaryOp):
        c, k = _linear(node.operand)
        if isinstance(node.op, ast.USub):
            return {v: -x for v, x in c.items()}, -k
        return c, k
    if isinstance(node, ast.BinOp):
        lc, lk = _linear(node.left)
        rc, rk = _linear(node.right)
        if isinstance(node.op, ast.Add | ast.Sub):
            sign = 1.0 if isinstance(node.op, ast.Add) else -1.0
            out = dict(lc)
            for v, x in rc.items():
                out[v] = out.get(v, 0.0) + sign * x
            return out, lk + sign * rk
        if isinstance(node.op, ast.Mult):
            if lc and rc:
                raise NonLinear(f"{ast.unparse(node)} multiplies variables")
            if not lc:
                return {v: lk * x for v, x in rc.items()}, lk * rk
            return {v: rk * x for v, x in lc.items()}, lk * rk
        if rc:
            raise NonLinear(f"{ast.unparse(node)} divides by a variable")
        if rk == 0:
            raise NonLinear(f"{ast.unparse(node)} divides by zero")
        return {v: x / rk for v, x in lc.items()}, lk / rk
    raise NonLinear(f"{ast.unparse(node)} is not linear")


def _atoms(node: ast.expr, tol: float) -> list[Atom]:
    """A conjunction of linear comparisons as atoms; NonLinear for anything else."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return [a for v in node.values for a in _atoms(v, tol)]
    if not isinstance(node, ast.Compare):
        raise NonLinear(f"{ast.unparse(node)} is not a conjunction of comparisons")
    out: list[Atom] = []
    left = node.left
    for op, right in zip(node.ops, node.comparators, strict=True):
        lc, lk = _linear(left)
        rc, rk = _linear(right)
        coefs = dict(lc)
        for v, x in rc.items():
            coefs[v] = coefs.get(v, 0.0) - x
        const = lk - rk
        sym = _CMP[type(op)]
        if sym == "!=":
            raise NonLinear("'!=' is a disjunction")
        if sym in (">", ">="):
            coefs, const = {v: -x for v, x in coefs.items()}, -const
        if not all(map(math.isfinite, [const, *coefs.values()])):
            raise OverflowError("a coefficient or constant is not finite")
        items = tuple((v, x) for v, x in coefs.items() if x != 0)
        out.append(Atom(items, const, "==" if sym == "==" else "<=", tol, sym in ("<", ">")))
        left = right
    return out


def parse_rule(text: str, index: int = 0) -> EditRule:
    """Parse one rule (``name: [if COND then] EXPR [+- TOL]``); raise RuleError if unsafe,
    too deeply nested or with numbers too large."""
    try:
        return _parse_rule(text, index)
    except RecursionError:  # a backstop: _parse_expr refuses rules nested too deeply
        raise _rule_error(str(text).strip(), _TOO_DEEP) from None
    except OverflowError:
        raise _rule_error(str(text).strip(), _TOO_LARGE) from None


def _tolerance(body: str, rule: str) -> tuple[str, float]:
    """The rule's body without its ``+- tol`` and the tolerance (0 without one)."""
    m = _TOL_RE.match(body)
    if not m:
        return body, 0.0
    tol = float(m.group(2))
    if not math.isfinite(tol):
        raise _rule_error(rule, f"has the tolerance {_shown_number(m.group(2))}, which is too "
                                "large (it must be below about 1.8e308)")
    return m.group(1).strip(), tol


def _parse_rule(text: str, index: int) -> EditRule:
    """:func:`parse_rule` without its backstops."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError(f"edit rule {index + 1} is empty", "is empty")
    # NFC, the form the data's column names are read in: a rule typed on a Mac ('dochód' as
    # 'o' and a combining accent) would otherwise lose its 'name:' (\w is no accent)
    original = unicodedata.normalize("NFC", text.strip())
    name = f"rule{index + 1}"
    comma = _DIGIT_COMMA_RE.search(original)
    if comma:  # Python reads 'wfood >= 0,5' as a pair, and '0,02' not at all
        raise _rule_error(original, f"has the number {comma.group(0)!r}; write numbers with "
                                    "'.' as the decimal mark and without thousands separators "
                                    "(0.02, 1000)")
    body = original
    m = _NAME_RE.match(body)
    if m:
        name, body = m.group(1), m.group(2).strip()
    body, tol = _tolerance(body, original)
    inner = _INNER_TOL_RE.search(body)
    if inner:  # Python would read 'b +- 5' as b + (-5): a rule tightened, not relaxed
        raise _rule_error(original, f"has {inner.group(0)!r} before its end; a tolerance is "
                                    "written once, at the end of the rule ('... == 1 +- "
                                    "0.01'); to subtract, write '-' alone")
    m = _IF_RE.match(body)
    condition = None
    if not m and _IF_START_RE.match(body):
        missing = "" if re.search(r"\bthen\b", body, re.I) else " ('then' is missing)"
        raise _rule_error(original, f"is not a valid expression{missing}; the conditional "
                                    "form is 'if <condition> then <condition>'")
    if m:
        condition = _parse_expr(m.group(1), original)
        consequence = _parse_expr(m.group(2), original)
        expression = f"if {ast.unparse(condition)} then {ast.unparse(consequence)}"
    else:
        consequence = _parse_expr(body, original)
        expression = ast.unparse(consequence)
    variables = _names(consequence) if condition is None else list(
        dict.fromkeys(_names(condition) + _names(consequence)))
    if not variables:
        raise _rule_error(original, "names no variable")
    tree = ast.Expression(body=consequence)
    rule = EditRule(name, original, expression, tree, condition, consequence, tol, variables)
    try:
        rule.consequence_atoms = _atoms(consequence, tol)
        if condition is not None:
            rule.condition_atoms = _atoms(condition, 0.0)
    except NonLinear as exc:
        rule.condition_atoms = None
        rule.nonlinear_reason = str(exc)
    return rule


def parse_each(texts: list[str]) -> tuple[list[EditRule], list[RuleError]]:
    """Every rule parsed on its own: the rules that parse, and a RuleError (its ``index``
    set) for each that does not, so that all can be reported at once."""
    rules, failed = [], []
    for i, text in enumerate(texts):
        try:
            rules.append(parse_rule(text, i))
        except RuleError as exc:
            exc.index = i
            failed.append(exc)
    return rules, failed


def closest_name(name: str, known: list[str]) -> str | None:
    """The known name closest to ``name`` ignoring case (``TOTEXP`` and ``Totexp`` both find
    ``totexp``), or None when none is close."""
    close = closest_names(name, known, 1)
    return close[0] if close else None


def closest_names(name: str, known: list[str], n: int = 3) -> list[str]:
    """Up to ``n`` known names close to ``name`` ignoring case, the closest first, and only
    those about as close as the closest (``wclothes`` finds ``wcloth``, not also ``wother``)."""
    by_lower: dict[str, str] = {}
    for k in known:
        by_lower.setdefault(k.lower(), k)
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=n)
    score = [difflib.SequenceMatcher(None, name.lower(), c).ratio() for c in close]
    return [by_lower[c] for c, x in zip(close, score, strict=True) if x >= score[0] - 0.1]


@dataclass
class RuleSet:
    """Parsed edit rules, with checks against the data's variables."""

    rules: list[EditRule] = field(default_factory=list)

    @classmethod
    def parse(cls, texts: list[str]) -> RuleSet:
        rules, failed = parse_each(texts)
        if failed:
            raise failed[0]
        return cls.of(rules)

    @classmethod
    def of(cls, rules: list[EditRule]) -> RuleSet:
        """Rules already parsed, as one set: two rules of one name are a RuleError."""
        seen: dict[str, str] = {}
        for i, r in enumerate(rules):
            if r.name in seen:
                raise RuleError(f"two edit rules are named {r.name!r}: {seen[r.name]!r} and "
                                f"{r.text!r}", f"reuses the name {r.name!r} of edit rule "
                                f"{seen[r.name]!r}; give each rule its own name", i)
            seen[r.name] = r.text
        return cls(rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.rules)

    @property
    def variables(self) -> list[str]:
        return list(dict.fromkeys(v for r in self.rules for v in r.variables))

    @property
    def linear_rules(self) -> list[EditRule]:
        return [r for r in self.rules if r.linear]

    def check_variables(self, known: list[str], where: str = "the data") -> None:
        for r in self.rules:
            for v in r.variables:
                if v not in known:
                    close = closest_name(v, known)
                    hint = f" (did you mean {close!r}?)" if close else ""
                    raise RuleError(f"edit rule {r.name!r} ({r.text!r}) names variable {v!r}, "
                                    f"which is not in {where}{hint}")

    def evaluate(self, values: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
        """(passes, evaluable) boolean matrices of shape (records, rules)."""
        passes = np.ones((n, len(self.rules)), dtype=bool)
        evaluable = np.ones((n, len(self.rules)), dtype=bool)
        for j, r in enumerate(self.rules):
            p, e = r.evaluate(values)
            passes[:, j] = np.broadcast_to(p, (n,))
            evaluable[:, j] = np.broadcast_to(e, (n,))
        return passes, evaluable
