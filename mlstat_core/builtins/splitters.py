"""Built-in splits: random holdout, stratified holdout, k-fold and group split, all seeded.

The engine sets ``task`` (a :class:`~mlstat_core.tasks.TaskType`) on every splitter before
calling ``split``; the built-in splitters stratify only for classification tasks.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mlstat_core.builtins.params import (
    GroupParams,
    HoldoutParams,
    KFoldParams,
    StratifiedParams,
)
from mlstat_core.components import Dataset, Split, Splitter
from mlstat_core.errors import DataError
from mlstat_core.io import first_record


def is_classification_task(splitter: Any) -> bool:
    """True unless the engine told the splitter its task is not a classification task."""
    task = getattr(splitter, "task", None)
    return task is None or "classification" in getattr(task, "tags", ())


def stratify_labels(dataset: Dataset, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Class labels (as text) for stratification, and the positions of records whose class
    has a single record: those cannot be stratified and are pinned to training."""
    if not dataset.roles.target:
        raise DataError("a stratified split needs a target column; set the loader's `target`")
    y = dataset.y.astype(str).to_numpy()
    values, counts = np.unique(y, return_counts=True)
    rare = sorted(values[counts < 2])
    pinned = np.flatnonzero(np.isin(y, rare))
    if rare:
        shown = ", ".join(rare[:5]) + (", ..." if len(rare) > 5 else "")
        warnings.warn(
            f"{len(rare)} class(es) have a single record ({shown}): those records are kept in "
            f"training {where}; the other classes are stratified", stacklevel=3)
    return y, pinned


def _holdout(positions: np.ndarray, n_total: int, params: HoldoutParams, seed: int,
             stratify: np.ndarray | None, pinned: np.ndarray | None = None) -> Split:
    """Holdout of ``positions`` with sizes as shares of ``n_total`` records; ``pinned``
    positions go to training."""
    from sklearn.model_selection import train_test_split

    pinned = np.zeros(0, dtype=int) if pinned is None else pinned
    n_test = max(1, round(n_total * params.test_size))
    if n_total - n_test < 2 or len(positions) <= n_test:
        raise DataError(f"a data set of {n_total} records is too small to split")
    try:
        rest, test = train_test_split(positions, test_size=n_test, random_state=seed,
                                      stratify=stratify)
        validation = None
        if params.validation_size > 0:
            n_val = max(1, round(n_total * params.validation_size))
            lookup = dict(zip(positions.tolist(), range(len(positions)), strict=True))
            strat_rest = stratify[[lookup[p] for p in rest]] if stratify is not None else None
            if strat_rest is not None and (np.unique(strat_rest, return_counts=True)[1] < 2).any():
                strat_rest = None
            rest, validation = train_test_split(rest, test_size=n_val, random_state=seed,
                                                stratify=strat_rest)
    except ValueError as exc:
        raise DataError(f"cannot split the data set: {exc}") from None
    return Split(train=np.sort(np.concatenate([rest, pinned])), test=np.sort(test),
                 validation=None if validation is None else np.sort(validation))


class InSampleSplitter(Splitter):
    """No holdout: the model is fitted on and assessed over every record.

    For editing and imputation, where a model corrects the very data it learns from and
    quality is measured against known true values rather than held-out records."""

    def split(self, dataset: Dataset, seed: int) -> list[Split]:
        positions = np.arange(len(dataset))
        return [Split(train=positions, test=positions, name="insample")]


class HoldoutSplitter(Splitter):
    """Random train / validation / test partition."""

    params: HoldoutParams

    def split(self, dataset: Dataset, seed: int) -> list[Split]:
        n = len(dataset)
        return [_holdout(np.arange(n), n, self.params, seed, None)]


class StratifiedSplitter(Splitter):
    """Holdout that keeps each class's share in every part (classification tasks only).

    A record whose class has a single record cannot be stratified: it is kept in training
    and the other classes are stratified."""

    params: StratifiedParams

    def split(self, dataset: Dataset, seed: int) -> list[Split]:
        if not is_classification_task(self):
            raise DataError(
                f"core.stratified keeps class shares, but task {self.task.name!r} has no "
                "classes; use core.holdout or core.kfold")
        y, pinned = stratify_labels(dataset, "(never in test or validation)")
        n = len(dataset)
        keep = np.setdiff1d(np.arange(n), pinned)
        return [_holdout(keep, n, self.params, seed, y[keep], pinned)]


class KFoldSplitter(Splitter):
    """k folds: every record is predicted once by a model that did not see it.

    Stratified for classification tasks when ``stratify`` is true; a record whose class has a
    single record is then kept in every training fold and never tested. Other tasks (such as
    regression) are split into plain folds, whatever ``stratify`` says."""

    params: KFoldParams

    def split(self, dataset: Dataset, seed: int) -> list[Split]:
        from sklearn.model_selection import KFold, StratifiedKFold

        k = self.params.n_splits
        n = len(dataset)
        if n < k:
            raise DataError(f"{n} records cannot make {k} folds")
        positions = np.arange(n)
        if self.params.stratify and dataset.roles.target and is_classification_task(self):
            y, pinned = stratify_labels(dataset, "in every fold (never tested)")
            keep = np.setdiff1d(positions, pinned)
            if len(keep) < k:
                raise DataError(f"{len(keep)} records of classes with two or more records "
                                f"cannot make {k} folds; lower n_splits")
            counts = np.unique(y[keep], return_counts=True)
            if counts[1].max() < k:
                raise DataError(f"every class has fewer than {k} records, so {k} stratified "
                                "folds cannot be made; lower n_splits or set stratify = false")
            small = counts[0][counts[1] < k]
            if len(small):
                warnings.warn(
                    f"{len(small)} class(es) have fewer records than the {k} folds "
                    f"({', '.join(small[:5])}{', ...' if len(small) > 5 else ''}): some folds "
                    "test none of their records", stacklevel=2)
            folds = StratifiedKFold(k, shuffle=True, random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # said above, in plain words
                parts = list(folds.split(keep, y[keep]))
            return [Split(np.sort(np.concatenate([keep[tr], pinned])), keep[te],
                          name=f"fold{i}") for i, (tr, te) in enumerate(parts)]
        folds = KFold(k, shuffle=True, random_state=seed)
        return [Split(tr, te, name=f"fold{i}") for i, (tr, te) in enumerate(folds.split(positions))]


class GroupSplitter(Splitter):
    """Holdout where all records of a group (household, enterprise, area) stay together."""

    params: GroupParams

    def split(self, dataset: Dataset, seed: int) -> list[Split]:
        from sklearn.model_selection import GroupShuffleSplit

        column = dataset.roles.groups
        if not column:
            raise DataError("a group split needs a groups column; set the loader's `groups`")
        missing = dataset.frame[column].isna()
        if missing.any():
            raise DataError(
                f"group column {column!r} has {int(missing.sum())} missing value(s) (first at "
                f"{first_record(dataset.frame, missing, dataset.roles.id)}); give every record "
                "a group, or drop those records")
        groups = dataset.frame[column].to_numpy()
        if len(np.unique(groups)) < 2:
            raise DataError(f"group column {column!r} has a single group; a group split needs two")
        positions = np.arange(len(dataset))
        outer = GroupShuffleSplit(1, test_size=self.params.test_size, random_state=seed)
        rest, test = next(outer.split(positions, groups=groups))
        validation = None
        if self.params.validation_size > 0:
            share = self.params.validation_size / (1 - self.params.test_size)
            inner = GroupShuffleSplit(1, test_size=share, random_state=seed)
            r2, v2 = next(inner.split(rest, groups=groups[rest]))
            rest, validation = rest[r2], rest[v2]
        return [Split(np.sort(rest), np.sort(test),
                      None if validation is None else np.sort(validation))]
