"""The benchmark's own split: train, validation and test as published."""

from __future__ import annotations

import numpy as np

from mlstat_core.components import Dataset, Split, Splitter
from mlstat_core.errors import DataError
from mlstat_twitter.params import PredefinedSplitParams


class PredefinedSplitter(Splitter):
    """Uses a column naming each record's part (UMSAB: train / val / test); no randomness."""

    params: PredefinedSplitParams

    def split(self, dataset: Dataset, seed: int) -> list[Split]:
        p = self.params
        if p.column not in dataset.frame.columns:
            raise DataError(f"twitter.predefined needs a column {p.column!r} naming each "
                            f"record's part; the data has {', '.join(dataset.frame.columns)}. "
                            "Use twitter.umsab (which has it) or another [split] component")
        part = dataset.frame[p.column].astype(str).to_numpy()
        train = np.flatnonzero(part == p.train)
        test = np.flatnonzero(part == p.test)
        validation = np.flatnonzero(part == p.validation) if p.validation else None
        for name, positions in (("train", train), ("test", test)):
            if not len(positions):
                found = ", ".join(sorted(set(part))[:10])
                raise DataError(f"no record has {p.column} = {getattr(p, name)!r} (values: "
                                f"{found}); set `{name}` in [split]")
        if validation is not None and not len(validation):
            validation = None
        return [Split(train=train, test=test, validation=validation, name="predefined")]
