"""The editimpute plugin's declarations: light, imports only the contract and params.

Components are referenced in pipeline files as ``editimpute.<name>``.
"""

from __future__ import annotations

from typing import Any

from mlstat_core import hookimpl
from mlstat_core.components import ComponentSpec
from mlstat_editimpute import params as P

TASK = ("tabular_imputation",)
_M = "mlstat_editimpute"


@hookimpl
def mlstat_loaders() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            "survey", "loader", f"{_M}.loaders:SurveyLoader", P.SurveyParams, TASK,
            "Survey microdata (CSV, Parquet, Excel) with a variable metadata file (type, unit, "
            "range, imputable, weight); optional seeded error injection for evaluation."),
        ComponentSpec(
            "budget_uk", "loader", f"{_M}.loaders:BudgetUkLoader", P.BudgetParams, TASK,
            "UK Family Expenditure Survey 1980-82 (1,519 households: budget shares, "
            "expenditure, income, age, children), bundled with its metadata."),
    ]


def _model(name: str, cls: str, params: type, text: str) -> ComponentSpec:
    return ComponentSpec(name, "model", f"{_M}.models:{cls}", params, TASK, text)


@hookimpl
def mlstat_models() -> list[ComponentSpec]:
    return [
        _model("pmm", "PmmModel", P.PmmParams,
               "Edit and impute: Fellegi-Holt localisation, then predictive mean matching on "
               "chained gradient boosting (or random forest); every record adjusted to pass."),
        _model("gbm", "GbmModel", P.GbmParams,
               "Edit and impute with chained gradient boosting predictions (no matching: "
               "lowest point error, narrower distributions)."),
        _model("donor", "DonorModel", P.DonorParams,
               "Edit and impute from the nearest donor whose values let the record pass the "
               "edits (as Banff's DonorImp)."),
        _model("ratio", "RatioModel", P.RatioParams,
               "Edit and impute by ratio to an auxiliary variable (baseline)."),
        _model("regression", "RegressionModel", P.RegressionParams,
               "Edit and impute by linear regression on the other variables (baseline)."),
        _model("detect", "DetectModel", P.DetectParams,
               "Scores each record's suspicion (robust z-scores of residuals on log values, "
               "isolation forest, or supervised on past edit outcomes); changes nothing."),
    ]


@hookimpl
def mlstat_indicators() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            "edit_report", "indicator", f"{_M}.indicators:EditReport", P.EditReportParams,
            TASK, "Records failing each edit rule before and after editing, records left for "
                  "manual review, and cells kept, edited or imputed per variable.",
            dimension="accuracy"),
        ComponentSpec(
            "error_detection", "indicator", f"{_M}.indicators:ErrorDetection",
            P.DetectionParams, TASK,
            "Precision and recall of injected errors (cells changed, records flagged) and the "
            "share of records a clerk must review to reach a given recall.",
            dimension="accuracy"),
    ]


def conformance_options() -> dict[str, Any]:
    """Options of mlstat's conformance suite (its pytest tests and `python -m
    mlstat_core.testing editimpute`): the boosted learners fit 30 rounds, not 150 (the
    contract does not depend on the number; 150 made each save-and-load check take seconds,
    most of it skops writing and reading the trees)."""
    return {"examples": {"editimpute.pmm": {"max_iter": 30}, "editimpute.gbm": {"max_iter": 30}}}
