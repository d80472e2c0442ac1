"""The columns a coding model's ``predict()`` writes (light: the params validation reads it).

:func:`mlstat_coding.routing.coding_frame` writes them; a model input column (text, auxiliary
or id) cannot have one of these names, or a file of last cycle's predictions scored again
would feed the model its own output in place of the column.
"""

from __future__ import annotations

PREDICTION_OUTPUTS = ("prediction", "confidence", "top_codes", "top_scores", "margin", "route",
                      "reason", "fallback_code", "fallback_confidence")
"""The prediction columns of a coding model, besides one ``proba_<code>`` column per code."""
PROBA_PREFIX = "proba_"
"""The start of the name of each code's probability column."""
DERIVED_OUTPUTS = ("fallback_label",)
"""Columns the manual queue derives from the predictions (the label of ``fallback_code``)."""


def is_prediction_column(name: str) -> bool:
    """Whether ``name`` is (or may be) a column a coding model's predictions hold."""
    return name in PREDICTION_OUTPUTS or name in DERIVED_OUTPUTS or \
        name.startswith(PROBA_PREFIX)
