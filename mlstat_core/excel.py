"""Reading Excel workbooks: one sheet, whole or row by row in bounded chunks (openpyxl's
read-only mode), typed as ``pd.read_excel`` types it; a damaged workbook, a sheet it lacks or a
missing ``.xls`` reader is one :class:`~mlstat_core.errors.DataError` with the fix."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_core.errors import DataError


def read_sheet(path: Path, sheet: str | int | None, how: Callable[[str, str], str | None],
               **options: Any) -> pd.DataFrame:
    """One sheet of an Excel workbook (the first by default): a name, or a number counting
    from 0 (a text of digits names the sheet so called if there is one, else a number); a
    sheet it does not have is one ``DataError`` listing its sheets and how to choose one."""
    names = sheet_names(path) if _digits(sheet) else None
    sheet = chosen_sheet(sheet, names or [])
    try:
        return codes_missing(pd.read_excel(path, sheet_name=sheet, **options), options)
    except ValueError as exc:
        if not str(exc).startswith("Worksheet"):
            raise
        raise no_sheet(path, sheet, names if names is not None else sheet_names(path),
                       how) from None


def _digits(sheet: Any) -> bool:
    return isinstance(sheet, str) and sheet.strip().isdigit()


def chosen_sheet(sheet: str | int | None, names: list[Any]) -> str | int:
    """What ``sheet`` means among a workbook's sheet ``names``: None the first; a text of
    digits the sheet so called if there is one, else a number counting from 0."""
    if sheet is None:
        return 0
    return int(sheet) if _digits(sheet) and sheet not in names else sheet


def no_sheet(path: Path, sheet: Any, names: list[Any], how: Callable[[str, str], str | None]
             ) -> DataError:
    """The error for a sheet the workbook does not have: its sheets, and how to choose one."""
    advice = how("sheet", str(names[0])) if names else None
    return DataError(f"{path} has no sheet {sheet!r}; its sheets are "
                     f"{', '.join(map(repr, names))} (a number counts from 0)"
                     + (f": {advice}" if advice else ""))


def sheet_names(path: Path) -> list[Any]:
    """The names of an Excel workbook's sheets, in order."""
    with pd.ExcelFile(path) as book:
        return list(book.sheet_names)


def iter_sheet(path: Path, sheet: str | int | None, chunk_size: int,
               how: Callable[[str, str], str | None], **options: Any
               ) -> Iterator[pd.DataFrame]:
    """One sheet of an Excel workbook (see :func:`read_sheet`) in chunks of at most
    ``chunk_size`` records, read row by row (openpyxl's read-only mode), so memory is bounded
    by the chunk size. Each chunk is typed by pandas' own parser from the same cell values as
    ``pd.read_excel`` (``options``: ``dtype``, ``na_values``, ``keep_default_na``,
    ``decimal``), as a CSV file's chunks are. An ``.xls`` workbook (at most 65,536 rows) or a
    file that is no zip archive is read whole by pandas, which says what it lacks."""
    import zipfile

    if not zipfile.is_zipfile(path):
        yield read_sheet(path, sheet, how, **options)
        return
    from openpyxl import load_workbook

    with open(path, "rb") as handle:
        # pandas' settings: cached values of formulas, no external links
        book = load_workbook(handle, read_only=True, data_only=True, keep_links=False)
        try:
            yield from _sheet_chunks(path, _worksheet(book, path, sheet, how), chunk_size,
                                     options)
        finally:
            book.close()


def _worksheet(book: Any, path: Path, sheet: str | int | None,
               how: Callable[[str, str], str | None]) -> Any:
    """The sheet of an openpyxl workbook chosen as :func:`read_sheet` chooses it."""
    names = [worksheet.title for worksheet in book.worksheets]
    chosen = chosen_sheet(sheet, names)
    if isinstance(chosen, str) and chosen in names:
        return book[chosen]
    if isinstance(chosen, int) and -len(names) <= chosen < len(names):
        return book.worksheets[chosen]
    raise no_sheet(path, chosen, names, how)


def _cell_value(cell: Any) -> Any:
    """A cell's value as pandas' openpyxl reader gives it: empty as ``""``, an error
    (``#DIV/0!``) as missing, a whole number as an int."""
    value = cell.value
    if value is None:
        return ""
    if cell.data_type == "e":
        return np.nan
    if cell.data_type == "n":
        whole = int(value)
        return whole if whole == value else float(value)
    return value


def _sheet_chunks(path: Path, worksheet: Any, chunk_size: int, options: dict[str, Any]
                  ) -> Iterator[pd.DataFrame]:
    """The records below the header row of ``worksheet``, chunk by chunk. As pandas does,
    empty rows between records are records (of missing values) and those after the last
    record are not, so a chunk is given out only once a record follows it. The table is as
    wide as its header and its first chunk (pandas: its widest row); a value right of that
    in a later chunk is left out with a warning, as is one more than
    :data:`UNNAMED_COLUMNS` columns right of the header (a stray cell in column XFD made
    every row 16,384 values: 2.8 GB for 5,000 records)."""
    worksheet.reset_dimensions()  # declared dimensions can be wrong (pandas does the same)
    cells = iter(worksheet.rows)
    first = next(cells, None)
    if first is None:
        yield pd.DataFrame()
        return
    header = _trimmed([_cell_value(cell) for cell in first])
    limit = len(header) + UNNAMED_COLUMNS
    width = 0
    given = 0
    wide: list[int] = []  # data rows (from 1) with values right of the table

    def records() -> Iterator[list[Any]]:
        for number, row in enumerate(cells, start=1):
            if len(row) > limit and any(cell.value is not None for cell in row[limit:]):
                wide.append(number)
            yield _trimmed([_cell_value(cell) for cell in row[:limit]])

    rows = records()

    def chunk(part: list[list[Any]]) -> pd.DataFrame:
        nonlocal width, given
        width = width or max([len(header), *map(len, part)])
        for number, values in enumerate(part, start=given + 1):
            if len(values) > width:
                if not wide or wide[-1] != number:
                    wide.append(number)
                del values[width:]
        given += len(part)
        return _parsed(header, part, width, options)

    pending: list[list[Any]] = []
    for values in rows:
        if values and len(pending) >= chunk_size:  # a record follows: they are all records
            while len(pending) >= chunk_size:
                yield chunk(pending[:chunk_size])
                pending = pending[chunk_size:]
        pending.append(values)
    while pending and not pending[-1]:
        pending.pop()
    if pending or not given:
        yield chunk(pending)
    if wide:
        wide = sorted(set(wide))
        warnings.warn(f"{len(wide):,} record(s) of {path} (first at data row {wide[0]:,}) "
                      f"hold values right of the table's {width} columns (set by its header "
                      f"and first {chunk_size:,} records, at most {UNNAMED_COLUMNS} beyond "
                      "the header): those values were left out; give their column a header",
                      stacklevel=2)


UNNAMED_COLUMNS = 100
"""Most columns without a header that a sheet's table reaches right of its header."""


def _trimmed(values: list[Any]) -> list[Any]:
    """A row's values without its trailing empty cells."""
    while values and values[-1] == "":
        values.pop()
    return values


def _parsed(header: list[Any], rows: list[list[Any]], width: int, options: dict[str, Any]
            ) -> pd.DataFrame:
    """Rows of cell values typed as ``pd.read_excel`` types a sheet: its own parser."""
    from pandas.io.parsers import TextParser

    data = [values + [""] * (width - len(values)) for values in [header, *rows]]
    try:
        return codes_missing(TextParser(data, header=0, skip_blank_lines=False, **options).read(),
                             options)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def codes_missing(frame: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:
    """Missing-value codes that are numbers (``na_values = ["-9"]``) made missing in columns
    of whole numbers too: pandas' Excel parser matches them in columns of decimals and text
    but keeps ``-9`` in a column of integers (a CSV file's parser does not), so the code
    would be read as a value."""
    numbers = set()
    for code in options.get("na_values") or []:
        try:
            numbers.add(float(code))
        except (TypeError, ValueError):
            continue
    if not numbers:
        return frame
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
            coded = values.isin(numbers)
            if coded.any():
                frame[column] = values.astype(float).mask(coded)
    return frame


XLS_READERS = ("python_calamine", "calamine", "xlrd")
"""What pandas names when it lacks a reader of ``.xls`` workbooks (module or package)."""


def excel_failure(path: Path, exc: BaseException) -> DataError | None:
    """The error for an Excel file that cannot be read for a reason the user can fix: a
    damaged or cut-short workbook (not a zip archive, a member missing or broken), a file
    that is no workbook at all, or an ``.xls`` workbook whose reader is not installed; None
    for anything else."""
    import zipfile
    import zlib
    from xml.etree.ElementTree import ParseError

    if isinstance(exc, ImportError):  # pandas reads .xls with either, if installed
        if exc.name not in XLS_READERS and not any(r in str(exc) for r in XLS_READERS):
            return None
        return DataError(
            f"cannot read {path} as Excel: it is an .xls workbook (Excel 97-2003), and reading "
            "one needs a package that is not installed; install python-calamine (pip install "
            "python-calamine) or xlrd (pip install xlrd), or save the sheet as .xlsx or CSV")
    if isinstance(exc, ValueError) and "format cannot be determined" in str(exc):
        return DataError(f"cannot read {path} as Excel: it is not an Excel workbook (.xlsx or "
                         ".xls); check the file, or save the sheet from Excel again")
    damaged = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ParseError)
    try:
        from openpyxl.utils.exceptions import InvalidFileException

        damaged += (InvalidFileException,)
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        pass
    if not isinstance(exc, damaged) or (isinstance(exc, KeyError)
                                        and "There is no item named" not in str(exc)):
        return None  # a KeyError is the user's only when the archive lacks a member
    detail = " ".join(str(exc).strip("'\"").split())[:120]
    return DataError(f"cannot read {path} as Excel: the file is damaged or incomplete"
                     + (f" ({detail})" if detail else "")
                     + "; copy it again (a copy still being written is cut short), or open it "
                     "in Excel and save it again")
