"""The manual coding queue: the records a model did not code, with its five best suggestions.

``write_manual_queue`` writes a CSV or Excel file a human coder works through: one row per
record, its id and text, the model's input columns as they were read, why it was not
auto-coded, and the top suggestions with their labels and scores, plus an empty ``final_code``
column to fill in. ``mlstat-coding-queue RUN_DIR --input FILE --output FILE`` does the same
from a finished run's saved model.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlstat_coding.hierarchy import Hierarchy
from mlstat_coding.outputs import is_prediction_column
from mlstat_coding.routing import MANUAL, REASON_EMPTY, routing_column
from mlstat_core.artifacts import atomic_write_bytes
from mlstat_core.errors import (
    DataError,
    MlstatError,
    ModelError,
    print_user_error,
    write_failure,
)
from mlstat_core.formats import DEFAULT_CHUNK_SIZE
from mlstat_core.io import formula_cells, formula_warning, home_path

QUEUE_COLUMNS_PER_SUGGESTION = ("code", "label", "score")
QUEUE_SUFFIXES = {".csv": "csv", ".xlsx": "excel"}
"""The endings a queue file may have, and the format each is written in."""
EXCEL_MAX_ROWS = 1_048_575
"""Records an Excel sheet holds below its header row."""
EXCEL_MAX_CELL = 32_767
"""Characters an Excel cell holds."""
QUEUE_PREDICTION_COLUMNS = ("route", "reason", "prediction", "confidence", "margin",
                            "fallback_code")
"""Prediction columns the queue shows when the predictions have them, in this order."""
INPUT_PREFIX = "input_"
"""What an input column's name is prefixed with where its own name is taken."""


@dataclass
class QueueSummary:
    """What ``mlstat-coding-queue`` did."""

    records: int
    auto: int
    rows: int
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_manual_queue(predictions: pd.DataFrame, frame: pd.DataFrame, path: str | Path,
                       labels: Mapping[str, str] | Hierarchy | None = None, *,
                       text_columns: Sequence[str] | None = None,
                       auxiliary: Sequence[str] = (), id_column: str | None = None,
                       all_records: bool = False, top: int = 5,
                       confidence: str = "top") -> int:
    """Write the manual coding queue (``.csv`` or ``.xlsx``, atomically); return its rows.

    ``predictions`` is a coding model's prediction frame for the records of ``frame`` (same
    index); ``labels`` maps codes to their labels (a dict or a :class:`Hierarchy`). Only records
    routed to ``manual`` are written unless ``all_records``; the most uncertain come first by
    the score the model routes on (``confidence``: the model's ``routing_confidence``).
    """
    queue_format(path)
    out = queue_rows(predictions, frame, labels, text_columns=text_columns,
                     auxiliary=auxiliary, id_column=id_column, all_records=all_records, top=top)
    warning = write_queue_file(most_uncertain_first(out, confidence), path)
    if warning:
        warnings.warn(warning, stacklevel=2)
    return len(out)


def queue_rows(predictions: pd.DataFrame, frame: pd.DataFrame,
               labels: Mapping[str, str] | Hierarchy | None = None, *,
               text_columns: Sequence[str] | None = None, auxiliary: Sequence[str] = (),
               id_column: str | None = None, all_records: bool = False,
               top: int = 5) -> pd.DataFrame:
    """The queue's rows for the records of ``frame`` in their order (see
    :func:`write_manual_queue`), so that a large input can be queued chunk by chunk."""
    missing = [c for c in ("prediction", "top_codes", "top_scores") if c not in predictions]
    if missing:
        raise DataError(f"predictions lack column(s) {', '.join(missing)}; they must come from "
                        "a coding.* model")
    if not predictions.index.equals(frame.index):
        raise DataError("predictions and records do not have the same index; pass the frame "
                        "the predictions were made from")
    if isinstance(labels, Hierarchy):
        labels = labels.labels
    if text_columns is None:
        text_columns = [c for c in frame.columns
                        if pd.api.types.is_string_dtype(frame[c].dtype)][:1]
    keep = predictions.index if all_records or "route" not in predictions else \
        predictions.index[predictions["route"] == MANUAL]
    preds = predictions.loc[keep]
    rows = frame.loc[keep]
    out = pd.DataFrame(index=keep)
    out["record"] = rows[id_column] if id_column else keep
    out["text"] = joined_text(rows, list(text_columns))
    for name, column in input_column_names(text_columns, auxiliary, top).items():
        out[name] = rows[column]
    for column in QUEUE_PREDICTION_COLUMNS:
        if column in preds:
            out[column] = preds[column]
            if column == "fallback_code":  # the coder reads the class, not only its code
                out["fallback_label"] = [
                    (labels or {}).get(str(c), "") if isinstance(c, str) and c else ""
                    for c in preds[column]]
    add_suggestions(out, preds, labels or {}, top)
    blank_guesses_without_text(out, top)
    out["final_code"] = ""
    return out


def joined_text(rows: pd.DataFrame, text_columns: list[str]) -> pd.Series | list[str]:
    """The records' text columns joined with a space; a single column named ``text`` as it
    is in the input (it is both the queue's text and the model's input column)."""
    if text_columns == ["text"]:
        return rows["text"]
    texts = rows[text_columns].astype(object).where(rows[text_columns].notna(), "")
    return texts.astype(str).agg(" ".join, axis=1).str.strip() if len(rows) else []


def input_column_names(text_columns: Sequence[str], auxiliary: Sequence[str], top: int = 5
                       ) -> dict[str, str]:
    """Queue name -> input column for the model's text and auxiliary columns, kept as they are
    in the input so that coded records can be added to the training file: each under its own
    name, those the queue uses for its own columns under :func:`prefixed` names (a single
    text column named ``text`` is the queue's ``text`` column itself)."""
    inputs = list(dict.fromkeys([*text_columns, *auxiliary]))
    reserved = queue_own_columns(top) - ({"text"} if list(text_columns) == ["text"] else set())
    renamed = prefixed([c for c in inputs if c in reserved], {*reserved, *inputs})
    return {renamed.get(column, column): column for column in inputs}


def queue_own_columns(top: int) -> set[str]:
    """The names of the queue's own columns (those not copied from the input)."""
    return {"record", "text", "final_code", "fallback_label", *QUEUE_PREDICTION_COLUMNS,
            *suggestion_columns(top)}


def prefixed(clashing: Sequence[str], taken: set[str]) -> dict[str, str]:
    """Each name of ``clashing`` -> ``input_<name>``, with ``input_`` repeated as few times as
    leaves every new name free (not in ``taken``): one depth for all, so that the columns
    renamed in one write stay together (in a third cycle's predictions, ``input_*`` are the
    first cycle's, ``input_input_*`` the second's)."""
    depth = 1
    while any(INPUT_PREFIX * depth + name in taken for name in clashing):
        depth += 1
    return {name: INPUT_PREFIX * depth + name for name in clashing}


def suggestion_columns(top: int) -> list[str]:
    """The queue's columns of the ``top`` suggestions: code, label and score of each."""
    return [f"suggestion_{i + 1}_{part}" for i in range(top)
            for part in QUEUE_COLUMNS_PER_SUGGESTION]


def add_suggestions(out: pd.DataFrame, preds: pd.DataFrame, labels: Mapping[str, str],
                    top: int) -> None:
    """The ``top`` best codes of each record, with their labels and scores."""
    codes = [_as_list(v) for v in preds["top_codes"]]
    scores = [_as_list(v) for v in preds["top_scores"]]
    names = suggestion_columns(top)
    n = len(QUEUE_COLUMNS_PER_SUGGESTION)
    for i in range(top):
        code, label, score = names[n * i:n * (i + 1)]
        out[code] = [c[i] if i < len(c) else "" for c in codes]
        out[label] = [labels.get(str(c[i]), "") if i < len(c) else "" for c in codes]
        out[score] = [round(float(s[i]), 4) if i < len(s) else None for s in scores]


GUESS_SCORES = ("confidence", "margin")
"""The queue's scores of the model's guess (besides the suggestions' scores)."""


def blank_guesses_without_text(out: pd.DataFrame, top: int) -> None:
    """Empty the prediction, its confidence and margin, the suggestions and the fallback
    class of records routed for want of text: the model's guess for no text is the same for
    each and would only mislead the coder (the --predictions file keeps the model's output as
    it is)."""
    empty = without_text(out)
    if not empty.any():
        return
    for column in ["prediction", *GUESS_SCORES, *suggestion_columns(top), "fallback_code",
                   "fallback_label"]:
        if column in out:
            scores = column in GUESS_SCORES or column.endswith("_score")
            out.loc[empty, column] = None if scores else ""


def without_text(queue: pd.DataFrame) -> np.ndarray:
    """Which rows of the queue are records routed for want of text (a boolean array)."""
    if "reason" not in queue:
        return np.zeros(len(queue), dtype=bool)
    return (queue["reason"] == REASON_EMPTY).to_numpy()


def most_uncertain_first(queue: pd.DataFrame, confidence: str = "top") -> pd.DataFrame:
    """The queue sorted by the score records are routed on (``confidence``: ``top``, the top
    probability, or ``margin``, top1 - top2), lowest first, and the records without text
    last, in one group; ties keep the input order."""
    if confidence not in ("top", "margin"):
        raise DataError(f"confidence {confidence!r} is not 'top' or 'margin'; pass the "
                        "model's routing_confidence")
    column = routing_column(confidence, queue.columns)
    scores = pd.to_numeric(queue[column], errors="coerce").to_numpy(dtype=float) \
        if column in queue else np.zeros(len(queue))
    return queue.iloc[np.lexsort((scores, without_text(queue)))]  # lexsort is stable


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return json.loads(value)
    return list(value) if value is not None else []


def queue_format(path: str | Path) -> str:
    """``csv`` or ``excel``: the format the queue file ``path`` is written in, from its
    ending; any other ending (or a URL) is a DataError naming the allowed ones."""
    from mlstat_core.io import is_url

    if is_url(path):
        raise DataError(f"the queue is written to a local file, not {path}; give a path "
                        "ending in .csv or .xlsx")
    suffix = Path(path).suffix.lower()
    if suffix not in QUEUE_SUFFIXES:
        raise DataError(f"cannot write the queue to {path}: a queue file ends in .csv or .xlsx "
                        f"(Excel), not {suffix or 'nothing'!r}; give a name ending in one of "
                        "them")
    return QUEUE_SUFFIXES[suffix]


def write_queue_file(queue: pd.DataFrame, path: str | Path) -> str | None:
    """Write the queue atomically as CSV (UTF-8 with a byte-order mark, which Excel needs to
    read the file as UTF-8) or Excel, by the ending of ``path``; return the
    warning for CSV cells a spreadsheet may take for formulas (None when there is none). A
    write that fails for want of permission or space names ``path``, not its temporary
    file."""
    try:
        if queue_format(path) == "excel":
            atomic_write_bytes(path, excel_bytes(queue, path))
            return None
        # UTF-8 with a byte-order mark: Excel, opening the file, reads Џем and żółty right
        atomic_write_bytes(path, queue.to_csv(index=False).encode("utf-8-sig"))
    except OSError as exc:
        failure = write_failure(path, exc)
        if failure is None:
            raise
        raise failure from None
    count, first = formula_cells(queue)
    return formula_warning(count, first, path, "the queue to .xlsx") if count else None


def excel_bytes(queue: pd.DataFrame, path: str | Path) -> bytes:
    """The queue as an ``.xlsx`` workbook: every text cell holds text (a value starting with
    ``=`` is not turned into a formula)."""
    if len(queue) > EXCEL_MAX_ROWS:
        raise DataError(f"the queue has {len(queue):,} rows, more than an Excel sheet holds "
                        f"({EXCEL_MAX_ROWS:,}); write it to a .csv file instead of {path}")
    check_excel_cells(queue, path)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        queue.to_excel(writer, index=False, sheet_name="queue")
        sheet = writer.sheets["queue"]
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type in ("f", "e"):  # text like a formula or #N/A stays text
                    cell.data_type = "s"
        if "final_code" in queue.columns:  # what a coder types stays text: 0110, not 110
            column = queue.columns.get_loc("final_code") + 1
            for (cell,) in sheet.iter_rows(min_row=2, max_row=len(queue) + 1, min_col=column,
                                           max_col=column):
                cell.number_format = "@"
    return buffer.getvalue()


def check_excel_cells(queue: pd.DataFrame, path: str | Path) -> None:
    """Refuse text an Excel cell cannot hold as it is (a control character, or more than
    32,767 characters, which Excel would cut), naming the first record and column."""
    for column in queue.columns:
        if pd.api.types.is_numeric_dtype(queue[column]):
            continue
        for problem, bad in excel_cell_problems(queue[column]).items():
            if bad.any():
                record = queue.loc[bad, "record"].iloc[0] if "record" in queue else ""
                raise DataError(f"column {column!r} of record {record!r} {problem}; write the "
                                f"queue to a .csv file instead of {path}")


def excel_cell_problems(values: pd.Series) -> dict[str, pd.Series]:
    """Per problem an Excel cell has with text, which of ``values`` have it (a control
    character; more than 32,767 characters as Excel counts them, in UTF-16 code units)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    try:
        text = values.str  # other values than text give missing, read as no problem
    except AttributeError:  # no text in the column (dates, booleans)
        return {}
    try:
        units = text.encode("utf-16-le").str.len() // 2
    except TypeError:  # bytes: not text a coder reads
        return {}
    return {
        "holds a control character that Excel files cannot hold":
            text.contains(ILLEGAL_CHARACTERS_RE.pattern, regex=True, na=False).astype(bool),
        f"holds more than the {EXCEL_MAX_CELL:,} characters an Excel cell holds (it would be "
        "cut short)": (units > EXCEL_MAX_CELL).fillna(False).astype(bool),
    }


def load_coding_model(run_dir: str | Path) -> Any:
    """The coding model of a finished run, rebuilt as ``mlstat predict`` does (manifest and
    hashes checked, class found through the registry, preprocessing steps included)."""
    return _coding_run(run_dir)[1]


def _coding_run(run_dir: str | Path) -> tuple[Any, Any, str]:
    """The run folder, its coding model and the model's component name."""
    from mlstat_core.predict import load_model

    folder, model, _factory, _steps = load_model(run_dir)
    component = (folder.manifest.get("model") or {}).get("component", "")
    if not component.startswith("coding."):
        raise ModelError(f"run {run_dir} was made with {component!r}, not a coding.* model; "
                         "the manual queue needs one")
    return folder, model, component


def check_queue_outputs(input_path: str | Path, output: str | Path,
                        predictions: str | Path | None = None) -> None:
    """Refuse, before anything is scored, outputs that would destroy evidence, as ``mlstat
    predict`` does (the input file itself, or a file in a run folder), one file asked for as
    both outputs, and file endings the queue (.csv, .xlsx) or the predictions (.csv,
    .parquet) cannot be written as."""
    from mlstat_core.predict import check_output

    check_output(input_path, output)
    try:
        queue_format(output)
    except DataError as exc:
        raise DataError(f"--output: {exc}") from None
    if predictions is None:
        return
    try:
        check_output(input_path, predictions)
    except DataError as exc:
        raise DataError(str(exc).replace("--output", "--predictions", 1)) from None
    check_predictions_format(predictions)
    if home_path(predictions).resolve() == home_path(output).resolve():
        raise DataError(f"--predictions {predictions} is also the --output file; the queue "
                        "would replace the predictions; give two different files")


def check_predictions_format(path: str | Path) -> str:
    """``csv`` or ``parquet``, from the ending of the --predictions file, as ``mlstat
    predict`` writes them; Excel, URLs and unknown endings are a DataError."""
    from mlstat_core.io import is_url, table_format

    if is_url(path):
        raise DataError(f"--predictions: the predictions are written to a local file, not "
                        f"{path}; give a path ending in .csv or .parquet")
    try:
        fmt = table_format(Path(path), None, "", ".csv or .parquet")
    except DataError as exc:
        raise DataError(f"--predictions: {exc}") from None
    if fmt == "excel":
        raise DataError(f"--predictions: cannot write predictions to Excel ({path}); use .csv "
                        "or .parquet")
    return fmt


def main(argv: Sequence[str] | None = None) -> int:
    """``mlstat-coding-queue RUN_DIR --input FILE --output FILE``."""
    from mlstat_core.errors import escape_unencodable_output

    escape_unencodable_output()
    args = parser().parse_args(argv)
    try:
        from mlstat_core.engine import sigterm_as_interrupt
        from mlstat_core.errors import one_line_warnings
        from mlstat_core.predict import check_chunk_size, check_decimal

        check_chunk_size(args.chunk_size, cli=True)
        check_decimal(args.decimal, None, cli=True)

        check_queue_outputs(args.input, args.output, args.predictions)
        with one_line_warnings():  # a library's or the model's, as mlstat's commands show them
            folder, model, component = _coding_run(args.run_dir)
            with sigterm_as_interrupt():
                summary = score_to_queue(model, args, folder, component)
    except (MlstatError, OSError) as exc:
        return print_user_error(exc)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the partial files are gone
        print("Interrupted: no queue was written", file=sys.stderr)
        return int(getattr(exc, "exit_code", 130))  # 143 for SIGTERM, as mlstat's commands
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for note in summary.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{summary.records} records: {summary.auto} coded automatically, "
          f"{summary.records - summary.auto} to manual coding; queue of {summary.rows} rows "
          f"written to {args.output}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line of ``mlstat-coding-queue``."""
    parser = argparse.ArgumentParser(
        prog="mlstat-coding-queue",
        description="Score new records with a finished coding run's model and write the manual "
                    "coding queue (records below the threshold, with top-5 suggestions).")
    parser.add_argument("run_dir", help="folder of a finished mlstat run with a coding.* model")
    parser.add_argument("--input", required=True, help="CSV, Parquet or Excel file of records")
    parser.add_argument("--output", required=True,
                        help="file to write the queue to: .csv, or .xlsx for Excel (written "
                             "atomically)")
    parser.add_argument("--encoding", default=None,
                        help="text encoding of a CSV input (default: the one the model's "
                             "training data had, else UTF-8), as in mlstat predict")
    parser.add_argument("--id-column", "--id", dest="id_column", default=None,
                        help="input column identifying records (default: the model's id "
                             "column if present, else a record_id column, else the row "
                             "number), as in mlstat predict; --id is the same option")
    parser.add_argument("--all", action="store_true",
                        help="write every record, not only those routed to manual coding")
    parser.add_argument("--predictions", default=None,
                        help="also write all predictions (auto-coded included) to this .csv "
                             "or .parquet file")
    parser.add_argument("--sep", default=None,
                        help="field separator of a CSV input (default: the one the model's "
                             "training data had; '\\t' or tab for a tab)")
    parser.add_argument("--decimal", default=None,
                        help="decimal mark of numbers in a CSV or Excel input's text, e.g. ',' "
                             "for 0,5 (default: the one the model's training data had, else "
                             "'.'), as in mlstat predict")
    parser.add_argument("--sheet", default=None,
                        help="sheet of an Excel input: its name, or a number counting from 0 "
                             "(default: the sheet the model's training data came from, else "
                             "the first)")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE,
                        help="records scored at a time (memory is bounded by it; the queue "
                             "itself, the manual records, is kept until it is sorted)")
    return parser


def score_to_queue(model: Any, args: argparse.Namespace, folder: Any, component: str
                   ) -> QueueSummary:
    """Score the input chunk by chunk, write the queue (and the predictions when asked) and
    say what was done. The input is read and scored as ``mlstat predict`` does: the same id
    column (:func:`~mlstat_core.predict.id_column_of`), ids and the columns the model learned
    as text read as text, the trained loader's separator, the same checks of each chunk."""
    from mlstat_core.io import TableWriter, iter_table, parquet_safe
    from mlstat_core.predict import (
        ChunkChecks,
        check_decimal,
        csv_separator,
        input_encoding,
        input_separator,
        input_sheet,
        input_values,
        predict_checked,
        read_dtypes,
        scoring_warnings,
    )

    dtype = read_dtypes(model, args.id_column)
    sep = input_separator(args.input, args.sep, folder)
    decimal = getattr(args, "decimal", None)
    check_decimal(decimal, csv_separator(args.input, sep), cli=True)
    writer = TableWriter(args.predictions) if args.predictions else None
    parts: list[pd.DataFrame] = []
    checks = ChunkChecks(folder, model, args.id_column)
    summary = QueueSummary(0, 0, 0)
    clashes: dict[str, str] = {}
    try:
        encoding = input_encoding(args.encoding, folder)
        for frame in iter_table(args.input, args.chunk_size, encoding=encoding, sep=sep,
                                dtype=dtype, cli=True, **input_values(decimal, folder),
                                sheet=input_sheet(args.sheet, folder)):
            predictions = predict_checked(model, frame, f"input {args.input}", component)
            id_column = checks.update(frame)
            if writer is not None:
                both, renamed = inputs_and_predictions(frame, predictions)
                writer.write(parquet_safe(both) if writer.format == "parquet" else both)
                clashes.update(renamed)
            parts.append(queue_rows(predictions, frame, model.hierarchy,
                                    text_columns=model.roles.text,
                                    auxiliary=model.roles.auxiliary, id_column=id_column,
                                    all_records=args.all))
            summary.records += len(frame)
            summary.auto += int((predictions["route"] != MANUAL).sum())
        if not summary.records:
            raise DataError(f"input {args.input} has no records")
        queue = most_uncertain_first(pd.concat(parts), model.routing_confidence)
        summary.warnings += [w for w in [write_queue_file(queue, args.output)] if w]
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    summary.rows = len(queue)
    summary.warnings += scoring_warnings(checks.unseen, checks.drift_result())
    summary.warnings += checks.ids.warnings(column="record column")
    summary.notes += [queue_numbering_note(model)] if checks.numbered else []
    summary.notes += [renamed_inputs_note(clashes, args.predictions)] if clashes else []
    return summary


def queue_numbering_note(model: Any) -> str:
    """``mlstat predict``'s note for records numbered for want of ids, naming the queue's
    ``record`` column instead of the predictions' ``record_id``."""
    from mlstat_core.predict import numbering_note

    return numbering_note(model, column="record")


def inputs_and_predictions(frame: pd.DataFrame, predictions: pd.DataFrame
                           ) -> tuple[pd.DataFrame, dict[str, str]]:
    """The input's columns followed by the predictions' (same index), and the input columns
    renamed because they have the name of a prediction column, written by this model or
    another (a file of last cycle's predictions scored again): all of them ``input_<name>``
    (``input_input_<name>``... when one of those
    is taken; see :func:`prefixed`), so that no column is written twice, the new predictions
    are the ones read back and last cycle's columns stay together. The names depend on the
    columns only, so each chunk of a file gets the same."""
    taken = {str(c) for c in [*frame.columns, *predictions.columns]}
    old = [c for c in frame.columns  # also last cycle's columns this model does not write
           if c in predictions.columns or is_prediction_column(str(c))]
    renamed = prefixed(old, taken)
    inputs = frame.rename(columns=renamed) if renamed else frame
    return pd.concat([inputs, predictions], axis=1), renamed


def renamed_inputs_note(renamed: Mapping[str, str], path: str | Path) -> str:
    """The note naming the input columns written under another name in the predictions."""
    pairs = [f"{old!r} as {new!r}" for old, new in renamed.items()]
    shown = ", ".join(pairs[:3]) + (f" and {len(pairs) - 3} more" if len(pairs) > 3 else "")
    return (f"{len(pairs)} input column(s) have the name of a prediction column; {path} "
            f"holds them renamed ({shown}) and the new predictions under their own names")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
