"""The built-up share of the scene being mapped, estimated without reference data, and the
weights that give a set of scored records that share.

Cohen's kappa depends on the share of each class, so the threshold that maximises it on the
cross-validated training records (labelled pixels drawn as polygons, plus synthetic
mixtures, most of them built-up) fits that set's built-up share, not the scene's. The scene's
share is estimated by adjusted classify-and-count (Forman 2008, "Quantifying counts and costs
via classification", Data Mining and Knowledge Discovery 17: 164-206): the share ``q`` of
scene pixels scored at or above a threshold, corrected by the true and false positive rates
measured at that threshold in cross-validation, ``(q - fpr) / (tpr - fpr)``. It needs scores,
not calibrated probabilities (the context forest's are estimated built-up fractions), which
is why it is used rather than EM re-estimation of the priors (Saerens et al. 2002), which
takes the scores for posteriors. Numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mlstat_core.errors import DataError

PREVALENCE_BOUNDS = (0.01, 0.99)
"""The estimate is clipped to this range: a class with no weight would leave kappa undefined."""


def adjusted_count(scene_scores: Sequence[np.ndarray], scores: Any, truth: Any,
                   threshold: float) -> dict[str, float]:
    """Adjusted classify-and-count estimate of the positive share of the scene.

    ``scene_scores``: scores of the same scene pixels by one or more scorers (the
    cross-validation folds' forests), whose shares at or above ``threshold`` are averaged;
    ``scores`` / ``truth``: out-of-fold scores and classes (booleans) of the training
    records, which give the true and false positive rates. Returns ``prevalence`` (clipped to
    :data:`PREVALENCE_BOUNDS`), ``share_at_threshold`` (``q``, the unadjusted count),
    ``tpr`` and ``fpr``."""
    scores = np.asarray(scores, dtype=float)
    truth = np.asarray(truth, dtype=bool)
    if not len(scene_scores) or not all(len(s) for s in scene_scores):
        raise DataError("estimating the scene's built-up share needs scored scene pixels")
    if truth.all() or not truth.any():
        raise DataError("estimating the scene's built-up share needs records of both classes")
    q = float(np.mean([(np.asarray(s) >= threshold).mean() for s in scene_scores]))
    tpr = float((scores[truth] >= threshold).mean())
    fpr = float((scores[~truth] >= threshold).mean())
    if tpr - fpr <= 1e-9:
        raise DataError(f"the cross-validated scores do not separate the classes at threshold "
                        f"{threshold:g} (true positive rate {tpr:.3f}, false positive rate "
                        f"{fpr:.3f}): the scene's built-up share cannot be estimated")
    low, high = PREVALENCE_BOUNDS
    return {"prevalence": float(np.clip((q - fpr) / (tpr - fpr), low, high)),
            "share_at_threshold": q, "tpr": tpr, "fpr": fpr}


def prevalence_weights(truth: Any, prevalence: float) -> np.ndarray:
    """Weights of records (booleans: positive or not) under which the positive share is
    ``prevalence`` and each class keeps its internal make-up: ``prevalence / share`` for a
    positive, ``(1 - prevalence) / (1 - share)`` for a negative."""
    truth = np.asarray(truth, dtype=bool)
    share = float(truth.mean()) if len(truth) else float("nan")
    if not 0 < share < 1:
        raise DataError("reweighting to a built-up share needs records of both classes")
    if not 0 < prevalence < 1:
        raise DataError(f"a built-up share must lie in (0, 1); got {prevalence}")
    return np.where(truth, prevalence / share, (1 - prevalence) / (1 - share))
