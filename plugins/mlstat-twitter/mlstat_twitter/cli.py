"""``mlstat-twitter-index``: score new tweets with a saved run's model and write the index.

    mlstat-twitter-index RUN_DIR --input tweets.jsonl --period week --output index.csv
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from mlstat_core.errors import MlstatError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlstat-twitter-index", description=__doc__)
    parser.add_argument("run_dir", help="run folder of a twitter.sentiment or twitter.vader run")
    parser.add_argument("--input", required=True, help="X API v2 JSON / JSONL or CSV export")
    parser.add_argument("--format", default="auto", choices=["auto", "json", "jsonl", "csv"])
    parser.add_argument("--period", default=None,
                        choices=["day", "week", "month", "quarter", "year"])
    parser.add_argument("--min-count", type=int, default=None)
    parser.add_argument("--no-adjust", action="store_true", help="raw classify-and-count")
    parser.add_argument("--keep-retweets", action="store_true")
    parser.add_argument("--output", default="sentiment_index.csv", help="index CSV to write")
    args = parser.parse_args(argv)
    try:
        from mlstat_core.predict import load_model
        from mlstat_twitter.models import INDEX_FILE, IndexingModel

        _folder, model, _factory, _steps = load_model(args.run_dir)
        inner = getattr(model, "inner", model)
        if not isinstance(inner, IndexingModel):
            raise MlstatError(f"the model of {args.run_dir} is not a twitter model "
                              "(twitter.sentiment or twitter.vader); retrain with one of them")
        settings = inner.params.index.model_copy(update={
            k: v for k, v in {"period": args.period, "min_count": args.min_count,
                              "adjust": False if args.no_adjust else None}.items()
            if v is not None})
        out = Path(args.output).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            files = inner.index_stream(
                Path(args.input), out.parent,
                {"format": args.format, "retweets": "keep" if args.keep_retweets else "drop"},
                settings)
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
        written = out.parent / INDEX_FILE
        if written != out:
            written.replace(out)
            files[0] = out
        print("\n".join(str(f) for f in files))
        return 0
    except MlstatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
