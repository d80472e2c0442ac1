"""Seeded error injection for evaluation: the clean values are kept as the truth.

Kinds: ``mcar`` (missing completely at random), ``mar`` (missing with a probability rising with
another variable's rank), ``unit`` (value times 10, 100 or 1000), ``sign`` (sign flipped),
``transpose`` (two adjacent digits swapped), ``swap`` (the values of two fields exchanged).
Each cell is damaged at most once; cells already missing are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlstat_core.errors import DataError

KINDS = ("mcar", "mar", "unit", "sign", "transpose", "swap")


@dataclass
class Injection:
    """The damaged frame, the clean truth and which cell got which error."""

    frame: pd.DataFrame
    truth: pd.DataFrame
    mask: pd.DataFrame
    kinds: pd.DataFrame
    summary: list[dict] = field(default_factory=list)


def _decimals(values: np.ndarray) -> int:
    finite = values[np.isfinite(values)]
    for d in range(0, 7):
        if np.allclose(finite * 10**d, np.round(finite * 10**d), atol=1e-6):
            return d
    return 6


def _transpose(value: float, decimals: int, rng: np.random.Generator) -> float:
    scaled = int(round(abs(value) * 10**decimals))
    digits = list(str(scaled))
    pairs = [i for i in range(len(digits) - 1) if digits[i] != digits[i + 1]]
    if not pairs:
        return value
    i = pairs[int(rng.integers(len(pairs)))]
    digits[i], digits[i + 1] = digits[i + 1], digits[i]
    return float(np.sign(value) or 1) * int("".join(digits)) / 10**decimals


def check_injected(specs: list[dict], variables: list[str], where: str = "") -> None:
    """DataError naming every variable the specs name that is not among ``variables`` (the
    variables edited), with the closest name: before any data is damaged, and where the
    loader knows the variables from the metadata, before the data file is read."""
    from mlstat_editimpute.params import unknown_injected

    found = unknown_injected(specs, variables)
    if found:
        raise DataError("; ".join(message for _, _, message in found) + where)


def inject_errors(frame: pd.DataFrame, specs: list[dict], seed: int = 0) -> Injection:
    """Apply each spec in turn (``kind``, ``variables``, ``rate`` and, for ``mar``,
    ``depends_on``; for ``unit``, ``factors``); the input frame is not modified."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    truth = frame.copy()
    mask = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    kinds = pd.DataFrame("", index=frame.index, columns=frame.columns)
    summary = []
    n = len(frame)
    for spec in specs:
        kind, rate = spec["kind"], float(spec.get("rate", 0.1))
        variables = list(spec.get("variables", []))
        check_injected([spec], list(frame.columns))
        if kind == "swap":
            if len(variables) != 2:
                raise DataError("error injection 'swap' needs exactly two variables")
            a, b = variables
            free = (~mask[a] & ~mask[b] & out[a].notna() & out[b].notna()
                    & (out[a] != out[b])).to_numpy()
            hit = free & (rng.random(n) < rate)
            idx = frame.index[hit]
            va, vb = out.loc[idx, a].copy(), out.loc[idx, b].copy()
            out.loc[idx, a], out.loc[idx, b] = vb.to_numpy(), va.to_numpy()
            for v in (a, b):
                mask.loc[idx, v] = True
                kinds.loc[idx, v] = "swap"
            summary.append({"kind": kind, "variables": variables, "cells": int(2 * hit.sum())})
            continue
        for v in variables:
            free = (~mask[v] & out[v].notna()).to_numpy()
            if kind == "mar":
                dep = spec.get("depends_on")
                if not dep:
                    raise DataError("error injection 'mar' needs `depends_on`")
                rank = frame[dep].rank(pct=True).fillna(0.5).to_numpy()
                strength = float(spec.get("strength", 2.0))
                prob = np.exp(strength * rank)
                prob = np.minimum(prob / prob.mean() * rate, 1.0)
                hit = free & (rng.random(n) < prob)
            else:
                hit = free & (rng.random(n) < rate)
            idx = frame.index[hit]
            col = out[v].to_numpy(dtype=float, copy=True)
            if kind in ("mcar", "mar"):
                col[hit] = np.nan
            elif kind == "unit":
                factors = np.asarray(spec.get("factors", [10, 100, 1000]), dtype=float)
                col[hit] = col[hit] * rng.choice(factors, size=int(hit.sum()))
            elif kind == "sign":
                hit &= col != 0
                col[hit] = -col[hit]
                idx = frame.index[hit]
            elif kind == "transpose":
                d = _decimals(col[np.isfinite(col)])
                for i in np.flatnonzero(hit):
                    new = _transpose(col[i], d, rng)
                    if new == col[i]:
                        hit[i] = False
                    col[i] = new
                idx = frame.index[hit]
            else:
                raise DataError(f"unknown error kind {kind!r}; use one of {', '.join(KINDS)}")
            out[v] = col
            mask.loc[idx, v] = True
            kinds.loc[idx, v] = kind
            summary.append({"kind": kind, "variable": v, "cells": int(hit.sum())})
    return Injection(out, truth, mask, kinds, summary)
