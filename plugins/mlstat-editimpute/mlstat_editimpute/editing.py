"""The editing process for one partition of records, as an NSO runs it:

1. deductive corrections: likely unit errors (x10, x100, x1000) and sign errors are undone
   when the corrected value fits the record (suspicion score) and the allowed range;
2. detection: values far from what the record's other values predict, or outside the
   range the training data make plausible where the metadata gives no min or max, or
   category codes the training data never hold, are suspicious, and blanked (``suspicious
   = 'impute'``) or kept as received, flagged, their record sent to review (``'review'``)
   or passing (``'keep'``), unless step 3 or a metadata range blanks them (only the
   metadata's range makes a value invalid); one that may not be imputed is never blanked
   or changed: kept, its record sent to review (unless ``'keep'``);
3. error localisation (Fellegi-Holt): for each record failing an edit, the smallest weighted
   set of fields to change is blanked;
4. imputation of every blank imputable cell by the chosen method;
5. adjustment: prorating for balance edits, then the smallest change of imputed values (and,
   if needed, of a minimal set of further fields) so that every record passes every edit;
6. a record no adjustment can make pass is flagged for manual review, never left silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlstat_editimpute.detect import Scorer
from mlstat_editimpute.imputers import Imputer, recorded_step, snap
from mlstat_editimpute.rules import RuleSet, WholeNumberRule, whole_number_rules
from mlstat_editimpute.solver import LinearSystem, check_consistency

ORIGINAL, EDITED, SUSPICIOUS = "original", "edited", "suspicious"
"""Cell flags: as received; changed by a rule; kept as received though suspicious (its
record passed its hard edits and ``suspicious`` is 'review' or 'keep')."""
UNCHANGED_TOL = 1e-9
"""Relative difference below which a treated value is the value as received (float noise)."""
MAX_CODES_SHOWN = 10
"""Category codes seen in training that a reason lists at most."""
RANGE_WARN_SHARE = 0.05
"""Share of observed values outside a variable's metadata range above which fit warns."""


@dataclass
class EditOutcome:
    values: pd.DataFrame
    flags: np.ndarray  # (n, p) strings
    reasons: np.ndarray  # (n, p) strings
    failed_before: np.ndarray  # (n, rules) bool: on the values as received
    failed_localised: np.ndarray  # (n, rules) bool: still failed when localisation began
    passes_after: np.ndarray  # (n,) bool
    needs_review: np.ndarray  # (n,) bool
    review_reason: np.ndarray  # (n,) strings
    suspicion: np.ndarray  # (n,) float


def declared_type(info: dict[str, Any]) -> str | None:
    """The variable's type as the metadata declares it; None where there is none, or where the
    type was only guessed from the data (``guessed``)."""
    return None if info.get("guessed") else info.get("type")


ABOVE_SHARE = 0.05
"""How much of its weight a field's localisation cost loses as its z grows past the threshold
(at most; the cost is 1.1 x its weight at z = 0, 1 x at the threshold)."""


def localisation_cost(z: np.ndarray, weights: np.ndarray, threshold: float) -> np.ndarray:
    """Fellegi-Holt cost of changing each field: its weight, up to 10% more the less
    suspicious it is below the threshold, and up to :data:`ABOVE_SHARE` less the further its
    z is above: among fields of equal weight the most suspicious is changed, even when
    several are above the threshold."""
    below = np.clip(z / threshold, 0, 1)
    with np.errstate(divide="ignore"):
        above = np.where(z > threshold, 1.0 - threshold / np.maximum(z, threshold), 0.0)
    return weights * (1.0 + 0.1 * (1.0 - below) - ABOVE_SHARE * above)


def _info_weight(info: dict[str, Any]) -> float:
    """The metadata's reliability weight; 1 where it gives none (a weight of 0 is refused as
    the metadata is read, never turned into 1)."""
    weight = info.get("weight")
    return 1.0 if weight is None else float(weight)


class Editor:
    """Rules, bounds and solver over the model's variables; fitted on the training data."""

    def __init__(self, variables: list[str], infos: dict[str, dict[str, Any]], rules: RuleSet,
                 weights: dict[str, float], imputable: dict[str, bool]) -> None:
        self.variables = list(variables)
        self.infos = infos
        # the metadata's types, not those guessed from the data: a variable declared integer
        # (or categorical: whole codes) gets a hard whole-number edit, one that merely holds
        # whole numbers does not (its imputations are rounded to its recorded step instead)
        declared = {v: declared_type(infos.get(v, {})) for v in self.variables}
        declared = {v: t for v, t in declared.items() if t in ("integer", "categorical")}
        self.rules = RuleSet([*rules.rules,
                              *whole_number_rules(declared, [r.name for r in rules])])
        self.weights = np.array([float(weights.get(v, _info_weight(infos.get(v, {}))))
                                 for v in self.variables])
        self.imputable = np.array([bool(imputable.get(v, True)) for v in self.variables])
        p = len(self.variables)
        self.lower = np.full(p, -np.inf)
        self.upper = np.full(p, np.inf)
        # whole-number solving and rounding, as before the whole-number edit: for every
        # integer or categorical type, declared or guessed (categories are whole codes)
        self.integer = np.array([infos.get(v, {}).get("type") in ("integer", "categorical")
                                 for v in self.variables])
        self.scale = np.ones(p)
        self.steps = np.zeros(p)  # the precision each variable is recorded at (0: none)
        self.from_metadata = np.array([[infos.get(v, {}).get(k) is not None
                                        for k in ("min", "max")] for v in self.variables],
                                      dtype=bool).reshape(p, 2)  # (min, max) from metadata
        # the codes each variable declared categorical takes in the training data: another
        # code is suspicious (a model saved before they were kept checks none)
        self.categorical = [v for v in self.variables if declared.get(v) == "categorical"]
        self.codes: dict[str, np.ndarray] = {}
        self.meta_lower = np.full(p, -np.inf)
        self.meta_upper = np.full(p, np.inf)
        self.system: LinearSystem | None = None
        self.sys_idx: list[int] = []

    # -- fitting --------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, check: bool = True) -> Editor:
        for j, v in enumerate(self.variables):
            col = X[v].dropna().to_numpy(float)
            info = self.infos.get(v, {})
            q_lo, q_hi = (np.quantile(col, [0.001, 0.999]) if col.size else (0.0, 1.0))
            span = max(q_hi - q_lo, abs(q_hi), 1.0)
            lo = info.get("min")
            hi = info.get("max")
            self.lower[j] = lo if lo is not None else (0.0 if q_lo >= 0 else q_lo - span)
            self.upper[j] = hi if hi is not None else q_hi + span
            iqr = np.subtract(*np.quantile(col, [0.75, 0.25])) if col.size else 1.0
            self.scale[j] = max(float(iqr), 1e-6 * max(abs(q_hi), 1.0), 1e-9)
            self.steps[j] = recorded_step(col)
            if v in self.categorical:
                self.codes[v] = np.unique(col)
        self._keep_metadata_bounds()
        self.build_system(check)
        return self

    def build_system(self, check: bool = True) -> None:
        linear = self.rules.linear_rules
        names = list(dict.fromkeys(v for r in linear for v in r.variables))
        self.sys_idx = [self.variables.index(v) for v in names]
        if not linear:
            self.system = None
            return
        self.system = LinearSystem(linear, names, self.lower[self.sys_idx],
                                   self.upper[self.sys_idx], self.integer[self.sys_idx])
        if check:
            where = {v: "the metadata" if self.from_metadata[j].any() else "the training data"
                     for v, j in zip(names, self.sys_idx, strict=True)}
            check_consistency(self.system, where)

    def _keep_metadata_bounds(self) -> None:
        """Set (once the ranges are known) the bounds the metadata gives, infinite where it
        gives none."""
        self.meta_lower = np.where(self.from_metadata[:, 0], self.lower, -np.inf)
        self.meta_upper = np.where(self.from_metadata[:, 1], self.upper, np.inf)

    def outside_metadata(self, values: np.ndarray) -> np.ndarray:
        """Per cell (the last axis: the variables), whether a value is present and outside
        its metadata range: invalid."""
        with np.errstate(invalid="ignore"):
            return ~np.isnan(values) & ((values < self.meta_lower) | (values > self.meta_upper))

    def beyond_training(self, values: np.ndarray) -> np.ndarray:
        """Per cell, whether a value is present and outside the range the training data make
        plausible (the metadata's where it gives one)."""
        with np.errstate(invalid="ignore"):
            return ~np.isnan(values) & ((values < self.lower) | (values > self.upper))

    def unseen_codes(self, values: np.ndarray) -> np.ndarray:
        """Per cell, whether a whole value of a variable declared categorical is a code the
        training data never hold (a new code: suspicious)."""
        out = np.zeros(values.shape, dtype=bool)
        for v, codes in self.codes.items():
            j = self.variables.index(v)
            col = values[:, j]
            with np.errstate(invalid="ignore"):
                out[:, j] = ~np.isnan(col) & (np.mod(col, 1) == 0) & ~np.isin(col, codes)
        return out

    def range_warnings(self, X: pd.DataFrame) -> list[str]:
        """A warning for each variable whose metadata range excludes more than
        RANGE_WARN_SHARE of its observed values: a typo in the metadata (max 100 for 1000)
        would otherwise silently turn good values into errors to replace (or, for a variable
        that may not be imputed, send their records to review)."""
        out = []
        values = X[self.variables].to_numpy(float)
        outside_all = self.outside_metadata(values)
        for j, v in enumerate(self.variables):
            if not self.from_metadata[j].any():
                continue
            lo, hi = self.meta_lower[j], self.meta_upper[j]
            col = values[~np.isnan(values[:, j]), j]
            outside = int(outside_all[:, j].sum())
            if col.size and outside / col.size > RANGE_WARN_SHARE:
                fate = ("they are treated as errors and imputed" if self.imputable[j] else
                        f"{v!r} may not be imputed (imputable = false), so their records fail "
                        "the edits and go to manual review")
                out.append(f"{outside} of {col.size} observed values of {v!r} "
                           f"({outside / col.size:.0%}) lie outside its metadata range "
                           f"[{lo:g}, {hi:g}]; {fate}: check the metadata's min and max for "
                           f"{v!r}")
        fraction = self.not_whole(values)
        for rule in self.whole_rules:
            v = rule.variables[0]
            j = self.variables.index(v)
            count, observed = int(fraction[:, j].sum()), int((~np.isnan(values[:, j])).sum())
            if observed and count / observed > RANGE_WARN_SHARE:
                out.append(f"{count} of {observed} observed values of {v!r} "
                           f"({count / observed:.0%}) are not whole numbers, though the "
                           f"metadata declares it {rule.kind}; they fail edit rule "
                           f"{rule.name} and are treated as errors: check the metadata's type "
                           f"for {v!r} (numeric, if it is measured)")
        return out

    def json_state(self) -> dict[str, Any]:
        return {"lower": self.lower.tolist(), "upper": self.upper.tolist(),
                "scale": self.scale.tolist(), "steps": self.steps.tolist(),
                "codes": {v: c.tolist() for v, c in self.codes.items()}}

    def restore(self, js: dict[str, Any]) -> None:
        self.lower = np.asarray(js["lower"], float)
        self.upper = np.asarray(js["upper"], float)
        self.scale = np.asarray(js["scale"], float)
        self.steps = np.asarray(js.get("steps", np.zeros(len(self.variables))), float)
        # saved before the training codes were kept: no code is new to it, as then
        self.codes = {v: np.asarray(c, float) for v, c in js.get("codes", {}).items()}
        self._keep_metadata_bounds()
        self.build_system(check=False)

    # -- checking ---------------------------------------------------------------------------

    def evaluate(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        env = {v: values[:, j] for j, v in enumerate(self.variables)}
        return self.rules.evaluate(env, len(values))

    def passes(self, values: np.ndarray) -> np.ndarray:
        ok, _ = self.evaluate(values)
        return ok.all(axis=1) & ~np.isnan(values[:, self.rule_var_idx]).any(axis=1)

    @property
    def rule_var_idx(self) -> list[int]:
        return [self.variables.index(v) for v in self.rules.variables]

    # -- the process --------------------------------------------------------------------------

    def run(self, X: pd.DataFrame, imputer: Imputer, scorer: Scorer | None,
            detect: bool, threshold: float, correct_units: bool,
            suspicious: str = "impute") -> EditOutcome:
        """Edit and impute the records of ``X``. A value detection finds suspicious (or one
        beyond the range the training data make plausible where the metadata sets none, or a
        category code the training data never hold) is blanked and imputed (``suspicious =
        'impute'``), or kept as received (``'review'``, ``'keep'``) unless a hard edit's
        localisation or a metadata range blanks it."""
        n, p = X.shape
        values = X[self.variables].to_numpy(float, copy=True)
        received = values.copy()
        flags = np.full((n, p), ORIGINAL, dtype=object)
        reasons = np.full((n, p), "", dtype=object)
        blank = np.isnan(values) & self.imputable
        reasons[blank] = "missing"
        review_reason = np.full(n, "", dtype=object)
        ok, evaluable = self.evaluate(values)
        failed_before = evaluable & ~ok  # the data as received, before any treatment
        missing_frozen = self._missing_frozen(values, reasons, review_reason)
        zfull, suspicion, suspect = self._score(values, blank, scorer, detect, threshold,
                                                correct_units, suspicious, flags, reasons)
        why, suspect = self._screen(values, blank, zfull, suspect, suspicious, reasons)
        frozen_out = self._frozen_out_of_range(values, reasons, review_reason)

        current = np.where(blank, np.nan, values)
        ok, evaluable = self.evaluate(current)
        failed_localised = evaluable & ~ok
        self._localise(current, blank, failed_localised, zfull, threshold, reasons,
                       review_reason)
        current = np.where(blank, np.nan, values)

        filled = imputer.impute(pd.DataFrame(current, columns=self.variables, index=X.index),
                                pd.DataFrame(blank, columns=self.variables, index=X.index),
                                self.rules).to_numpy(float)
        filled = np.where(blank, self._tidy(filled), current)
        flags[blank] = f"imputed:{imputer.method}"
        before = filled.copy()
        self._adjust(filled, blank, values, flags, reasons)
        treated = blank | (np.abs(filled - before) > 1e-12)
        self.round_treated(filled, treated)
        # a treated value of a variable declared integer is whole even where the record fails
        # (its whole-number edit fails anyway; nothing may invent a fractional count)
        fraction = treated & self.not_whole(filled)
        filled[fraction] = np.round(filled[fraction])
        self._keep_unchanged(filled, received, flags, reasons)
        # a record missing a value that may not be imputed fails, whether or not a rule uses
        # that value: nothing automatic completed it. So needs_review is exactly not
        # edit_pass, and what counts the records handled without a person (the core's
        # automation_rate reads edit_pass) never counts one sent to a clerk
        passes = self.passes(filled) & ~frozen_out & ~missing_frozen.any(axis=1)
        review_reason[passes] = ""  # a localisation the adjustment overtook: it passes
        newly = ~passes & (review_reason == "")
        review_reason[newly] = "no adjustment lets the record pass every edit"
        self._name_unchecked(filled, newly, review_reason)
        kept = suspect & ~blank & (flags == ORIGINAL) & (filled == received)
        held = self._flag_kept(kept, filled, why, suspicious, flags, reasons, review_reason)
        passes &= ~held
        return EditOutcome(pd.DataFrame(filled, columns=self.variables, index=X.index),
                           flags, reasons, failed_before, failed_localised, passes, ~passes,
                           review_reason, suspicion)

    def _missing_frozen(self, values: np.ndarray, reasons: np.ndarray,
                        review_reason: np.ndarray) -> np.ndarray:
        """Per cell, whether a value that may not be imputed is missing: its record goes to
        review, saying so."""
        missing = np.isnan(values) & ~self.imputable
        reasons[missing] = "missing, and may not be imputed (kept as it is)"
        for r in np.flatnonzero(missing.any(axis=1)):
            names = [self.variables[j] for j in np.flatnonzero(missing[r])]
            review_reason[r] = (f"{', '.join(map(repr, names))} "
                                f"{'is' if len(names) == 1 else 'are'} missing and may not "
                                "be imputed")
        return missing

    def _score(self, values: np.ndarray, blank: np.ndarray, scorer: Scorer | None,
               detect: bool, threshold: float, correct_units: bool, suspicious: str,
               flags: np.ndarray, reasons: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Score the values (robust z per cell), undo unit and sign errors (``correct_units``)
        and, with ``detect``, find the suspicious values: blanked (added to ``blank``) with
        ``suspicious = 'impute'``, else returned to be kept. Returns (z per cell, the
        record's suspicion on the values as reported, the suspicious values to keep)."""
        n, p = values.shape
        zfull, suspect = np.zeros((n, p)), np.zeros((n, p), dtype=bool)
        if scorer is None:
            return zfull, np.zeros(n), suspect
        sidx = [self.variables.index(v) for v in scorer.variables]
        frame = pd.DataFrame(values[:, sidx], columns=scorer.variables)
        expected = scorer.expected(frame)
        z = scorer.zscores(frame, expected)
        # the record's suspicion is scored on the values as reported, before any
        # correction: a unit error undone below must still rank its record for review
        reported = np.nan_to_num(z, nan=0.0)
        suspicion = reported.max(axis=1) if reported.shape[1] else np.zeros(n)
        if correct_units:
            self._deductive(values, z, expected, scorer, sidx, threshold, flags, reasons)
            frame = pd.DataFrame(values[:, sidx], columns=scorer.variables)
            z = scorer.zscores(frame, scorer.expected(frame))
        zfull[:, sidx] = np.nan_to_num(z, nan=0.0)
        if detect:
            rowmax = zfull.max(axis=1, keepdims=True)
            hit = (zfull > threshold) & (zfull >= 0.5 * rowmax) & self.imputable & ~blank
            if suspicious != "impute":
                return zfull, suspicion, hit
            for r, j in zip(*np.nonzero(hit), strict=True):
                reasons[r, j] = f"suspicious value (robust z = {zfull[r, j]:.1f})"
            blank |= hit
        return zfull, suspicion, suspect

    def _screen(self, values: np.ndarray, blank: np.ndarray, z: np.ndarray,
                suspect: np.ndarray, suspicious: str, reasons: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """Blank (add to ``blank``) the values of imputable variables outside their metadata
        range or not the whole number their declared type asks for: invalid. A value beyond
        the range the training data make plausible, or a category code they never hold, is
        suspicious: blanked with ``suspicious = 'impute'``, else added to ``suspect``.
        Returns (why each cell is suspicious, the suspicious values to keep)."""
        outside = self.outside_metadata(values)
        out_of_range = outside & self.imputable & ~blank
        for r, j in zip(*np.nonzero(out_of_range), strict=True):
            reasons[r, j] = (f"outside the allowed range [{self.meta_lower[j]:g}, "
                             f"{self.meta_upper[j]:g}]")
        blank |= out_of_range
        not_whole = self.not_whole(values)
        # a value that may not be imputed is judged too, never blanked: one outside its
        # metadata range or not whole already sends its record to review
        odd = ~blank & ~((outside | not_whole) & ~self.imputable)
        beyond = self.beyond_training(values) & odd
        unseen = self.unseen_codes(values) & odd & ~not_whole
        why = self._suspicion_why(values, z, suspect, beyond, unseen)
        odd = beyond | unseen
        if suspicious == "impute":  # suspicious, never invalid
            for r, j in zip(*np.nonzero(odd & self.imputable), strict=True):
                reasons[r, j] = f"suspicious value ({why[r, j]})"
            blank |= odd & self.imputable
            suspect = suspect | (odd & ~self.imputable)  # kept, for review
        else:
            suspect = suspect | odd
        for r, j in zip(*np.nonzero(not_whole & self.imputable & ~blank), strict=True):
            reasons[r, j] = self._not_whole_reason(j, values[r, j])
        blank |= not_whole & self.imputable
        return why, suspect

    def _name_unchecked(self, values: np.ndarray, records: np.ndarray,
                        review_reason: np.ndarray) -> None:
        """Name, in the review reason of each of ``records``, the rules that give no answer
        although every value they use is present (a ratio edit dividing 0 by 0): such a
        record fails, and 'no adjustment lets it pass' would send the clerk looking for a
        failed rule that ``failed_rules`` does not list."""
        _, evaluable = self.evaluate(values)
        present = ~np.isnan(values)
        for r in np.flatnonzero(records):
            unchecked = [rule.name for j, rule in enumerate(self.rules) if not evaluable[r, j]
                         and all(present[r, self.variables.index(v)] for v in rule.variables)]
            if unchecked:
                review_reason[r] = (
                    f"edit rule(s) {', '.join(map(repr, unchecked))} cannot be checked on "
                    "this record: with its values the rule gives no number (such as 0 divided "
                    "by 0)")

    def _suspicion_why(self, values: np.ndarray, z: np.ndarray, hit: np.ndarray,
                       beyond: np.ndarray, unseen: np.ndarray) -> np.ndarray:
        """Per cell, why it is suspicious: its robust z (``hit``); ``beyond`` the range the
        training data make plausible (for a side the metadata gives no min or max), that
        range; a code ``unseen`` in training, the codes seen."""
        why = np.full(z.shape, "", dtype=object)
        for r, j in zip(*np.nonzero(hit), strict=True):
            why[r, j] = f"robust z = {z[r, j]:.1f}"
        for mask, say in ((beyond, self._beyond_reason), (unseen, self._unseen_reason)):
            for r, j in zip(*np.nonzero(mask), strict=True):
                said = say(j, values[r, j])
                why[r, j] = f"{why[r, j]}; {said}" if why[r, j] else said
        return why

    def _beyond_reason(self, j: int, value: float) -> str:
        """Why ``value`` of variable ``j`` is beyond the range the training data make
        plausible: that range, and how it was drawn."""
        bounds = f"[{self.lower[j]:g}, {self.upper[j]:g}]"
        how = ("their 99.9th percentile plus a margin" if value > self.upper[j] else
               "0, their 0.1st percentile not being negative" if self.lower[j] == 0 else
               "their 0.1st percentile minus a margin")
        return (f"beyond the range the training data make plausible {bounds} ({how}), the "
                "metadata giving no min or max")

    def _unseen_reason(self, j: int, value: float) -> str:
        """Why code ``value`` of categorical variable ``j`` is suspicious: the codes seen."""
        v = self.variables[j]
        seen = self.codes[v]
        listed = ", ".join(f"{c:g}" for c in seen[:MAX_CODES_SHOWN])
        more = ", ..." if len(seen) > MAX_CODES_SHOWN else ""
        return (f"code {value:g} of categorical {v!r} is new: the training data hold only "
                f"{listed}{more}")

    def _flag_kept(self, kept: np.ndarray, values: np.ndarray, why: np.ndarray,
                   suspicious: str, flags: np.ndarray, reasons: np.ndarray,
                   review_reason: np.ndarray) -> np.ndarray:
        """Flag the suspicious values ``kept`` as received (``SUSPICIOUS``, with ``why``: the
        score, or the range the training data make plausible) and, when they go to review
        (``suspicious = 'review'``; with ``'impute'``, those that may not be imputed), name
        them in their record's review reason. Per record, whether it is held for a clerk: an
        extreme value that passes every hard edit may be true (a rich household), so a
        person decides, not an imputation."""
        to_review = self._kept_for_review(kept, suspicious)
        for r, j in zip(*np.nonzero(kept), strict=True):
            flags[r, j] = SUSPICIOUS
            reasons[r, j] = f"suspicious value ({why[r, j]}), {self._fate(j, to_review[r, j])}"
        held = to_review.any(axis=1)
        for r in np.flatnonzero(held):
            said = "; ".join(f"{self.variables[j]!r} = {values[r, j]:g} is suspicious "
                             f"({why[r, j]}): {self._fate(j, True)}"
                             for j in np.flatnonzero(to_review[r]))
            review_reason[r] = f"{review_reason[r]}; {said}" if review_reason[r] else said
        return held

    def _kept_for_review(self, kept: np.ndarray, suspicious: str) -> np.ndarray:
        """Per cell, whether a suspicious value ``kept`` sends its record to review: all with
        ``suspicious = 'review'``, those that may not be imputed with ``'impute'``."""
        if suspicious == "review":
            return kept
        if suspicious == "impute":
            return kept & ~self.imputable
        return np.zeros_like(kept)

    def _fate(self, j: int, to_review: bool) -> str:
        """What became of a suspicious value of variable ``j`` kept as received."""
        if not to_review:
            return "kept as received"
        frozen = "" if self.imputable[j] else "may not be imputed, so "
        return f"{frozen}kept as received for review"

    def not_whole(self, values: np.ndarray) -> np.ndarray:
        """Per cell, whether a value of a variable the metadata declares integer (or
        categorical) is not a whole number: it fails the variable's whole-number edit."""
        out = np.zeros(values.shape, dtype=bool)
        for rule in self.whole_rules:
            j = self.variables.index(rule.variables[0])
            passes, evaluable = rule.evaluate({rule.variables[0]: values[:, j]})
            out[:, j] = evaluable & ~passes
        return out

    @property
    def whole_rules(self) -> list[WholeNumberRule]:
        return [r for r in self.rules.rules if isinstance(r, WholeNumberRule)]

    def _not_whole_reason(self, j: int, value: float) -> str:
        v = self.variables[j]
        rule = next(r for r in self.whole_rules if r.variables[0] == v)
        return (f"{value:g} is not a whole number, and {v!r} is {rule.kind} in the metadata "
                f"(edit rule {rule.name})")

    def _frozen_out_of_range(self, values: np.ndarray, reasons: np.ndarray,
                             review_reason: np.ndarray) -> np.ndarray:
        """Per record, whether a value that may not be imputed lies outside its metadata
        range, or is not the whole number its declared type asks for: it is kept, but the
        record fails and goes to review with the reason."""
        lower, upper = self.meta_lower, self.meta_upper
        out = self.outside_metadata(values) & ~self.imputable
        fraction = self.not_whole(values) & ~self.imputable & ~out
        for r in np.flatnonzero((out | fraction).any(axis=1)):
            said = []
            for j in np.flatnonzero(out[r]):
                bounds = f"[{lower[j]:g}, {upper[j]:g}]"
                reasons[r, j] = (f"outside the allowed range {bounds}, and may not be "
                                 "imputed (kept as it is)")
                said.append(f"{self.variables[j]!r} = {values[r, j]:g} is outside its allowed "
                            f"range {bounds} and may not be imputed")
            for j in np.flatnonzero(fraction[r]):
                why = self._not_whole_reason(j, values[r, j])
                reasons[r, j] = f"{why}; may not be imputed (kept as it is)"
                said.append(f"{self.variables[j]!r} = {why}; it may not be imputed")
            review_reason[r] = "; ".join([*filter(None, [review_reason[r]]), *said])
        return (out | fraction).any(axis=1)

    def _keep_unchanged(self, values: np.ndarray, received: np.ndarray, flags: np.ndarray,
                        reasons: np.ndarray) -> None:
        """Cells treated but ending at the value as received (a suspicious share that the
        balance edit puts back where it was) keep that value exactly and count as
        ``original``: no change to flag, log or count as imputed."""
        with np.errstate(invalid="ignore"):
            same = (flags != ORIGINAL) & ~np.isnan(received) & (
                np.abs(values - received) <= UNCHANGED_TOL * np.maximum(np.abs(received), 1.0))
        rows = np.flatnonzero(same.any(axis=1))
        if not len(rows):
            return
        trial = np.where(same[rows], received[rows], values[rows])
        keep = self.passes(trial) | ~self.passes(values[rows])
        for r, row in zip(rows[keep], trial[keep], strict=True):
            values[r] = row
            flags[r, same[r]] = ORIGINAL
            reasons[r, same[r]] = ""

    def round_treated(self, values: np.ndarray, treated: np.ndarray) -> None:
        """Round the ``treated`` (imputed, prorated, adjusted) values to the precision each
        variable is recorded at, where rounding breaks no edit the record passed (so a record
        held for another reason is rounded too): first each value to the nearest step, else
        the treated values of each balance edit with a controlled rounding that keeps their
        sum (as Banff's prorating does). A record that rounding would make fail an edit it
        passed keeps its unrounded values, cleared of float noise (0.40560000000000007 is
        0.4056)."""
        grid = self.steps > 0
        step = np.where(grid, self.steps, 1.0)
        with np.errstate(invalid="ignore"):
            units = values / step
            off = treated & grid & ~np.isnan(values) & (snap(values, step) != values)
            noise = off & (np.abs(units - np.round(units)) <= 1e-6)  # on the grid but for noise
        rows = np.flatnonzero(off.any(axis=1))
        if not len(rows):
            return
        sub, mask = values[rows], off[rows]
        nearest = np.where(mask, snap(sub, step), sub)
        cleaned = np.where(noise[rows], nearest, sub)
        todo = np.ones(len(rows), dtype=bool)
        for how in ("nearest", np.round, np.floor, np.ceil, "noise"):
            idx = np.flatnonzero(todo)
            if not len(idx):
                break
            cand = nearest[idx] if how == "nearest" else cleaned[idx] if how == "noise" \
                else self._controlled(sub[idx], nearest[idx], mask[idx], step, how)
            inside = ~mask[idx] | ((cand >= self.lower - 1e-9) & (cand <= self.upper + 1e-9))
            ok = self.keeps_passing(sub[idx], cand) & inside.all(axis=1)
            if how == "noise":  # cleared of noise too where the record fails anyway
                ok |= ~self.passes(sub[idx])
            sub[idx[ok]] = cand[ok]
            todo[idx[ok]] = False
        values[rows] = sub

    def keeps_passing(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Per record, whether ``after`` fails no edit that ``before`` passes: rounding a record
        that passes keeps it passing, and one held for another reason (a value that may not
        be imputed missing) is rounded too, as long as no rule it passed breaks."""
        ok_b, ev_b = self.evaluate(before)
        ok_a, ev_a = self.evaluate(after)
        return ~((ok_b & ev_b) & ~(ok_a & ev_a)).any(axis=1)

    def _controlled(self, values: np.ndarray, nearest: np.ndarray, mask: np.ndarray,
                    step: np.ndarray, total: Any) -> np.ndarray:
        """``nearest``, with the masked values of each balance edit rounded so that their sum
        is ``total`` (np.round, np.floor or np.ceil) of their unrounded sum in steps (largest
        remainders rounded up)."""
        out = nearest.copy()
        for rule in self.rules.rules:
            if not rule.is_balance:
                continue
            cols = np.array([self.variables.index(v) for v in rule.variables])
            for r in np.flatnonzero(mask[:, cols].any(axis=1)):
                cells = cols[mask[r, cols]]
                if len(set(step[cells])) != 1:
                    continue
                units = values[r, cells] / step[cells[0]]
                base = np.floor(units)
                extra = int(total(np.round(units.sum(), 6)) - base.sum())
                base[np.argsort(base - units, kind="stable")[:max(extra, 0)]] += 1
                out[r, cells] = np.round(base * step[cells[0]], 10)
        return out

    def _frozen_as_received(self, trial: np.ndarray, row: np.ndarray) -> np.ndarray:
        """``trial`` with each value of ``row`` that may not be imputed put back: tidying
        rounds and clips every value, but one that may not be imputed is never changed (a
        code 2.5 stays 2.5, its record going to review)."""
        return np.where(self.imputable, trial, row)

    def _box(self, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The bounds a record's values may take in the solver: the allowed ranges (metadata,
        else the range the training data make plausible), widened to take in each value the
        record holds within its metadata range (one beyond the plausible range is suspicious,
        not invalid: kept as received, it must not force its own change)."""
        held = ~np.isnan(row) & ~self.outside_metadata(row)
        return (np.where(held, np.fmin(self.lower, row), self.lower),
                np.where(held, np.fmax(self.upper, row), self.upper))

    def _tidy(self, values: np.ndarray, lower: np.ndarray | None = None,
              upper: np.ndarray | None = None) -> np.ndarray:
        """Values clipped to ``lower``/``upper`` (default: the allowed ranges), integer
        variables rounded."""
        out = np.clip(values, self.lower if lower is None else lower,
                      self.upper if upper is None else upper)
        out[:, self.integer] = np.round(out[:, self.integer])
        return out

    def _deductive(self, values: np.ndarray, z: np.ndarray, expected: np.ndarray,
                   scorer: Scorer, sidx: list[int], threshold: float, flags: np.ndarray,
                   reasons: np.ndarray) -> None:
        """Undo unit and sign errors. A correction is made when it resolves the record's edit
        failures on that variable (or its range), or, for a record passing its edits, when the
        value is extreme (z >= 2 x threshold) and the corrected one is not (z < 2.5)."""
        ok, evaluable = self.evaluate(values)
        failing = evaluable & ~ok
        outside = self.outside_metadata(values)  # the data's range: only suspicious
        for k, j in enumerate(sidx):
            if not self.imputable[j]:
                continue
            v = self.variables[j]
            on_v = [i for i, r in enumerate(self.rules.rules) if v in r.variables]
            col = values[:, j]
            fails_v = failing[:, on_v].any(axis=1) if on_v else np.zeros(len(col), bool)
            bad = (fails_v | outside[:, j] | (z[:, k] >= 2 * threshold)) & ~np.isnan(col)
            if not bad.any():
                continue
            rows = np.flatnonzero(bad)
            best = np.full(len(rows), np.inf)
            best_val = np.full(len(rows), np.nan)
            best_how = np.full(len(rows), "", dtype=object)
            candidates = [(f"unit error: divided by {f:g}", col[rows] / f)
                          for f in (10.0, 100.0, 1000.0)]
            if self.lower[j] >= 0:
                candidates.append(("sign error: sign reversed", -col[rows]))
            for how, cand in candidates:
                cz = scorer.cell_z(cand, k, expected[rows, k])
                inside = (cand >= self.lower[j]) & (cand <= self.upper[j])
                if self.integer[j]:
                    inside &= np.mod(cand, 1) == 0
                if on_v:
                    trial = values[rows].copy()
                    trial[:, j] = cand
                    t_ok, t_ev = self.evaluate(trial)
                    resolves = ~(t_ev & ~t_ok)[:, on_v].any(axis=1)
                else:
                    resolves = np.ones(len(rows), dtype=bool)
                better = inside & resolves & (cz < 2.5) & (cz < best)
                best[better], best_val[better], best_how[better] = cz[better], cand[better], how
            fixed = ~np.isnan(best_val)
            for r, val, how in zip(rows[fixed], best_val[fixed], best_how[fixed], strict=True):
                values[r, j] = val
                flags[r, j] = EDITED
                reasons[r, j] = how

    def _localise(self, current: np.ndarray, blank: np.ndarray, failed: np.ndarray,
                  z: np.ndarray, threshold: float, reasons: np.ndarray,
                  review_reason: np.ndarray) -> None:
        """Fellegi-Holt on each record failing an edit: blank the minimal weighted field set."""
        rows = np.flatnonzero(failed.any(axis=1))
        linear = np.array([r.linear for r in self.rules.rules], dtype=bool)
        for r in rows:
            names = [self.rules.rules[k].name for k in np.flatnonzero(failed[r])]
            why = "edit rule(s) " + ", ".join(names)
            change = np.zeros(len(self.variables), dtype=bool)
            if self.system is not None and failed[r][linear].any():
                idx = self.sys_idx
                cost = localisation_cost(z[r, idx], self.weights[idx], threshold)
                lo, hi = self._box(current[r])
                found = self.system.localise(current[r, idx], np.isnan(current[r, idx]),
                                             ~self.imputable[idx], cost, lo[idx], hi[idx])
                if found is None:
                    said = f"no set of fields can be changed to pass {why}"
                    review_reason[r] = f"{review_reason[r]}; {said}" if review_reason[r] \
                        else said
                    continue
                change[np.asarray(idx)[found]] = True
            for k in np.flatnonzero(failed[r] & ~linear):  # nonlinear rule: most suspicious
                cols = [self.variables.index(v) for v in self.rules.rules[k].variables
                        if self.imputable[self.variables.index(v)]]
                if cols:
                    change[cols[int(np.argmax(z[r, cols]))]] = True
            change &= ~blank[r]
            for j in np.flatnonzero(change):
                reasons[r, j] = f"localised by {why}"
            blank[r] |= change

    def _adjust(self, values: np.ndarray, imputed: np.ndarray, original: np.ndarray,
                flags: np.ndarray, reasons: np.ndarray) -> None:
        """Prorate balance edits, then change imputed (and if need be a few more) values as
        little as possible so that each record passes."""
        for rule in self.rules.rules:
            if not rule.is_balance:
                continue
            atom = rule.consequence_atoms[0]  # type: ignore[index]
            cols = [self.variables.index(v) for v, _ in atom.coefs]
            target = -atom.const
            ok, _ = rule.evaluate({v: values[:, j] for j, v in enumerate(self.variables)})
            sub_imp = imputed[:, cols]
            part = values[:, cols]
            fixed_sum = np.where(sub_imp, 0.0, part).sum(axis=1)
            imp_sum = np.where(sub_imp, part, 0.0).sum(axis=1)
            todo = ~ok & sub_imp.any(axis=1) & (imp_sum > 0) & (fixed_sum <= target)
            factor = np.where(todo, (target - fixed_sum) / np.where(imp_sum > 0, imp_sum, 1), 1)
            scaled = np.where(sub_imp & todo[:, None], part * factor[:, None], part)
            values[:, cols] = scaled
            for r in np.flatnonzero(todo):
                for c in np.asarray(cols)[sub_imp[r]]:
                    reasons[r, c] = (reasons[r, c] + "; " if reasons[r, c] else "") + \
                        f"prorated to {rule.name}"
        failing = np.flatnonzero(~self.passes(values))
        if self.system is None or not len(failing):
            return
        idx = np.asarray(self.sys_idx)
        for r in failing:
            lo, hi = self._box(values[r])
            free = imputed[r, idx]
            new = self.system.adjust(values[r, idx], free, self.scale[idx]) if free.any() \
                else None
            extra = np.zeros(len(idx), dtype=bool)
            if new is None:  # change a minimal set of further fields as well
                cost = np.where(free, 0.01, 1.0) * self.weights[idx]
                found = self.system.localise(values[r, idx], np.zeros(len(idx), bool),
                                             ~self.imputable[idx], cost, lo[idx], hi[idx])
                if found is None:
                    continue
                extra = found & ~free
                new = self.system.adjust(values[r, idx], free | found, self.scale[idx])
                if new is None:
                    continue
            trial = values[r].copy()
            trial[idx] = new
            trial = self._tidy(trial[None, :], lo, hi)[0]
            trial = self._frozen_as_received(trial, values[r])
            if not self.passes(trial[None, :])[0]:
                continue
            changed = np.abs(trial - values[r]) > 1e-12
            for j in np.flatnonzero(changed):
                if imputed[r, j]:
                    note = "adjusted to pass the edits"
                else:
                    flags[r, j] = EDITED
                    note = f"adjusted to pass the edits (was {original[r, j]:g})"
                reasons[r, j] = (reasons[r, j] + "; " if reasons[r, j] else "") + note
            del extra
            values[r] = trial
