"""Reproducibility indicators: what the run read and with which settings, and whether
training again gives the same predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlstat_core.components import AssessContext, Indicator, IndicatorResult
from mlstat_core.quality.accuracy import skipped
from mlstat_core.quality.params import RefitParams


class Provenance(Indicator):
    """Data fingerprint, config hash and environment of the run."""

    def compute(self, ctx: AssessContext) -> IndicatorResult:
        env = ctx.environment or {}
        table = [[f"data: {name}", digest] for name, digest in sorted(ctx.fingerprints.items())]
        table += [["config sha256", ctx.config_hash], ["seed", ctx.seed],
                  ["python", env.get("python")], ["mlstat-core", env.get("mlstat_core")]]
        table += [[f"plugin {k}", v] for k, v in sorted((env.get("plugins") or {}).items())]
        unchecked = [] if ctx.fingerprints else [
            "No input file was fingerprinted (the loader named no file it read): a rerun "
            "cannot be checked to have read the same data."]
        if unchecked:
            table.insert(0, ["data", "no input file recorded"])
        threads = env.get("threads")
        if isinstance(threads, dict):  # what set the numeric libraries' threads
            table.append(["threads", ", ".join([f"{threads.get('cpus')} CPUs"] + [
                f"{k}={v}" for k, v in threads.items() if k != "cpus"])])
        return IndicatorResult(
            "provenance", "reproducibility", ctx.config_hash[:12] or None,
            explanation="Short SHA-256 of the resolved configuration. With the data "
                        "fingerprints, the seed and the versions below, anyone can check that "
                        "a rerun used the same inputs and software.",
            details={"data_fingerprints": ctx.fingerprints, "config_sha256": ctx.config_hash,
                     "environment": env, "seed": ctx.seed,
                     "table": {"columns": ["item", "value"], "rows": table},
                     **({"warnings": unchecked} if unchecked else {})})


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality; numbers equal within floating-point noise."""
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b) \
            and not pd.api.types.is_bool_dtype(a):
        x, y = a.to_numpy(float), b.to_numpy(float)
        return np.isclose(x, y, rtol=1e-9, atol=1e-12) | (np.isnan(x) & np.isnan(y))
    return ((a.astype(str) == b.astype(str)) | (a.isna() & b.isna())).to_numpy()


SCORE_NOISE = 1e-6
"""Largest difference of a probability or confidence between two trainings that counts as
floating-point noise (multi-threaded sums), not as another model."""


def _largest(gap: np.ndarray) -> float:
    """The largest finite element of ``gap`` (0 when there is none)."""
    finite = gap[np.isfinite(gap)]
    return float(finite.max()) if finite.size else 0.0


class RefitCheck(Indicator):
    """Trains again with the same seed (through ``ctx.refit``) and compares predictions."""

    params: RefitParams

    def __init__(self, params: RefitParams | None = None) -> None:
        super().__init__(params or RefitParams())

    def compute(self, ctx: AssessContext) -> IndicatorResult:
        if not self.params.refit:
            return skipped("refit_identical_share", "reproducibility",
                           "The refit check is switched off (refit = false).")
        if ctx.refit is None:
            fits = ctx.step_counts.get("fit", 0)
            return skipped("refit_identical_share", "reproducibility",
                           f"Under cross-validation ({fits} trainings: one per fold and the "
                           "final model) no single training is repeated; run the pipeline "
                           "with a holdout split (core.holdout or core.stratified) for this "
                           "figure, or rerun it and compare the runs' fingerprints with "
                           "mlstat compare." if fits > 1 else
                           "The engine offered no way to train again in this run."
                           if fits or not ctx.step_counts else
                           "Nothing was trained here (a saved model was evaluated): see the "
                           "figure in the run that trained it.")
        again = ctx.refit()
        first = ctx.predictions
        again = pd.DataFrame(again).reindex(first.index)
        if "prediction" in first.columns and "prediction" in again.columns:
            columns = ["prediction"]
        else:
            columns = [c for c in first.columns if c in again.columns]
        if not columns:
            raise ValueError("the refit predictions share no column with the run's predictions")
        same = np.ones(len(first), dtype=bool)
        for column in columns:
            same &= _same(first[column], again[column])
        share = float(same.mean()) if len(first) else 1.0
        details: dict[str, object] = {"better": "higher", "records": len(first),
                                      "different": int((~same).sum()), "compared": columns}
        probas = [c for c in first.columns if str(c).startswith("proba_") and c in again]
        if probas:
            gap = np.abs(first[probas].to_numpy(float) - again[probas].to_numpy(float))
            details["max_probability_difference"] = _largest(gap)
        if "confidence" in first.columns and "confidence" in again.columns:
            details["max_confidence_difference"] = _largest(np.abs(
                first["confidence"].to_numpy(float) - again["confidence"].to_numpy(float)))
        moved = max(details.get("max_probability_difference", 0.0),
                    details.get("max_confidence_difference", 0.0))
        if moved > SCORE_NOISE and same.all() and "confidence" not in columns:
            details["warnings"] = [
                f"The predictions agree but the probabilities or confidences differ by up to "
                f"{moved:.2g}: the training is not exactly reproducible, and records routed "
                "by a confidence threshold (auto-coding, cost figures) may change between "
                "trainings."]
        return IndicatorResult(
            "refit_identical_share", "reproducibility", share,
            explanation="Share of test records that get the same prediction when the model is "
                        "trained again with the same data and seed. Anything below 1 means the "
                        "training is not reproducible (unseeded randomness, threads, hardware).",
            details=details, headline=True)
