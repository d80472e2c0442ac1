"""The UMSAB layout: per language folder, ``{train,val,test}_text.txt`` with one tweet a line
and ``{train,val,test}_labels.txt`` with its label on the same line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlstat_core.errors import DataError
from mlstat_core.io import undecodable_where
from mlstat_twitter.params import LANGUAGE_CODES


def _lines(path: Path) -> list[str]:
    """The lines of a UMSAB file (UTF-8, a byte-order mark ignored), trailing blank ones
    left out."""
    if not path.is_file():
        raise DataError(f"UMSAB file {path} is missing; a language folder holds "
                        "{train,val,test}_text.txt and {train,val,test}_labels.txt")
    try:
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    except UnicodeDecodeError as exc:
        where = undecodable_where(path, "utf-8", exc)
        raise DataError(f"{path} is not valid UTF-8 text ({where}); UMSAB files are UTF-8: "
                        "save it as UTF-8") from None
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def umsab_labels(path: Path, values: list[str], names: list[str]) -> list[str]:
    """The label names of a labels file's lines: a number (``0`` -> ``names[0]``) or a name
    in any case (``Positive`` -> ``positive``); an error names the first line that is
    neither."""
    by_name = {name.casefold(): name for name in names}
    out = []
    for number, value in enumerate(values, start=1):
        given = value.strip()
        try:
            code = float(given)
        except ValueError:
            code = None
        if code is not None and code.is_integer() and 0 <= code < len(names):
            out.append(names[int(code)])
        elif given.casefold() in by_name:
            out.append(by_name[given.casefold()])
        else:
            raise DataError(
                f"{path} line {number}: label {given!r} is " + ("empty" if not given else
                f"neither a number 0..{len(names) - 1} nor one of {', '.join(names)}")
                + "; give each tweet a label, and set `label_names` to name every label "
                "(label i names number i)")
    return out


def read_umsab(root: Path, languages: list[str], label_names: list[str]) -> tuple[
        pd.DataFrame, list[Path]]:
    frames, sources = [], []
    for language in languages:
        folder = root / language
        if not folder.is_dir():
            known = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
            raise DataError(f"UMSAB language folder {folder} does not exist; available: "
                            f"{', '.join(known) or 'none'}")
        for part in ("train", "val", "test"):
            text_path, label_path = folder / f"{part}_text.txt", folder / f"{part}_labels.txt"
            texts, labels = _lines(text_path), _lines(label_path)
            if len(texts) != len(labels):
                raise DataError(f"{text_path} has {len(texts)} lines but {label_path} has "
                                f"{len(labels)}; each tweet needs one label line")
            named = umsab_labels(label_path, labels, label_names)
            frames.append(pd.DataFrame({
                "id": [f"{language}-{part}-{i}" for i in range(len(texts))],
                "text": texts,
                "label": named,
                "language": LANGUAGE_CODES.get(language, language),
                "split": part,
            }))
            sources += [text_path, label_path]
    frame = pd.concat(frames, ignore_index=True)
    frame["created_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    frame["author"] = pd.NA
    frame["is_retweet"] = frame["text"].str.startswith("RT @")
    return frame, sources
