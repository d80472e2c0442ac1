"""Params models of the plugin's components: light (pydantic, ast and numpy only), so that
discovery imports no heavy library. Edit rules are parsed here already, so a pipeline file
with an unsafe or malformed rule fails validation with the rule named."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, PositiveFloat, field_validator, model_validator

from mlstat_core.builtins.params import TableReading
from mlstat_core.components import InputFile, Params

BUDGET_RULES: list[str] = [
    "balance: wfood + wfuel + wcloth + walc + wtrans + wother == 1 +- 0.01",
    "shares_range: 0 <= wfood <= 1 and 0 <= wfuel <= 1 and 0 <= wcloth <= 1",
    "shares_range2: 0 <= walc <= 1 and 0 <= wtrans <= 1 and 0 <= wother <= 1",
    "food_min: wfood >= 0.02",
    "spend_positive: totexp >= 10",
    "income_positive: income >= 10",
    "spend_vs_income: totexp <= 4 * income",
    "age_range: 16 <= age <= 120",
    "head_adult: if children > 0 then age >= 18",
]
"""Edit rules for the UK budget data (all hold on the clean data)."""

BUDGET_VARIABLES: tuple[str, ...] = ("wfood", "wfuel", "wcloth", "walc", "wtrans", "wother",
                                     "totexp", "income", "age", "children")
"""The columns of the bundled UK budget data (``editimpute.budget_uk``), all edited."""


LISTED_VARIABLES = 10
"""At most this many variables edited are listed in a message about an unknown one, where no
name is close (a wide survey's hundreds of columns would bury the message)."""


def unknown_injected(specs: list[dict], known: list[str]) -> list[tuple[int, str, str]]:
    """(spec index, field, message) for each variable an injection spec names that is not
    among ``known`` (the variables edited, into which errors are injected), with the closest
    names (or, where none is close, the variables, if they are few); light, so that
    ``mlstat validate`` can check it where the variables are known."""
    from mlstat_editimpute.rules import closest_names

    found = []
    for i, spec in enumerate(specs):
        named = [("variables", v) for v in spec.get("variables") or []]
        if spec.get("depends_on"):
            named.append(("depends_on", spec["depends_on"]))
        for field, name in named:
            if name in known:
                continue
            close = closest_names(str(name), list(known))
            if len(close) == 1:
                hint = f"did you mean {close[0]!r}?"
            elif close:
                hint = f"did you mean {', '.join(map(repr, close[:-1]))} or {close[-1]!r}?"
            elif len(known) <= LISTED_VARIABLES:
                hint = f"they are {', '.join(map(repr, known))}"
            else:
                hint = f"none of the {len(known):,} variables edited has a similar name"
            found.append((i, field, f"error injection {spec.get('kind')!r} names {name!r}, "
                                    f"which is not among the variables edited; {hint}"))
    return found


def _check_injected(specs: list[InjectSpec], known: list[str]) -> None:
    """A ValidationError with one issue per unknown variable, at its place
    (``inject.2.variables``)."""
    from pydantic import ValidationError
    from pydantic_core import InitErrorDetails, PydanticCustomError

    found = unknown_injected([s.model_dump() for s in specs], known)
    if found:
        raise ValidationError.from_exception_data("inject", [InitErrorDetails(
            type=PydanticCustomError("value_error", "{detail}", {"detail": message}),
            loc=("inject", i, field), input=getattr(specs[i], field))
            for i, field, message in found]) from None


def _check_rules(value: list[str]) -> list[str]:
    """The rules, parsed; each rule that does not parse is reported at its own place in the
    list (``rules.3``, with that rule shown), all of them at once, not with the whole list."""
    from pydantic import ValidationError
    from pydantic_core import InitErrorDetails, PydanticCustomError

    from mlstat_editimpute.rules import RuleError, RuleSet, parse_each

    parsed, failed = parse_each(list(value))
    try:
        if not failed:
            RuleSet.of(parsed)  # what spans rules: their names
    except RuleError as exc:
        failed.append(exc)
    if any(exc.index is None for exc in failed):
        raise ValueError(str(next(e for e in failed if e.index is None))) from None
    if failed:
        raise ValidationError.from_exception_data("rules", [InitErrorDetails(
            type=PydanticCustomError("value_error", "{detail}", {"detail": exc.detail}),
            loc=(exc.index,), input=value[exc.index]) for exc in failed]) from None
    return value


class InjectSpec(Params):
    """One kind of error to inject into clean data, for evaluation."""

    kind: Literal["mcar", "mar", "unit", "sign", "transpose", "swap"]
    variables: list[str] = Field(min_length=1, description="variables to damage ('swap': two)")
    rate: float = Field(0.1, ge=0, le=1, description="share of each variable's cells damaged")
    depends_on: str | None = Field(None, description="'mar': variable whose rank drives the "
                                                     "probability of being missing")
    strength: float = Field(2.0, ge=0, description="'mar': how strongly (exp(strength * rank))")
    factors: list[float] = Field([10, 100, 1000], description="'unit': multipliers drawn")

    @model_validator(mode="after")
    def _shape(self) -> InjectSpec:
        """What each kind needs, known without the data: checked by mlstat validate."""
        if self.kind == "swap" and len(set(self.variables)) != 2:
            raise ValueError("error injection 'swap' exchanges the values of two fields: name "
                             "exactly two different variables")
        if self.kind == "mar" and not self.depends_on:
            raise ValueError("error injection 'mar' needs `depends_on`: the variable whose "
                             "rank drives the probability of being missing")
        return self


class _InjectMixin(Params):
    inject: list[InjectSpec] = Field(default_factory=list,
                                     description="errors to inject (evaluation only); the clean "
                                                 "values are kept as the truth")
    inject_seed: int = Field(0, description="seed of the error injection")
    rules: list[str] = Field(default_factory=list,
                             description="edit rules; passed on to the model with the data")

    _rules = field_validator("rules")(classmethod(lambda cls, v: _check_rules(v)))


class SurveyParams(_InjectMixin, TableReading):
    """The microdata file, read with ``core.table``'s options and checks (``TableReading``)."""

    # the bundled sample, relative to the package (where the conformance suite reads it)
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"path": "data/budget_uk.csv", "metadata": "data/budget_uk_metadata.csv"}]})

    path: InputFile = Field(description="CSV, Parquet or Excel microdata file, relative to "
                                        "the pipeline file")
    metadata: InputFile | None = Field(None, description="variable metadata file (CSV/JSON): "
                                                         "variable, type, unit, min, max, "
                                                         "imputable, weight; relative to the "
                                                         "pipeline file")
    id: str | None = Field(None, description="column that identifies a record; read as text, "
                                             "so ids such as 00017 keep their leading zeros")
    variables: list[str] = Field(default_factory=list,
                                 description="variables to edit and impute; empty: those in the "
                                             "metadata, else every numeric column")
    weights: str | None = Field(None, description="survey weights column")

    @field_validator("variables", "id", "weights")
    @classmethod
    def _nfc(cls, value: list[str] | str | None) -> list[str] | str | None:
        """Names in Unicode NFC, the form the data's column names are read in: ``dochód``
        typed on a Mac (``o`` and a combining accent) names the column ``dochód``."""
        import unicodedata

        if isinstance(value, list):
            return [unicodedata.normalize("NFC", v) for v in value]
        return None if value is None else unicodedata.normalize("NFC", value)

    @model_validator(mode="after")
    def _injected_known(self) -> SurveyParams:
        """Injection into variables not edited, refused by mlstat validate where the
        variables are named here (else the loader checks them against the metadata before it
        reads the data)."""
        if self.variables:
            _check_injected(self.inject, list(self.variables))
        return self

    @model_validator(mode="after")
    def _roles_not_edited(self) -> SurveyParams:
        """The id and the weights are never edited or imputed (an id read as a number would
        also lose its leading zeros): naming one among the variables is refused at its place
        (``variables.0``), as the metadata's variables leave them out."""
        from pydantic import ValidationError
        from pydantic_core import InitErrorDetails, PydanticCustomError

        found = [(i, v, "id" if v == self.id else "weights") for i, v in
                 enumerate(self.variables) if v in (self.id, self.weights)]
        if found:
            raise ValidationError.from_exception_data("variables", [InitErrorDetails(
                type=PydanticCustomError("value_error", "{detail}", {"detail": (
                    f"{v!r} is the `{role}` column, which is never edited or imputed: remove "
                    "it from `variables`")}), loc=("variables", i), input=v)
                for i, v, role in found]) from None
        return self


class BudgetParams(_InjectMixin):
    @model_validator(mode="after")
    def _injected_known(self) -> BudgetParams:
        """The bundled data's variables are known: mlstat validate refuses others."""
        _check_injected(self.inject, list(BUDGET_VARIABLES))
        return self


class _ModelParams(Params):
    rules: list[str] = Field(default_factory=list,
                             description="edit rules (added to the loader's)")
    variables: list[str] = Field(default_factory=list,
                                 description="variables to edit and impute; empty: the data "
                                             "set's features")
    detect: bool = Field(True, description="score each value's suspicion and treat the "
                                           "extreme ones as `suspicious` says")
    detect_threshold: float = Field(6.0, gt=0, description="robust z-score above which a value "
                                                           "is suspicious")
    suspicious: Literal["impute", "review", "keep"] = Field(
        "review", description="a suspicious value in a record passing its hard edits: "
                              "'impute' blanks and imputes it; 'review' keeps it as received "
                              "and sends the record to a clerk (needs_review); 'keep' keeps "
                              "it, flagged `suspicious`, and the record passes")
    correct_units: bool = Field(True, description="undo likely unit (x10, x100, x1000) and sign "
                                                  "errors deductively before imputing")
    weights: dict[str, PositiveFloat] = Field(
        default_factory=dict, description="reliability weights for error localisation, each "
                                          "positive (override the metadata's)")
    check_consistency: bool = Field(True, description="refuse contradictory edit rules")
    max_train_rows: int = Field(200_000, ge=100, description="records the learners fit on at "
                                                              "most (a seeded sample)")
    threads: int = Field(1, ge=1, le=256, description="CPU threads of the learners (OpenMP)")

    _rules = field_validator("rules")(classmethod(lambda cls, v: _check_rules(v)))


class PmmParams(_ModelParams):
    learner: Literal["gbm", "forest"] = Field("gbm", description="model predicting each variable")
    donors: int = Field(10, ge=1, le=50, description="closest predicted values a donor is "
                                                     "drawn from")
    spread: float = Field(0.5, ge=0, le=1,
                          description="how far each value moves from the prediction (0) to "
                                      "the rank-matched donor value (1): point error against "
                                      "distribution")
    rank_match: bool = Field(True, description="hand the drawn donor values out again in the "
                                               "order of the predictions, within each "
                                               "partition (false: each record keeps its own "
                                               "draw, independent of the partition)")
    max_iter: int = Field(150, ge=1, description="boosting iterations or trees")
    iterations: int = Field(1, ge=1, le=10, description="passes of chained prediction")


class GbmParams(_ModelParams):
    learner: Literal["gbm", "forest"] = Field("gbm", description="model predicting each variable")
    max_iter: int = Field(150, ge=1, description="boosting iterations or trees")
    iterations: int = Field(1, ge=1, le=10, description="passes of chained prediction")


class DonorParams(_ModelParams):
    candidates: int = Field(10, ge=1, le=100, description="nearest donors tried in turn until "
                                                          "one lets the record pass the edits")
    match_variables: list[str] = Field(default_factory=list,
                                       description="variables donors are matched on; empty: "
                                                   "every observed variable")


class RatioParams(_ModelParams):
    auxiliary: dict[str, str] = Field(default_factory=dict,
                                      description="variable -> auxiliary variable of its ratio; "
                                                  "default: the most correlated one")


class RegressionParams(_ModelParams):
    pass


class DetectParams(Params):
    variables: list[str] = Field(default_factory=list, description="variables scored")
    method: Literal["robust", "isolation_forest"] = Field(
        "robust", description="robust z-scores of model residuals on log values, or an "
                              "isolation forest on log values")
    threshold: float = Field(6.0, gt=0, description="robust z-score (or forest score) flagging "
                                                    "a record")
    max_train_rows: int = Field(200_000, ge=100)
    threads: int = Field(1, ge=1, le=256, description="CPU threads of the learners (OpenMP)")


class EditReportParams(Params):
    pass


class DetectionParams(Params):
    recall: float = Field(0.95, gt=0, le=1, description="recall for the clerk workload figure")
