"""Classification structures: a code list (code, label, parent) or levels taken from prefixes.

A code list checks codes and gives the hierarchy; without one, the levels of ``01.1.5.2`` are
its prefixes ``01``, ``01.1``, ``01.1.5`` (split on a separator; with an empty separator each
character is a level, as in ISCO ``2512`` -> ``2``, ``25``, ``251``). Either way, a
:class:`Hierarchy` answers "what is the ancestor of this code at level k".
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mlstat_core.errors import DataError

ECOICOP_CODE_LIST = "ecoicop_codes.csv"
CODE_LIST_COLUMNS = ("code", "label", "parent")
"""The columns of a code list."""


@dataclass
class Hierarchy:
    """Parents (and labels) of codes; codes without an entry fall back to their prefixes."""

    parents: dict[str, str | None] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    separator: str = "."

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def from_prefixes(cls, separator: str = ".") -> Hierarchy:
        return cls(separator=separator)

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]], separator: str = ".",
                     source: str = "code list") -> Hierarchy:
        parents: dict[str, str | None] = {}
        labels: dict[str, str] = {}
        for row in records:
            code = _clean(row.get("code"))
            if not code:
                raise DataError(f"{source} has a row without a code; every row needs one")
            if code in parents:
                raise DataError(f"{source} lists code {code!r} twice; codes must be unique")
            parents[code] = _clean(row.get("parent")) or None
            labels[code] = _clean(row.get("label")) or code
        unknown = sorted({p for p in parents.values() if p and p not in parents})
        if unknown:
            raise DataError(f"{source} names parent(s) {', '.join(unknown[:5])} that are not "
                            "codes of the list; add them as rows"
                            + lost_zeros_hint(unknown, parents, "the code column"))
        cycle = parent_cycle(parents)
        if cycle:
            path = " -> ".join(repr(c) for c in [*cycle, cycle[0]])
            raise DataError(f"{source} has a cycle of parents ({path}, each code followed by "
                            "its parent), so these codes have no top level; correct the parent "
                            "of one of them (a top-level code has an empty parent)")
        return cls(parents, labels, separator)

    @classmethod
    def from_csv(cls, path: str | Path, encoding: str = "utf-8", separator: str = ".", *,
                 keep_default_na: bool = False, sep: str | None = None,
                 how: Callable[[str, str], str | None] | None = None) -> Hierarchy:
        """Read a code list CSV with columns ``code``, ``label`` and ``parent``.

        Cells are read as written, like the coding loaders' data: only an empty cell is
        missing, so the code ``NA`` (Namibia) is a code (``keep_default_na`` also reads
        pandas' words ``NA``, ``null``... as missing). ``sep`` is the data's field separator
        (a list exported with ``;`` data has ``;``; None where it is unknown, as for Excel
        data: the one the list's first lines suggest); a list with ``,`` is read too.
        ``how(option, example)`` says how the user sets a reading option, for messages (by
        default: the code list's own options).
        """
        from mlstat_core.formats import CSV_SUFFIXES
        from mlstat_core.io import separator_hint

        frame, used = _read_code_list(path, encoding, sep, keep_default_na, how)
        missing = [c for c in CODE_LIST_COLUMNS if c not in frame.columns]
        if missing:
            hint = separator_hint(Path(path), encoding, used, frame, how or code_list_setting) \
                if Path(path).suffix.lower() in CSV_SUFFIXES else ""
            raise DataError(f"code list {path} lacks column(s) {', '.join(missing)}"
                            + (hint or "; it needs code, label and parent (empty parent for "
                                       "top-level codes)"))
        frame = frame.astype(object).where(frame.notna(), None)
        return cls.from_records(frame.to_dict("records"), separator, source=f"code list {path}")

    @classmethod
    def ecoicop(cls) -> Hierarchy:
        """The bundled ECOICOP food and non-alcoholic beverages code list (division 01)."""
        with resources.as_file(resources.files("mlstat_coding.data") / ECOICOP_CODE_LIST) as p:
            return cls.from_csv(p)

    # -- questions --------------------------------------------------------------------------

    def has_list(self) -> bool:
        return bool(self.parents)

    def ancestors(self, code: str) -> list[str]:
        """The code's path from the top level down to the code itself."""
        code = str(code)
        if code in self.parents:
            path = [code]
            seen = {code}
            while (parent := self.parents.get(path[-1])) is not None:
                if parent in seen:
                    raise DataError(f"code list has a cycle of parents through {parent!r}; "
                                    "correct the parent of one of its codes and train again")
                seen.add(parent)
                path.append(parent)
            return path[::-1]
        if not self.separator:  # ISCO 2512 -> 2, 25, 251, 2512
            return [code[: i + 1] for i in range(len(code))]
        parts = code.split(self.separator)
        return [self.separator.join(parts[: i + 1]) for i in range(len(parts))]

    def at_level(self, code: str, level: int) -> str:
        """The ancestor at ``level`` (1 = top); the code itself when it is not that deep."""
        path = self.ancestors(code)
        return path[min(level, len(path)) - 1]

    def depth(self, codes: Iterable[str]) -> int:
        return max((len(self.ancestors(c)) for c in codes), default=0)

    def label(self, code: str) -> str:
        return self.labels.get(str(code), str(code))

    def unknown(self, codes: Iterable[str]) -> list[str]:
        """Codes absent from the code list (none when there is no list)."""
        if not self.parents:
            return []
        return sorted({str(c) for c in codes} - set(self.parents))

    def as_dict(self) -> dict[str, Any]:
        return {"parents": self.parents, "labels": self.labels, "separator": self.separator}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Hierarchy:
        if not data:
            return cls()
        return cls(dict(data.get("parents") or {}), dict(data.get("labels") or {}),
                   data.get("separator", "."))


def _read_code_list(path: str | Path, encoding: str, sep: str | None, keep_default_na: bool,
                    how: Callable[[str, str], str | None] | None) -> tuple[Any, str | None]:
    """The code list's table and the separator it was read with (see
    :func:`_code_list_separator`; None: the default one)."""
    from mlstat_core.io import read_table

    used = _code_list_separator(Path(path), encoding, sep)
    frame = read_table(path, encoding=encoding, sep=used,  # as text, also a Parquet's 111.0
                       dtype={"code": "str", "parent": "str"},
                       keep_default_na=keep_default_na, how=how or code_list_setting)
    return frame, used


def _code_list_separator(path: Path, encoding: str, sep: str | None) -> str | None:
    """The first of ``sep`` (the data's, where known), the separator the list's first lines
    suggest, ',', ';', tab and '|' on which the code list's header names code, label and parent;
    where none does, the data's or the suggested one (so that a message names the columns
    really missing), else None, the default ','."""
    from mlstat_core.formats import CSV_SUFFIXES
    from mlstat_core.io import likely_separator

    if path.suffix.lower() not in CSV_SUFFIXES:
        return None  # a Parquet or Excel code list has no separator
    sniffed = likely_separator(path, encoding, ",")
    candidates = list(dict.fromkeys(c for c in (sep, sniffed, ",", ";", "\t", "|") if c))
    found = next((c for c in candidates if _header_holds_columns(path, encoding, c)), None)
    # none names all three: the data's, else the sniffed one, so that the message lists the
    # columns really missing (not a wrong advice to use ',')
    return found or sep or sniffed  # likely_separator never suggests the ',' it was given


def _header_holds_columns(path: Path, encoding: str, sep: str) -> bool:
    """Whether the CSV file's header, split on ``sep``, names code, label and parent."""
    import pandas as pd

    try:
        header = pd.read_csv(path, encoding=encoding, sep=sep, nrows=0).columns
    except (UnicodeDecodeError, LookupError, ValueError, OSError):
        return False  # the read itself reports it
    return set(CODE_LIST_COLUMNS) <= set(header)


def parent_cycle(parents: dict[str, str | None]) -> list[str]:
    """Codes that are their own ancestor, each followed by its parent (empty: none)."""
    done: set[str] = set()
    for start in parents:
        path: list[str] = []
        position: dict[str, int] = {}
        code: str | None = start
        while code is not None and code not in done:
            if code in position:
                return path[position[code]:]
            position[code] = len(path)
            path.append(code)
            code = parents.get(code)
        done.update(path)
    return []


def code_list_setting(option: str, example: str) -> str | None:
    """How a pipeline file sets a reading option of its code list (for messages): its text
    encoding is the loader's ``code_list_encoding``; other options cannot be set."""
    if option == "encoding":
        return f"set the loader's `code_list_encoding` (for example code_list_encoding = " \
               f"\"{example}\")"
    return None


def code_list_encoding(path: Path, declared: str | None, data_encoding: str = "utf-8") -> str:
    """The text encoding to read a code list in: the one declared, else UTF-8, or the data
    file's encoding when the code list is not valid UTF-8 (a code list exported with the
    data, cp1250 say). A UTF-8 code list beside a cp1250 data file stays UTF-8, so its labels
    are never garbled silently."""
    if declared:
        return declared
    if data_encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig"):
        return "utf-8"
    if path.suffix.lower() not in (".csv", ".tsv", ".txt") or not path.is_file():
        return "utf-8"
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return data_encoding
    return "utf-8"


def level_accuracy(y_true: Iterable[Any], y_pred: Iterable[Any],
                   hierarchy: Hierarchy) -> dict[int, float]:
    """Accuracy at each level of the hierarchy (1 = top level), over all records."""
    true = [str(v) for v in y_true]
    pred = [str(v) for v in y_pred]
    if not true:
        return {}
    depth = hierarchy.depth(set(true) | set(pred))
    out: dict[int, float] = {}
    for level in range(1, depth + 1):
        hits = sum(hierarchy.at_level(t, level) == hierarchy.at_level(p, level)
                   for t, p in zip(true, pred, strict=True))
        out[level] = hits / len(true)
    return out


def check_codes(codes: Iterable[Any], hierarchy: Hierarchy, policy: str, source: str) -> set[str]:
    """Codes not in the code list: raise (``error``), warn, or return them to drop."""
    unknown = hierarchy.unknown(c for c in codes if c is not None)
    if not unknown:
        return set()
    shown = ", ".join(map(repr, unknown[:8])) + (" ..." if len(unknown) > 8 else "")
    hint = lost_zeros_hint(unknown, hierarchy.parents, "the code list")
    if policy == "error":
        raise DataError(f"{source} has {len(unknown)} code(s) not in the code list: {shown}"
                        + (hint or "; correct them, add them to the code list, or set "
                           "unknown_codes = \"drop\" (or \"warn\") in the loader"))
    warnings.warn(f"{source} has {len(unknown)} code(s) not in the code list: {shown}"
                  + ("; their records are dropped" if policy == "drop" else "") + hint,
                  stacklevel=3)
    return set(unknown) if policy == "drop" else set()


_NUMERIC_CODE = re.compile(r"\d+(?:\.\d+)?")


def _as_number(code: str) -> float | None:
    return float(code) if _NUMERIC_CODE.fullmatch(code) else None


LOST_ZEROS = ("a spreadsheet or program that took codes for numbers drops their leading "
              "zeros (0111 -> 111) or adds decimals (111 -> 111.0); format the code columns "
              "as text and export the file again")


def lost_zeros_hint(unknown: Iterable[str], known: Iterable[str], where: str) -> str:
    """A hint when codes not found equal known ones as numbers (``0111`` and ``111``,
    ``01.10`` and ``1.1``): a spreadsheet that took the codes for numbers dropped their
    leading (or trailing) zeros on one side; empty when none do."""
    by_value: dict[float, str] = {}
    for code in known:
        if (value := _as_number(code)) is not None:
            by_value.setdefault(value, code)
    pairs = [(code, by_value[value]) for code in unknown
             if (value := _as_number(code)) is not None and value in by_value]
    if not pairs:
        return ""
    code, match = pairs[0]
    return (f"; {len(pairs)} of them differ only in zeros from codes in {where} ({code!r} "
            f"and {match!r}): {LOST_ZEROS}")


def zero_twins(codes: Iterable[str]) -> list[list[str]]:
    """Groups of distinct codes that are one number written differently (``0111``, ``111``):
    a column typed partly as text and partly as numbers in a spreadsheet."""
    groups: dict[float, list[str]] = {}
    for code in sorted(set(codes)):
        if (value := _as_number(code)) is not None:
            groups.setdefault(value, []).append(code)
    return [group for group in groups.values() if len(group) > 1]


def _clean(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()
