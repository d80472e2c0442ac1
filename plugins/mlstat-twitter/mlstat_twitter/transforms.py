"""The twitter.normalise preprocessing step: cleaned tweets and a filled language column."""

from __future__ import annotations

import pandas as pd

from mlstat_core.components import ColumnRoles, Transform
from mlstat_twitter.normalise import TweetNormaliser
from mlstat_twitter.params import TransformParams


class NormaliseTransform(Transform):
    """Cleans every text column (mentions, URLs, hashtags, emoji, elongation) and fills the
    language column where it is missing (adding it when absent). Stateless."""

    params: TransformParams

    def __init__(self, params: TransformParams | None = None) -> None:
        super().__init__(params if params is not None else TransformParams())
        self.normaliser = TweetNormaliser(self.params.normalise)

    def transform(self, frame: pd.DataFrame, roles: ColumnRoles) -> pd.DataFrame:
        from mlstat_twitter.models import languages_of

        out = frame.copy()
        texts = [c for c in roles.text if c in out.columns]
        raw = out[texts[0]] if texts else None
        lp = self.params.language
        if lp.identify and raw is not None:
            out[lp.column] = languages_of(out, lp.column, lp.languages, True, raw)
        for column in texts:
            out[column] = self.normaliser(out[column].tolist())
        return out
