"""Linear edit rules as a mixed-integer program (scipy.optimize.milp).

Three uses: the consistency check of a rule set (is there any record that passes every rule,
and if not, which rules conflict), Fellegi-Holt error localisation (the smallest weighted set of
fields whose change lets a record pass every edit) and the minimal adjustment of imputed values
(change imputed fields as little as possible so that the record passes).

Conditional rules ``if C then B`` become disjunctions with binary variables and big-M
constraints; M comes from each variable's bounds (metadata, else the data's range).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from mlstat_editimpute.rules import STRICT_EPS, Atom, EditRule, RuleError


@dataclass
class _Row:
    coefs: np.ndarray  # over the x variables
    aux: dict[int, float]  # binary index -> coefficient placeholder sign (+1: M * z)
    lb: float
    ub: float
    relax: int | None = None  # aux binary that switches the row on (z = 1 -> row holds)


class LinearSystem:
    """The linear edit rules over a fixed list of variables with bounds."""

    def __init__(self, rules: list[EditRule], variables: list[str], lower: np.ndarray,
                 upper: np.ndarray, integer: np.ndarray) -> None:
        self.rules = [r for r in rules if r.linear]
        self.variables = list(variables)
        self.index = {v: i for i, v in enumerate(self.variables)}
        self.lower = np.asarray(lower, dtype=float)
        self.upper = np.asarray(upper, dtype=float)
        self.integer = np.asarray(integer, dtype=bool)
        self.n = len(self.variables)
        self.rows: list[_Row] = []
        self.groups: list[list[int]] = []  # each: aux binaries of which at least one is 1
        self.row_rule: list[int] = []
        self.n_aux = 0
        for k, rule in enumerate(self.rules):
            self._add_rule(k, rule)

    # -- building -------------------------------------------------------------------------

    def _vector(self, atom: Atom) -> np.ndarray:
        vec = np.zeros(self.n)
        for v, c in atom.coefs:
            vec[self.index[v]] += c
        return vec

    def _eps(self, atom: Atom) -> float:
        ints = all(self.integer[self.index[v]] and float(c).is_integer() for v, c in atom.coefs)
        return 1.0 if ints and float(atom.const).is_integer() else STRICT_EPS

    def _atom_rows(self, atom: Atom, relax: int | None) -> list[_Row]:
        vec = self._vector(atom)
        if atom.op == "==":
            return [_Row(vec, {}, -atom.const - atom.tol, -atom.const + atom.tol, relax)]
        ub = -atom.const + atom.tol - (self._eps(atom) if atom.strict else 0.0)
        return [_Row(vec, {}, -np.inf, ub, relax)]

    def _add_rule(self, k: int, rule: EditRule) -> None:
        assert rule.consequence_atoms is not None
        if rule.condition is None:
            for atom in rule.consequence_atoms:
                for row in self._atom_rows(atom, None):
                    self.rows.append(row)
                    self.row_rule.append(k)
            return
        assert rule.condition_atoms is not None
        holds = self._new_aux()
        group = [holds]
        for atom in rule.consequence_atoms:
            for row in self._atom_rows(atom, holds):
                self.rows.append(row)
                self.row_rule.append(k)
        for atom in rule.condition_atoms:
            for neg in atom.negated():
                z = self._new_aux()
                group.append(z)
                for row in self._atom_rows(neg, z):
                    self.rows.append(row)
                    self.row_rule.append(k)
        self.groups.append(group)

    def _new_aux(self) -> int:
        self.n_aux += 1
        return self.n_aux - 1

    # -- matrices for given bounds -----------------------------------------------------------

    def constraints(self, xlo: np.ndarray, xhi: np.ndarray, n_extra: int = 0,
                    rules: list[int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(A, lb, ub) over [x, aux, extra] for a box of x; big-M from the box."""
        keep = [i for i, r in enumerate(self.row_rule) if rules is None or r in rules]
        groups = [g for g in self.groups
                  if rules is None or self._group_rule(g) in rules]
        width = self.n + self.n_aux + n_extra
        A = np.zeros((len(keep) * 2 + len(groups), width))
        lb = np.full(A.shape[0], -np.inf)
        ub = np.full(A.shape[0], np.inf)
        r = 0
        for i in keep:
            row = self.rows[i]
            A[r, : self.n] = row.coefs
            if row.relax is None:
                lb[r], ub[r] = row.lb, row.ub
                r += 1
                continue
            hi_val = np.sum(np.maximum(row.coefs * xlo, row.coefs * xhi))
            lo_val = np.sum(np.minimum(row.coefs * xlo, row.coefs * xhi))
            if np.isfinite(row.ub):  # coefs.x <= ub + M (1 - z)  ->  coefs.x + M z <= ub + M
                m = max(hi_val - row.ub, 0.0) + 1.0
                A[r, self.n + row.relax] = m
                ub[r] = row.ub + m
                r += 1
            if np.isfinite(row.lb):  # coefs.x >= lb - M (1 - z)  ->  coefs.x - M z >= lb - M
                if np.isfinite(row.ub):
                    A[r, : self.n] = row.coefs
                m = max(row.lb - lo_val, 0.0) + 1.0
                A[r, self.n + row.relax] = -m
                lb[r] = row.lb - m
                r += 1
        for g in groups:
            A[r, [self.n + z for z in g]] = 1.0
            lb[r] = 1.0
            r += 1
        return A[:r], lb[:r], ub[:r]

    def _group_rule(self, group: list[int]) -> int:
        for i, row in enumerate(self.rows):
            if row.relax == group[0]:
                return self.row_rule[i]
        return -1

    # -- uses --------------------------------------------------------------------------------

    def feasible(self, rules: list[int] | None = None, lower: np.ndarray | None = None,
                 upper: np.ndarray | None = None) -> bool:
        """Whether some record within the bounds (default: the variables' ranges) passes
        the rules (default: all)."""
        lower = self.lower if lower is None else lower
        upper = self.upper if upper is None else upper
        A, lb, ub = self.constraints(lower, upper, rules=rules)
        width = self.n + self.n_aux
        integrality = np.concatenate([self.integer.astype(int), np.ones(self.n_aux, int)])
        bounds = Bounds(np.concatenate([lower, np.zeros(self.n_aux)]),
                        np.concatenate([upper, np.ones(self.n_aux)]))
        cons = [LinearConstraint(A, lb, ub)] if len(A) else []
        res = milp(np.zeros(width), constraints=cons, integrality=integrality, bounds=bounds,
                   options={"time_limit": 10})
        return res.status == 0

    def conflicts(self) -> list[int]:
        """Indices (into ``self.rules``) of a minimal set of rules that cannot hold together
        within the bounds; empty when the rules are consistent (deletion filter)."""
        every = list(range(len(self.rules)))
        if self.feasible(every):
            return []
        keep = list(every)
        for k in every:
            trial = [i for i in keep if i != k]
            if not self.feasible(trial):
                keep = trial
        return keep

    def conflicting_bounds(self, rules: list[int]) -> list[tuple[int, str]]:
        """The bounds (variable index, ``"min"`` or ``"max"``) that take part in the conflict
        of ``rules``: a minimal set that, with those rules, no record can satisfy (deletion
        filter: a bound is left out when the rest still conflict without it). Every one of
        them is needed, so widening any of them lets the rules hold. Empty when the rules
        contradict each other whatever the ranges."""
        involved = sorted({self.index[v] for k in rules for v in self.rules[k].variables})
        span = np.maximum(self.upper - self.lower, 1.0)
        wide_lo, wide_hi = self.lower - 1e3 * span - 1e4, self.upper + 1e3 * span + 1e4

        def feasible_without(bounds: list[tuple[int, str]]) -> bool:
            lo, hi = self.lower.copy(), self.upper.copy()
            for j, side in bounds:
                if side == "min":
                    lo[j] = wide_lo[j]
                else:
                    hi[j] = wide_hi[j]
            return self.feasible(rules, lo, hi)

        every = [(j, side) for j in involved for side in ("min", "max")]
        if not feasible_without(every):
            return []
        dropped: list[tuple[int, str]] = []
        for bound in every:
            if not feasible_without([*dropped, bound]):
                dropped.append(bound)
        return [b for b in every if b not in dropped]

    def localise(self, values: np.ndarray, must_change: np.ndarray, frozen: np.ndarray,
                 cost: np.ndarray, lower: np.ndarray | None = None,
                 upper: np.ndarray | None = None) -> np.ndarray | None:
        """Fellegi-Holt: boolean mask of the fields to change (minimum total ``cost``) so that
        the record can pass every linear rule, or None when no such set exists. A value
        outside ``lower``/``upper`` (default: the variables' ranges) must change."""
        n = self.n
        lower = self.lower if lower is None else np.asarray(lower, float)
        upper = self.upper if upper is None else np.asarray(upper, float)
        v = np.where(np.isnan(values), lower, values)
        out_of_box = (v < lower - 1e-12) | (v > upper + 1e-12)
        must = must_change | out_of_box
        if np.any(must & frozen):
            return None
        A, lb, ub = self.constraints(lower, upper, n_extra=n)
        # link rows: x_j - v_j <= (hi_j - v_j) y_j ; v_j - x_j <= (v_j - lo_j) y_j
        link = np.zeros((2 * n, A.shape[1]))
        llb = np.full(2 * n, -np.inf)
        lub = np.full(2 * n, np.inf)
        off = n + self.n_aux
        for j in range(n):
            if must[j]:
                continue
            link[2 * j, j] = 1.0
            link[2 * j, off + j] = -max(upper[j] - v[j], 0.0)
            lub[2 * j] = v[j]
            link[2 * j + 1, j] = -1.0
            link[2 * j + 1, off + j] = -max(v[j] - lower[j], 0.0)
            lub[2 * j + 1] = -v[j]
        A = np.vstack([A, link])
        lb = np.concatenate([lb, llb])
        ub = np.concatenate([ub, lub])
        c = np.concatenate([np.zeros(n + self.n_aux), cost])
        ylo = np.where(must, 1.0, 0.0)
        yhi = np.where(frozen, 0.0, 1.0)
        bounds = Bounds(np.concatenate([lower, np.zeros(self.n_aux), ylo]),
                        np.concatenate([upper, np.ones(self.n_aux), yhi]))
        integrality = np.concatenate([self.integer.astype(int), np.ones(self.n_aux + n, int)])
        res = milp(c, constraints=[LinearConstraint(A, lb, ub)], integrality=integrality,
                   bounds=bounds, options={"time_limit": 5})
        if res.status != 0 or res.x is None:
            return None
        return res.x[off:] > 0.5

    def adjust(self, values: np.ndarray, free: np.ndarray, scale: np.ndarray
               ) -> np.ndarray | None:
        """Values of the free fields changed as little as possible (sum of |change| / scale)
        so that the record passes every linear rule; None when impossible."""
        n = self.n
        v = np.where(np.isnan(values), np.clip(0.0, self.lower, self.upper), values)
        xlo = np.where(free, self.lower, v)
        xhi = np.where(free, self.upper, v)
        if np.any(xlo > xhi):
            return None
        boxlo, boxhi = np.minimum(xlo, self.lower), np.maximum(xhi, self.upper)
        A, lb, ub = self.constraints(boxlo, boxhi, n_extra=2 * n)
        off = n + self.n_aux
        dev = np.zeros((n, A.shape[1]))
        for j in range(n):  # x_j - d+_j + d-_j = v_j
            dev[j, j] = 1.0
            dev[j, off + j] = -1.0
            dev[j, off + n + j] = 1.0
        # aim a little inside each inequality: a solution on the boundary may fail the
        # rule's own check by the solver's feasibility tolerance
        rule_rows = len(A) - len([g for g in self.groups])
        span = ub[:rule_rows] - lb[:rule_rows]
        inside = np.where(span > 4 * ADJUST_MARGIN, ADJUST_MARGIN, 0.0)
        lb[:rule_rows] = np.where(np.isfinite(lb[:rule_rows]), lb[:rule_rows] + inside,
                                  lb[:rule_rows])
        ub[:rule_rows] = np.where(np.isfinite(ub[:rule_rows]), ub[:rule_rows] - inside,
                                  ub[:rule_rows])
        A = np.vstack([A, dev])
        lb = np.concatenate([lb, v])
        ub = np.concatenate([ub, v])
        w = np.where(free, 1.0 / np.maximum(scale, 1e-12), 0.0)
        c = np.concatenate([np.zeros(off), w, w])
        bounds = Bounds(np.concatenate([xlo, np.zeros(self.n_aux + 2 * n)]),
                        np.concatenate([xhi, np.ones(self.n_aux), np.full(2 * n, np.inf)]))
        integrality = np.concatenate([self.integer.astype(int), np.ones(self.n_aux, int),
                                      np.zeros(2 * n, int)])
        res = milp(c, constraints=[LinearConstraint(A, lb, ub)], integrality=integrality,
                   bounds=bounds, options={"time_limit": 5})
        if res.status != 0 or res.x is None:
            return None
        x = res.x[:n].copy()
        x[self.integer] = np.round(x[self.integer])
        return np.where(free, x, values)


ADJUST_MARGIN = 1e-6
"""How far inside an inequality the adjustment aims (HiGHS is feasible to about 1e-7)."""


def check_consistency(system: LinearSystem, where: dict[str, str] | None = None) -> None:
    """Raise RuleError naming the rules in conflict when no record can pass them all, and
    the allowed ranges of the variables that take part (``where``: variable -> where its
    range comes from, e.g. "the metadata")."""
    conflict = system.conflicts()
    if not conflict:
        return
    bounds = system.conflicting_bounds(conflict)
    named = "; ".join(repr(system.rules[k].text) for k in conflict)
    if not bounds:
        raise RuleError(f"the edit rules contradict each other: no record within the "
                        f"variables' allowed ranges can pass all of {named}")
    where = where or {}
    order = {v: i for i, v in enumerate(dict.fromkeys(re.findall(r"[A-Za-z_]\w*", named)))}
    bounds.sort(key=lambda b: order.get(system.variables[b[0]], len(order)))
    ranges = list(dict.fromkeys(j for j, _ in bounds))
    sources = {where.get(system.variables[j], "the data") for j in ranges}
    shown = ", ".join(
        f"{system.variables[j]!r} [{system.lower[j]:g}, {system.upper[j]:g}]"
        + ("" if len(sources) == 1 else f" (from {where.get(system.variables[j], 'the data')})")
        for j in ranges) + (f" (from {sources.pop()})" if len(sources) == 1 else "")
    limits = ", ".join(
        f"{system.variables[j]} {'>=' if side == 'min' else '<='} "
        f"{system.lower[j] if side == 'min' else system.upper[j]:g}" for j, side in bounds)
    one = len(bounds) == 1
    within = (f"the allowed range{'' if len(ranges) == 1 else 's'} of {shown}, whose "
              f"bound{'' if one else 's'} {limits} take{'s' if one else ''} part")
    if len(conflict) == 1:
        raise RuleError(f"edit rule {named} cannot hold within {within}: no record can pass "
                        "it; fix the rule or the range (the metadata's min and max)")
    raise RuleError(f"the edit rules {named} contradict each other within {within}: no record "
                    "can pass them all; fix the rules or the ranges (the metadata's min and "
                    "max)")
