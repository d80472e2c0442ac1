"""Built-in splits: random holdout, stratified holdout, k-fold and group split, all seeded."""

from __future__ import annotations

import warnings

import numpy as np

from mlstat_core.builtins.params import GroupParams, HoldoutParams, KFoldParams
from mlstat_core.components import Dataset, Split, Splitter
from mlstat_core.errors import DataError


def _target_for_stratify(dataset: Dataset) -> np.ndarray:
    """Target values for stratification; classes seen once are merged so sklearn accepts them."""
    if not dataset.roles.target:
        raise DataError("a stratified split needs a target column; set the loader's `target`")
    y = dataset.y.astype(str).to_numpy().copy()
    values, counts = np.unique(y, return_counts=True)
    rare = set(values[counts < 2])
    if rare:
        warnings.warn(
            f"{len(rare)} class(es) have a single record ({', '.join(sorted(rare)[:5])}...): "
            "they are kept in training but not used to stratify", stacklevel=2)
        y[np.isin(y, list(rare))] = "__rare__"
    return y


def _holdout(n: int, params: HoldoutParams, seed: int, stratify: np.ndarray | None) -> Split:
    from sklearn.model_selection import train_test_split

    positions = np.arange(n)
    n_test = max(1, round(n * params.test_size))
    if n - n_test < 2:
        raise DataError(f"a data set of {n} records is too small to split")
    try:
        rest, test = train_test_split(positions, test_size=n_test, random_state=seed,
                                      stratify=stratify)
        validation = None
        if params.validation_size > 0:
            n_val = max(1, round(n * params.validation_size))
            strat_rest = stratify[rest] if stratify is not None else None
            if strat_rest is not None and (np.unique(strat_rest, return_counts=True)[1] < 2).any():
                strat_rest = None
            rest, validation = train_test_split(rest, test_size=n_val, random_state=seed,
                                                stratify=strat_rest)
    except ValueError as exc:
        raise DataError(f"cannot split the data set: {exc}") from None
    return Split(train=np.sort(rest), test=np.sort(test),
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
        return [_holdout(len(dataset), self.params, seed, None)]


class StratifiedSplitter(Splitter):
    """Holdout that keeps each class's share in every part."""

    params: HoldoutParams

    def split(self, dataset: Dataset, seed: int) -> list[Split]:
        y = _target_for_stratify(dataset)
        if (np.unique(y, return_counts=True)[1] < 2).any():
            y = None  # fewer than two records of the merged rare class: plain random split
        return [_holdout(len(dataset), self.params, seed, y)]


class KFoldSplitter(Splitter):
    """k folds: every record is predicted once by a model that did not see it."""

    params: KFoldParams

    def split(self, dataset: Dataset, seed: int) -> list[Split]:
        from sklearn.model_selection import KFold, StratifiedKFold

        n = len(dataset)
        if n < self.params.n_splits:
            raise DataError(f"{n} records cannot make {self.params.n_splits} folds")
        positions = np.arange(n)
        if self.params.stratify and dataset.roles.target:
            y = _target_for_stratify(dataset)
            if np.unique(y, return_counts=True)[1].min() >= self.params.n_splits:
                folds = StratifiedKFold(self.params.n_splits, shuffle=True, random_state=seed)
                return [Split(tr, te, name=f"fold{i}") for i, (tr, te)
                        in enumerate(folds.split(positions, y))]
        folds = KFold(self.params.n_splits, shuffle=True, random_state=seed)
        return [Split(tr, te, name=f"fold{i}") for i, (tr, te) in enumerate(folds.split(positions))]


class GroupSplitter(Splitter):
    """Holdout where all records of a group (household, enterprise, area) stay together."""

    params: GroupParams

    def split(self, dataset: Dataset, seed: int) -> list[Split]:
        from sklearn.model_selection import GroupShuffleSplit

        column = dataset.roles.groups
        if not column:
            raise DataError("a group split needs a groups column; set the loader's `groups`")
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
