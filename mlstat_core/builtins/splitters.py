"""Built-in splits: random holdout, stratified holdout, k-fold and group split, all seeded.

The engine sets ``task`` (a :class:`~mlstat_core.tasks.TaskType`) on every splitter before
calling ``split``; the built-in splitters stratify only for classification tasks.
"""

from __future__ import annotations

import math
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


def missing_classes(y: np.ndarray, split: Split, column: str,
                    skip: np.ndarray | None = None) -> None:
    """Warn (count and classes) when a class of ``y`` (labels of target ``column``, as text)
    has no training record (the model never learns it) or no test record (the test figures
    leave it out); classes in ``skip`` (single records, warned about already) are not
    counted again."""
    classes = np.unique(y)
    if skip is not None:
        classes = np.setdiff1d(classes, skip)
    fixes = {
        "training": ("so the model never learns {it} and never predicts {it}",
                     "lower test_size"),
        "test": ("so per_class, macro_f1 and the other test figures leave {it} out",
                 "raise test_size, or use core.kfold, which tests every record once"),
    }
    for part, positions in (("training", split.train), ("test", split.test)):
        absent = sorted(np.setdiff1d(classes, y[positions]).tolist())
        if absent:
            shown = ", ".join(absent[:5]) + (", ..." if len(absent) > 5 else "")
            why, fix = fixes[part]
            why = why.format(it="it" if len(absent) == 1 else "them")
            warnings.warn(f"{len(absent)} class(es) of target {column!r} have no record in "
                          f"the {part} set ({shown}), {why}: {fix}", stacklevel=3)


def _stratified_sizes(stratify: np.ndarray, n_test: int, n_total: int) -> None:
    """A stratified holdout puts a record of every class in test and in training: a
    DataError with the test_size that works when the sizes cannot hold every class."""
    classes = len(np.unique(stratify))
    n_train = len(stratify) - n_test
    if n_test >= classes and n_train >= classes:
        return
    if n_test < classes:
        least = math.ceil(classes / n_total * 100) / 100
        fix = (f"raise test_size to at least {least:g}" if least < 1 else
               "there are too many classes for a stratified holdout")
        raise DataError(
            f"a stratified split puts at least one record of every class in test, but "
            f"test_size gives {n_test:,} test record(s) for {classes:,} classes: {fix}, or use "
            "core.holdout (not stratified) or core.kfold")
    raise DataError(
        f"a stratified split keeps at least one record of every class in training, but only "
        f"{n_train:,} record(s) are left for {classes:,} classes: lower test_size (and "
        "validation_size), or use core.holdout (not stratified) or core.kfold")


def _holdout(positions: np.ndarray, n_total: int, params: HoldoutParams, seed: int,
             stratify: np.ndarray | None, pinned: np.ndarray | None = None) -> Split:
    """Holdout of ``positions`` with sizes as shares of ``n_total`` records; ``pinned``
    positions go to training."""
    from sklearn.model_selection import train_test_split

    pinned = np.zeros(0, dtype=int) if pinned is None else pinned
    n_test = max(1, round(n_total * params.test_size))
    if n_total - n_test < 2 or len(positions) <= n_test:
        raise DataError(f"a data set of {n_total} records is too small to split")
    if stratify is not None:
        _stratified_sizes(stratify, n_test, n_total)
    try:
        rest, test = train_test_split(positions, test_size=n_test, random_state=seed,
                                      stratify=stratify)
        validation = None
        if params.validation_size > 0:
            n_val = max(1, round(n_total * params.validation_size))
            lookup = dict(zip(positions.tolist(), range(len(positions)), strict=True))
            strat_rest = stratify[[lookup[p] for p in rest]] if stratify is not None else None
            if strat_rest is not None:
                counts = np.unique(strat_rest, return_counts=True)[1]
                if (counts < 2).any() or len(counts) > min(n_val, len(rest) - n_val):
                    strat_rest = None  # too few records to keep every class's share
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
        split = _holdout(np.arange(n), n, self.params, seed, None)
        if dataset.roles.target and is_classification_task(self):
            missing_classes(dataset.y.astype(str).to_numpy(), split, dataset.roles.target)
        return [split]


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
        split = _holdout(keep, n, self.params, seed, y[keep], pinned)
        missing_classes(y, split, dataset.roles.target, skip=np.unique(y[pinned]))
        return [split]


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
