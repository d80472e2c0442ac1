"""Reproducibility indicators: what the run read and with which settings."""

from __future__ import annotations

from mlstat_core.components import AssessContext, Indicator, IndicatorResult


class Provenance(Indicator):
    """Data fingerprint, config hash and environment of the run."""

    def compute(self, ctx: AssessContext) -> IndicatorResult:
        return IndicatorResult(
            "provenance", "reproducibility", ctx.config_hash[:12],
            explanation="SHA-256 of the resolved config; inputs and versions in details.",
            details={"data_fingerprints": ctx.fingerprints, "config_sha256": ctx.config_hash,
                     "environment": ctx.environment, "seed": ctx.seed})
