"""The twitter.normalise preprocessing step: cleaned tweets and a filled language column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlstat_core.artifacts import read_json, write_json
from mlstat_core.cleaning import check_cleaning, cleaning_sample
from mlstat_core.components import ColumnRoles, Transform
from mlstat_twitter.normalise import TWEET_CLEANING_CHANGES, TWEET_PROBES, TweetNormaliser
from mlstat_twitter.params import TransformParams

CLEANING_FILE = "cleaning.json"


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

    def save(self, directory: Path) -> None:
        """How the cleaning treated the probe tweets: checked when the step is loaded."""
        write_json(Path(directory) / CLEANING_FILE,
                   cleaning_sample(self.normaliser, TWEET_PROBES))

    def load_state(self, directory: Path) -> None:
        """Warn where the installed cleaning treats a probe tweet otherwise than the saved
        step did (another version of mlstat-twitter), or the step kept no sample."""
        path = Path(directory) / CLEANING_FILE
        check_cleaning(read_json(path) if path.is_file() else None, self.normaliser,
                       "the tweet cleaning of mlstat-twitter (twitter.normalise)",
                       TWEET_CLEANING_CHANGES)
