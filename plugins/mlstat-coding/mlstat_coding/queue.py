"""The manual coding queue: the records a model did not code, with its five best suggestions.

``write_manual_queue`` writes a CSV a human coder works through: one row per record, its id and
text, why it was not auto-coded, and the top suggestions with their labels and scores, plus an
empty ``final_code`` column to fill in. ``mlstat-coding-queue RUN_DIR --input FILE --output
FILE`` does the same from a finished run's saved model.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mlstat_coding.hierarchy import Hierarchy
from mlstat_coding.routing import MANUAL
from mlstat_core.artifacts import atomic_write_text
from mlstat_core.errors import DataError, MlstatError, ModelError, print_user_error

QUEUE_COLUMNS_PER_SUGGESTION = ("code", "label", "score")


def write_manual_queue(predictions: pd.DataFrame, frame: pd.DataFrame, path: str | Path,
                       labels: Mapping[str, str] | Hierarchy | None = None, *,
                       text_columns: Sequence[str] | None = None, id_column: str | None = None,
                       all_records: bool = False, top: int = 5) -> int:
    """Write the manual coding queue as CSV (atomically) and return its number of rows.

    ``predictions`` is a coding model's prediction frame for the records of ``frame`` (same
    index); ``labels`` maps codes to their labels (a dict or a :class:`Hierarchy`). Only records
    routed to ``manual`` are written unless ``all_records``; the most uncertain come first.
    """
    out = queue_rows(predictions, frame, labels, text_columns=text_columns,
                     id_column=id_column, all_records=all_records, top=top)
    atomic_write_text(path, most_uncertain_first(out).to_csv(index=False))
    return len(out)


def queue_rows(predictions: pd.DataFrame, frame: pd.DataFrame,
               labels: Mapping[str, str] | Hierarchy | None = None, *,
               text_columns: Sequence[str] | None = None, id_column: str | None = None,
               all_records: bool = False, top: int = 5) -> pd.DataFrame:
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
    labels = labels or {}
    if text_columns is None:
        text_columns = [c for c in frame.columns if frame[c].dtype == object][:1]
    keep = predictions.index if all_records or "route" not in predictions else \
        predictions.index[predictions["route"] == MANUAL]
    preds = predictions.loc[keep]
    rows = frame.loc[keep]
    out = pd.DataFrame(index=keep)
    out["record"] = rows[id_column] if id_column else keep
    texts = rows[list(text_columns)].astype(object).where(rows[list(text_columns)].notna(), "")
    out["text"] = texts.astype(str).agg(" ".join, axis=1).str.strip() if len(rows) else []
    for column in ("route", "reason", "prediction", "confidence", "fallback_code"):
        if column in preds:
            out[column] = preds[column]
    codes = [_as_list(v) for v in preds["top_codes"]]
    scores = [_as_list(v) for v in preds["top_scores"]]
    for i in range(top):
        out[f"suggestion_{i + 1}_code"] = [c[i] if i < len(c) else "" for c in codes]
        out[f"suggestion_{i + 1}_label"] = [labels.get(str(c[i]), "") if i < len(c) else ""
                                            for c in codes]
        out[f"suggestion_{i + 1}_score"] = [round(float(s[i]), 4) if i < len(s) else None
                                            for s in scores]
    out["final_code"] = ""
    return out


def most_uncertain_first(queue: pd.DataFrame) -> pd.DataFrame:
    """The queue sorted by confidence, lowest first (ties keep the input order)."""
    if "confidence" not in queue:
        return queue
    return queue.sort_values("confidence", kind="stable")


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return json.loads(value)
    return list(value) if value is not None else []


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
    """Refuse outputs that would destroy evidence, as ``mlstat predict`` does: the input file
    itself, or a file in a run folder; and one file asked for as both outputs."""
    from mlstat_core.predict import check_output

    check_output(input_path, output)
    if predictions is None:
        return
    try:
        check_output(input_path, predictions)
    except DataError as exc:
        raise DataError(str(exc).replace("--output", "--predictions", 1)) from None
    if Path(predictions).expanduser().resolve() == Path(output).expanduser().resolve():
        raise DataError(f"--predictions {predictions} is also the --output file; the queue "
                        "would replace the predictions; give two different files")


def main(argv: Sequence[str] | None = None) -> int:
    """``mlstat-coding-queue RUN_DIR --input FILE --output FILE``."""
    parser = argparse.ArgumentParser(
        prog="mlstat-coding-queue",
        description="Score new records with a finished coding run's model and write the manual "
                    "coding queue (records below the threshold, with top-5 suggestions).")
    parser.add_argument("run_dir", help="folder of a finished mlstat run with a coding.* model")
    parser.add_argument("--input", required=True, help="CSV, Parquet or Excel file of records")
    parser.add_argument("--output", required=True, help="CSV file to write the queue to")
    parser.add_argument("--encoding", default="utf-8", help="text encoding of a CSV input")
    parser.add_argument("--id", dest="id_column", default=None, help="record id column")
    parser.add_argument("--all", action="store_true",
                        help="write every record, not only those routed to manual coding")
    parser.add_argument("--predictions", default=None,
                        help="also write all predictions (auto-coded included) to this CSV")
    parser.add_argument("--sep", default=None,
                        help="field separator of a CSV input (default: the one the model's "
                             "training data had; '\\t' or tab for a tab)")
    parser.add_argument("--chunk-size", type=int, default=50_000,
                        help="records scored at a time (memory is bounded by it; the queue "
                             "itself, the manual records, is kept until it is sorted)")
    args = parser.parse_args(argv)
    try:
        if args.chunk_size < 1:
            raise DataError("--chunk-size must be at least 1")
        from mlstat_core.engine import sigterm_as_interrupt

        check_queue_outputs(args.input, args.output, args.predictions)
        folder, model, component = _coding_run(args.run_dir)
        with sigterm_as_interrupt():
            counts = score_to_queue(model, args, folder, component)
    except (MlstatError, OSError) as exc:
        return print_user_error(exc)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the partial files are gone
        print("Interrupted: no queue was written", file=sys.stderr)
        return 130
    records, auto, n, warning = counts
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{records} records: {auto} coded automatically, {records - auto} to manual "
          f"coding; queue of {n} rows written to {args.output}")
    return 0


def score_to_queue(model: Any, args: argparse.Namespace, folder: Any, component: str
                   ) -> tuple[int, int, int, str | None]:
    """Score the input chunk by chunk, write the queue (and the predictions when asked) and
    return (records, coded automatically, queue rows, the duplicate-id warning or None). The
    input is read and scored as ``mlstat predict`` does: ids and the columns the model learned
    as text read as text, the trained loader's separator, the same checks of each chunk."""
    from mlstat_core.io import TableWriter, iter_table
    from mlstat_core.predict import DuplicateIds, input_separator, predict_checked, read_dtypes

    dtype = read_dtypes(model, args.id_column)
    sep = input_separator(args.input, args.sep, folder)
    writer = TableWriter(args.predictions, "csv") if args.predictions else None
    parts: list[pd.DataFrame] = []
    ids = DuplicateIds()
    records = auto = 0
    try:
        for frame in iter_table(args.input, args.chunk_size, encoding=args.encoding, sep=sep,
                                dtype=dtype, cli=True):
            predictions = predict_checked(model, frame, f"input {args.input}", component)
            if args.id_column and args.id_column not in frame:
                raise DataError(f"{args.input} has no id column {args.id_column!r}")
            if args.id_column:
                ids.update(frame[args.id_column], args.id_column)
            if writer is not None:
                writer.write(pd.concat([frame, predictions], axis=1))
            parts.append(queue_rows(predictions, frame, model.hierarchy,
                                    text_columns=model.roles.text, id_column=args.id_column,
                                    all_records=args.all))
            records += len(frame)
            auto += int((predictions["route"] != MANUAL).sum())
        if not records:
            raise DataError(f"input {args.input} has no records")
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    queue = most_uncertain_first(pd.concat(parts))
    atomic_write_text(args.output, queue.to_csv(index=False))
    return records, auto, len(queue), ids.warning()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
