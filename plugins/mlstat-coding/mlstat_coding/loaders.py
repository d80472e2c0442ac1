"""Loaders of coding data: a user's table of texts and codes, and the bundled Polish ECOICOP set."""

from __future__ import annotations

import warnings
from importlib import resources
from pathlib import Path

import pandas as pd

from mlstat_coding.hierarchy import (
    LOST_ZEROS,
    Hierarchy,
    check_codes,
    code_list_encoding,
    zero_twins,
)
from mlstat_coding.params import EcoicopParams, TextTableParams
from mlstat_core.builtins.loaders import check_ids, check_weights
from mlstat_core.components import ColumnRoles, Dataset, Loader
from mlstat_core.errors import DataError, TrainingDataWarning
from mlstat_core.io import read_table, require_table_columns, resolve_path, table_format

ECOICOP_FILE = "ecoicop_pl.csv"


def data_file(name: str) -> Path:
    """Path of a file vendored in ``mlstat_coding/data``."""
    return Path(str(resources.files("mlstat_coding.data") / name))


def prepare_coding_frame(frame: pd.DataFrame, roles: ColumnRoles, source: str,
                         hierarchy: Hierarchy | None = None, unknown_codes: str = "error",
                         rare_codes: str = "warn") -> pd.DataFrame:
    """Check a coding table against its roles; the checks every coding loader shares.

    Missing codes drop their records (with a warning); codes absent from the code list follow
    ``unknown_codes``; codes seen once follow ``rare_codes``; a text column with a single
    value is kept with a warning (it cannot tell codes apart).
    """
    require_table_columns(frame, roles.all_columns(), source)
    if frame.empty:
        raise DataError(f"data set {source} has no records")
    code = roles.target
    if code:
        missing = frame[code].isna() | (frame[code].astype(str).str.strip() == "")
        if missing.all():
            raise DataError(f"code column {code!r} of {source} is empty; fill it in for the "
                            "training data, or leave `code` unset for new records")
        if missing.any():
            warnings.warn(f"{int(missing.sum())} record(s) of {source} have no code and are "
                          "left out", stacklevel=2)
            frame = frame[~missing]
        frame = frame.assign(**{code: frame[code].astype(str).str.strip()})
        if hierarchy is not None:
            drop = check_codes(frame[code], hierarchy, unknown_codes, source)
            if drop:
                frame = frame[~frame[code].isin(drop)]
            warn_of_mixed_levels(frame[code], hierarchy, source)
        warn_of_zero_twins(frame[code], source, hierarchy)
        counts = frame[code].value_counts()
        once = sorted(counts.index[counts == 1])
        if once:
            shown = ", ".join(map(repr, once[:8])) + (" ..." if len(once) > 8 else "")
            if rare_codes == "drop":
                warnings.warn(f"{len(once)} code(s) of {source} are seen once and are dropped: "
                              f"{shown}", stacklevel=2)
                frame = frame[~frame[code].isin(once)]
            else:
                warnings.warn(f"{len(once)} code(s) of {source} are seen once: {shown}; they "
                              "are kept, but a model learns little from one example and they "
                              "cannot be stratified or checked on held-out data",
                              TrainingDataWarning, stacklevel=2)
    blank = frame[roles.text].apply(lambda col: col.isna() | (col.astype(str).str.strip() == ""))
    if blank.all(axis=1).all():
        raise DataError(f"text column(s) {', '.join(roles.text)} of {source} are empty in every "
                        "record; check the `text` columns named in the loader")
    for column in roles.text:
        if blank[column].all():
            warnings.warn(f"text column {column!r} of {source} is empty in every record; it "
                          "adds nothing to the other text column(s)", stacklevel=2)
        elif frame[column].nunique(dropna=False) == 1 and len(frame) > 1:
            warnings.warn(f"text column {column!r} of {source} holds a single value "
                          f"({frame[column].iloc[0]!r}); it cannot tell codes apart",
                          stacklevel=2)
    if roles.id:
        check_ids(frame, roles.id, source)
    if frame.empty:
        raise DataError(f"data set {source} has no records left after the checks")
    return frame.reset_index(drop=True)


def warn_of_zero_twins(codes: pd.Series, source: str, hierarchy: Hierarchy | None) -> None:
    """Warn when one code seems written two ways (``0111`` and ``111``, a column typed partly
    as text, partly as numbers): the model would learn two codes. Codes of a code list are
    distinct codes (ISCO's ``011`` and ``11``)."""
    listed = set(hierarchy.parents) if hierarchy is not None else set()
    twins = [group for group in zero_twins(codes.unique()) if not set(group) <= listed]
    if twins:
        shown = "; ".join(" and ".join(map(repr, group)) for group in twins[:3])
        warnings.warn(f"{len(twins)} number(s) are written as more than one code in {source} "
                      f"({shown}{' ...' if len(twins) > 3 else ''}) and learnt as different "
                      f"codes; if they are one code, {LOST_ZEROS}", TrainingDataWarning,
                      stacklevel=3)


def warn_of_mixed_levels(codes: pd.Series, hierarchy: Hierarchy, source: str) -> None:
    """Warn when records are coded both to a code and to codes under it (a coder who coded
    to the class 01.1.8 when unsure, beside records coded to its subclass 01.1.8.4): the
    model learns the class as one more code competing with its subclasses, and such records
    count as errors at the lower level."""
    if not hierarchy.has_list():
        return
    used = set(codes.dropna().astype(str))
    above = sorted({a for c in used for a in hierarchy.ancestors(c)[:-1]} & used)
    if not above:
        return
    n = int(codes.astype(str).isin(above).sum())
    shown = ", ".join(map(repr, above[:8])) + (" ..." if len(above) > 8 else "")
    warnings.warn(f"{n} record(s) of {source} are coded to {len(above)} code(s) that have codes "
                  f"under them in use too ({shown}): the model learns each as a code of its "
                  "own, competing with the codes under it; code those records at the lowest "
                  "level (fallback_level gives a higher level to records the model is unsure "
                  "of)", TrainingDataWarning, stacklevel=3)


class TextTableLoader(Loader):
    """A CSV, Parquet or Excel table of texts, codes and optional auxiliary columns."""

    params: TextTableParams

    def load(self, base_dir: Path) -> Dataset:
        p = self.params
        path = resolve_path(p.path, base_dir)
        as_text = dict.fromkeys([c for c in [p.code, *p.text, *p.auxiliary, p.id] if c], "str")
        frame = read_table(path, format=p.format, encoding=p.encoding, sep=p.sep, sheet=p.sheet,
                           dtype=as_text or None, keep_default_na=p.keep_default_na)
        roles = ColumnRoles(id=p.id, target=p.code, text=list(p.text),
                            auxiliary=list(p.auxiliary), weights=p.weights)
        hierarchy = None
        sources = [path]
        if p.code_list:
            list_path = resolve_path(p.code_list, base_dir)
            hierarchy = Hierarchy.from_csv(
                list_path, code_list_encoding(list_path, p.code_list_encoding, p.encoding),
                keep_default_na=p.keep_default_na, sep=data_separator(path, p))
            sources.append(list_path)
        frame = prepare_coding_frame(frame, roles, str(path), hierarchy, p.unknown_codes,
                                     p.rare_codes)
        if p.weights:  # numbers >= 0, not all zero, the first bad one named
            check_weights(frame, roles, path)
            frame[p.weights] = pd.to_numeric(frame[p.weights])
        metadata = {"code_list": hierarchy.as_dict()} if hierarchy else {}
        return Dataset(frame=frame, roles=roles, name=path.stem, sources=sources,
                       metadata=metadata)


def data_separator(path: Path, params: TextTableParams) -> str | None:
    """The data's field separator, which its code list may share: the loader's ``sep``, else
    ',' (a tab for .tsv) for a CSV file; None (unknown) for Excel and Parquet data."""
    if params.sep:
        return params.sep
    if table_format(path, params.format) != "csv":
        return None
    return "\t" if path.suffix.lower() == ".tsv" else ","


def ecoicop_frame() -> pd.DataFrame:
    """The vendored Polish ECOICOP table with an added ``code`` column."""
    frame = read_table(data_file(ECOICOP_FILE), dtype={"product": "str", "category": "str"})
    hierarchy = Hierarchy.ecoicop()
    by_label = {label: code for code, label in hierarchy.labels.items()
                if code.count(".") == 3}
    frame["code"] = frame["category"].map(by_label)
    if frame["code"].isna().any():  # pragma: no cover - guards the vendored files
        raise DataError("the bundled ECOICOP code list misses a category of the data set")
    return frame


class EcoicopLoader(Loader):
    """The Polish ECOICOP product names of Statistics Poland (16,630 records, 61 subclasses)."""

    params: EcoicopParams

    def load(self, base_dir: Path) -> Dataset:
        p = self.params
        frame = ecoicop_frame()
        if p.sample and p.sample < len(frame):
            from sklearn.model_selection import train_test_split

            frame, _ = train_test_split(frame, train_size=p.sample, random_state=p.seed,
                                        stratify=frame["category"])
            frame = frame.sort_index()
        target = p.target
        roles = ColumnRoles(target=target, text=["product"])
        hierarchy = Hierarchy.ecoicop() if target == "code" else None
        if p.code_list:
            list_path = resolve_path(p.code_list, base_dir)
            hierarchy = Hierarchy.from_csv(list_path,
                                           code_list_encoding(list_path, p.code_list_encoding),
                                           keep_default_na=p.keep_default_na)
        frame = prepare_coding_frame(frame, roles, "ecoicop_pl", hierarchy, p.unknown_codes,
                                     p.rare_codes)
        metadata = {"code_list": hierarchy.as_dict()} if hierarchy else {}
        return Dataset(frame=frame, roles=roles, name="ecoicop_pl",
                       sources=[data_file(ECOICOP_FILE), data_file("ecoicop_codes.csv")],
                       metadata=metadata)
