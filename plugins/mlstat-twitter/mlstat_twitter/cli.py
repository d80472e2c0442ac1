"""``mlstat-twitter-index``: score new tweets with a saved run's model and write the index.

    mlstat-twitter-index RUN_DIR --input tweets.jsonl --period week --output index.csv
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlstat_core.errors import (
    ConfigError,
    DataError,
    MlstatError,
    escape_unencodable_output,
    print_user_error,
)

if TYPE_CHECKING:
    from pydantic import BaseModel


def index_settings(saved: BaseModel, options: dict[str, Any]) -> BaseModel:
    """The run's index settings with the options given on the command line, validated."""
    from pydantic import ValidationError

    from mlstat_core.registry import issues_from_validation

    given = {k: v for k, v in options.items() if v is not None}
    try:
        return type(saved).model_validate({**saved.model_dump(), **given})
    except ValidationError as exc:
        issues = issues_from_validation(exc, "index", file="mlstat-twitter-index")
        for issue in issues:  # name the option the user typed: --min-count, not index.min_count
            name = issue.field.removeprefix("index.")
            if name in given:
                issue.field = f"--{name.replace('_', '-')}"
        raise ConfigError("invalid index option", issues) from None


def index_files(output: str | Path) -> list[Path]:
    """The files an index written to ``output`` (``week.csv``) consists of: the index, what
    it rests on (``week.json``), the tweets' predictions (``week_predictions.csv``) and, with
    ``--confusion-by language``, the index of each language (``week_by_language.csv``)."""
    out = Path(output)
    return [out, out.with_name(f"{out.stem}.json"), out.with_name(f"{out.stem}_predictions.csv"),
            out.with_name(f"{out.stem}_by_language.csv")]


STREAM_COLUMNS = {"text": "stream_text", "created_at": "stream_created_at", "id": "stream_id",
                  "author": "stream_author"}
"""The columns of a CSV stream, as the policy names them and as [loader] does."""


def run_stream_policy(run_dir: str | Path) -> dict[str, str]:
    """How the run's loader read and treated its stream (``stream_retweets``,
    ``stream_duplicates``, ``missing`` and the CSV stream's columns ``stream_text``,
    ``stream_created_at``, ``stream_id``, ``stream_author`` in [loader] of its config.toml) as
    ``retweets``, ``duplicates``, ``missing``, ``text``, ``created_at``, ``id``, ``author``;
    what the run does not say is left out (the defaults apply)."""
    from mlstat_core.predict import trained_loader

    loader = trained_loader(run_dir)
    keys = {"retweets": "stream_retweets", "duplicates": "stream_duplicates",
            "missing": "missing"}
    policy = {mine: loader[theirs] for mine, theirs in keys.items()
              if loader.get(theirs) in ("keep", "drop", "error")}
    policy.update({mine: loader[theirs] for mine, theirs in STREAM_COLUMNS.items()
                   if isinstance(loader.get(theirs), str) and loader[theirs]})
    return policy


def stream_policy(run_dir: str | Path, args: argparse.Namespace) -> dict[str, str]:
    """The run's stream policy with the command line's ``--retweets``, ``--keep-retweets``,
    ``--duplicates`` and column options over it."""
    policy = run_stream_policy(run_dir)
    retweets = "keep" if args.keep_retweets else args.retweets
    given = {"retweets": retweets, "duplicates": args.duplicates, "text": args.text_column,
             "created_at": args.time_column, "id": args.id_column,
             "author": args.author_column}
    return {**policy, **{k: v for k, v in given.items() if v is not None}}


def check_input(input_path: str | Path, option: str = "--input") -> None:
    """Refuse a tweet file (``--input``) that is not a file, naming the folder it was looked
    for in."""
    path = Path(input_path)
    if not path.is_file():
        where = "" if path.is_absolute() else f" (relative to the current folder {Path.cwd()})"
        what = "is a folder" if path.is_dir() else "does not exist"
        raise DataError(f"{option} {input_path}: the tweet file {what}{where}; give the path of "
                        "an X API v2 JSON / JSONL or CSV export")


def sample_policy(args: argparse.Namespace) -> dict[str, str]:
    """``--confusion-sample`` and ``--label-column`` as the model's stream policy reads them."""
    if not args.confusion_sample:
        return {}
    return {"confusion_sample": str(Path(args.confusion_sample).resolve()),
            "confusion_label": args.label_column}


def check_encoding(encoding: str) -> None:
    """Refuse an ``--encoding`` that Python does not know, before the model is loaded."""
    from mlstat_core.components import known_encoding

    try:
        known_encoding(encoding)
    except ValueError as exc:
        raise MlstatError(f"--encoding {encoding}: {exc}") from None


def check_index_output(input_path: str | Path, output: str | Path,
                       sample: str | Path | None = None) -> None:
    """Refuse an output that is not a CSV file, or whose files would replace the tweet file
    read, the labelled ``sample`` (``--confusion-sample``) or a file of a run folder (as
    ``mlstat predict`` refuses for its output)."""
    from mlstat_core.predict import check_output

    if Path(output).suffix.lower() != ".csv":
        raise MlstatError(f"--output {output}: the index is written as CSV; give a "
                          "file name ending in .csv")
    main_file, *companions = index_files(output)
    if sample:
        for written in (main_file, *companions):
            if written.exists() and Path(sample).exists() and written.samefile(sample):
                raise DataError(f"--output {output} would replace the labelled sample "
                                f"{sample} (--confusion-sample) with {written.name}; give "
                                "another output file")
    check_output(input_path, main_file)
    for companion in companions:
        try:
            check_output(input_path, companion)
        except DataError as exc:
            raise DataError(f"{exc} (--output {output} also writes {companions[0].name}, "
                            f"{companions[1].name} and, with --confusion-by language, "
                            f"{companions[2].name} beside it)") from None


def indexing_model() -> type:
    """The twitter models' base class; a MlstatError naming what to install where a
    requirement of mlstat-twitter is missing (mlstat-coding uninstalled: a traceback)."""
    try:
        from mlstat_twitter.models import IndexingModel
    except ModuleNotFoundError as exc:
        from mlstat_core.registry import install_hint

        top = (exc.name or "").split(".")[0]
        if not top or top == "mlstat_twitter":
            raise
        raise MlstatError(f"mlstat-twitter needs the module {top!r}, which is not "
                          f"installed: {install_hint('mlstat-twitter', top)}") from None
    return IndexingModel


def main(argv: list[str] | None = None) -> int:
    escape_unencodable_output()
    parser = argparse.ArgumentParser(prog="mlstat-twitter-index", description=__doc__)
    parser.add_argument("run_dir", help="run folder of a twitter.sentiment or twitter.vader run")
    parser.add_argument("--input", required=True, help="X API v2 JSON / JSONL or CSV export")
    parser.add_argument("--format", default="auto", choices=["auto", "json", "jsonl", "csv"])
    parser.add_argument("--period", default=None,
                        choices=["day", "week", "month", "quarter", "year"])
    parser.add_argument("--min-count", type=int, default=None)
    parser.add_argument("--timezone", default=None,
                        help="IANA time zone the periods are counted in, e.g. Europe/Brussels "
                             "(default: the run's [model.index] timezone, else UTC)")
    parser.add_argument("--no-adjust", action="store_true", help="raw classify-and-count")
    parser.add_argument("--retweets", default=None, choices=["keep", "drop"],
                        help="retweets (default: the run's stream_retweets, else drop)")
    parser.add_argument("--keep-retweets", action="store_true", help="as --retweets keep")
    parser.add_argument("--duplicates", default=None, choices=["keep", "drop"],
                        help="exact duplicates (default: the run's stream_duplicates, else "
                             "drop)")
    parser.add_argument("--text-column", default=None,
                        help="CSV: column of the tweet text (default: the run's stream_text, "
                             "else text)")
    parser.add_argument("--time-column", default=None,
                        help="CSV: column of the timestamp (default: the run's "
                             "stream_created_at, else created_at)")
    parser.add_argument("--id-column", default=None,
                        help="CSV: column of the tweet id (default: the run's stream_id, "
                             "else id)")
    parser.add_argument("--author-column", default=None,
                        help="CSV: column of the tweet's author (default: the run's "
                             "stream_author, else the first of author, username, "
                             "screen_name, user, author_id, ...)")
    parser.add_argument("--encoding", default="utf-8",
                        help="text encoding of the input (for example cp1252; a UTF-8 "
                             "byte-order mark is ignored)")
    parser.add_argument("--confusion-sample", default=None,
                        help="labelled tweets of the stream (read like --input, with a label "
                             "column): the confusion matrix of the index is estimated on them")
    parser.add_argument("--confusion-by", default=None, choices=["pooled", "language"],
                        help="one confusion matrix for all tweets, or each language's own "
                             "(default: the run's [model.index] confusion_by, else pooled)")
    parser.add_argument("--label-column", default="label",
                        help="column of the label in --confusion-sample")
    parser.add_argument("--output", default="sentiment_index.csv", help="index CSV to write")
    args = parser.parse_args(argv)
    try:
        from mlstat_core.engine import sigterm_as_interrupt
        from mlstat_core.predict import load_model
        from mlstat_twitter.textfiles import CLI_OPTION

        IndexingModel = indexing_model()

        check_input(args.input)
        if args.confusion_sample:
            check_input(args.confusion_sample, "--confusion-sample")
        check_encoding(args.encoding)
        check_index_output(args.input, args.output, args.confusion_sample)
        folder, model, _factory, _steps = load_model(args.run_dir)
        inner = getattr(model, "inner", model)
        if not isinstance(inner, IndexingModel):
            raise MlstatError(f"the model of {args.run_dir} is not a twitter model "
                              "(twitter.sentiment or twitter.vader); retrain with one of them")
        settings = index_settings(inner.params.index, {
            "period": args.period, "min_count": args.min_count, "timezone": args.timezone,
            "adjust": False if args.no_adjust else None, "confusion_by": args.confusion_by})
        out = Path(args.output).resolve()  # its folder made as the index is written
        with warnings.catch_warnings(record=True) as caught, sigterm_as_interrupt():
            warnings.simplefilter("always")
            files = inner.index_stream(
                Path(args.input), out.parent,
                {"format": args.format, **stream_policy(folder.path, args),
                 "encoding": args.encoding,
                 "encoding_option": CLI_OPTION, **sample_policy(args)},
                settings, name=out.name)
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
        print("\n".join(str(f) for f in files))
        return 0
    except (MlstatError, OSError) as exc:
        return print_user_error(exc)
    except KeyboardInterrupt as exc:  # Ctrl-C (SIGTERM too, inside a run's scoring)
        print("Interrupted: no index was written (the index file is written last)",
              file=sys.stderr)
        return int(getattr(exc, "exit_code", 130))


if __name__ == "__main__":
    raise SystemExit(main())
