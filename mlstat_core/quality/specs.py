"""Declarations of the built-in indicators (no indicator code is imported here).

Every spec names its QF4SA dimension and the task types it serves; the engine offers an
indicator only for the tasks it lists. ``default=False`` indicators need params and are
computed only when a pipeline file names them.
"""

from __future__ import annotations

from mlstat_core.components import ComponentSpec, NoParams
from mlstat_core.quality import params as p

CLASSIFICATION = ("tabular_classification", "text_classification", "raster_segmentation")
CODING = ("tabular_classification", "text_classification")
TABULAR_SUPERVISED = ("tabular_classification", "tabular_regression")
IMPUTATION = ("tabular_imputation",)
_Q = "mlstat_core.quality"


def _indicator(name: str, dimension: str, factory: str, description: str,
               params: type = NoParams, tasks: tuple[str, ...] = (),
               default: bool = True) -> ComponentSpec:
    return ComponentSpec(name=name, kind="indicator", dimension=dimension,
                         factory=f"{_Q}.{factory}", params=params, tasks=tasks,
                         description=description, default=default)


INDICATORS: list[ComponentSpec] = [
    # -- accuracy --------------------------------------------------------------------------
    _indicator(
        "classification_accuracy", "accuracy", "accuracy:ClassificationAccuracy",
        "Accuracy, macro and weighted F1 with 95% bootstrap intervals, Cohen's kappa, MCC, "
        "per-class precision/recall/F1, confusion matrix, top-k accuracy and calibration.",
        p.ClassificationParams, CLASSIFICATION),
    _indicator(
        "auto_coding", "accuracy", "accuracy:AutoCoding",
        "Auto-coding curve: share coded automatically and its accuracy for each confidence "
        "threshold; the threshold reaching the target accuracy.",
        p.AutoCodingParams, CLASSIFICATION),
    _indicator(
        "hierarchical_accuracy", "accuracy", "accuracy:HierarchicalAccuracy",
        "Accuracy at each level of a code hierarchy (code prefixes or a parent table).",
        p.HierarchyParams, CODING, default=False),
    _indicator(
        "regression_accuracy", "accuracy", "accuracy:RegressionAccuracy",
        "RMSE, MAE, R squared and bias of a numeric prediction (bias with a bootstrap "
        "interval).", p.RegressionParams, ("tabular_regression",)),
    _indicator(
        "imputation_accuracy", "accuracy", "imputation:ImputationAccuracy",
        "Per variable NRMSE and MAE on imputed cells with known truth, KS and Wasserstein "
        "distances, bias of mean and total with 95% intervals, share passing edit rules.",
        p.ImputationParams, IMPUTATION),
    # -- explainability --------------------------------------------------------------------
    _indicator(
        "permutation_importance", "explainability", "explainability:PermutationImportance",
        "Drop in test score when each input column is shuffled (seeded, on a subsample).",
        p.PermutationParams, TABULAR_SUPERVISED),
    _indicator(
        "influential_terms", "explainability", "explainability:InfluentialTerms",
        "Most influential inputs or terms per class, from the model's global explanation.",
        p.TermsParams, CLASSIFICATION),
    _indicator(
        "record_explanations", "explainability", "explainability:RecordExplanations",
        "Inputs that drove the prediction of a few test records, when the model explains "
        "single records.", p.RecordExplanationParams),
    # -- reproducibility -------------------------------------------------------------------
    _indicator(
        "provenance", "reproducibility", "reproducibility:Provenance",
        "Data fingerprint, config hash and environment."),
    _indicator(
        "refit_check", "reproducibility", "reproducibility:RefitCheck",
        "Trains again with the same seed and reports the share of identical predictions.",
        p.RefitParams),
    # -- timeliness ------------------------------------------------------------------------
    _indicator(
        "timings", "timeliness", "timeliness:Timings",
        "Fit seconds, prediction records per second and peak memory."),
    # -- cost-effectiveness ----------------------------------------------------------------
    _indicator(
        "cost_effectiveness", "cost_effectiveness", "cost:CostEffectiveness",
        "Share of records handled without a person, manual hours and cost saved.",
        p.CostParams),
]
