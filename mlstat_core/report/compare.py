"""Put several runs' quality figures side by side (``mlstat compare``)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from mlstat_core.components import DIMENSIONS
from mlstat_core.errors import DataError, listed
from mlstat_core.quality.stats import CONFUSION_METRICS
from mlstat_core.report.build import DEFAULT_INTERVAL_LEVEL, open_run
from mlstat_core.report.fingerprints import (
    artefact_facts,
    fact_cell,
    reproduced,
    software_facts,
)
from mlstat_core.report.html import (
    DIMENSION_TITLES,
    direction,
    fmt_level,
    fmt_number,
    magnitude,
    page,
    scrolling,
    warnings_html,
)
from mlstat_core.report.paired import (
    BOOTSTRAP,
    MCNEMAR,
    PAIRED_INDICATOR,
    TOLERANCE,
    Pair,
    labelled_predictions,
    other_records,
    paired_test,
)

FACTS = ("name", "task", "model", "status", "seed", "started_at", "warnings")


def _scalar(value: Any) -> int | float | None:
    """A figure's value when it is one finite number (a count stays an integer)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def shown(row: dict[str, Any], k: int) -> str:
    """Run ``k``'s value of a row as the comparison shows it (noise judged on the row)."""
    return fmt_number(row["values"][k], magnitude(row["values"]))


def best_run(row: dict[str, Any]) -> int | None:
    """The run whose value is better than every other run's as shown: values that read alike
    (220.0 and 220.0 from 219.96 and 220.04) are a tie, and a tie for the best names none."""
    top = top_runs(row)
    return top[0] if len(top) == 1 else None


def tied_for_best(row: dict[str, Any]) -> list[int]:
    """The runs that read alike at the best value where more than one does; else empty."""
    top = top_runs(row)
    return top if len(top) > 1 else []


def top_runs(row: dict[str, Any]) -> list[int]:
    """The runs whose value, as shown, is the best one, where the figure says which way is
    better and two or more runs have it; else empty."""
    if row["better"] not in ("higher", "lower"):
        return []
    read = {k: float(shown(row, k).replace(",", ""))
            for k, v in enumerate(row["values"]) if v is not None}
    if len(read) < 2:
        return []
    top = (max if row["better"] == "higher" else min)(read.values())
    return [k for k, v in read.items() if v == top]


PER_RUN = ("values", "intervals", "interval_levels", "indicators")
"""A figure's row holds one of each per run (None where the run lacks the figure)."""


def _interval(interval: Any) -> list[float] | None:
    """An interval of two finite numbers, low first, or None."""
    if not isinstance(interval, list | tuple) or len(interval) != 2:
        return None
    ends = [_scalar(v) for v in interval]
    if ends[0] is None or ends[1] is None:
        return None
    return [float(min(ends)), float(max(ends))]


class Judge:
    """Says, figure by figure, whether the run that reads best is better than every other
    run beyond chance: record by record where both runs' predictions of the same test
    records give back their figures (:mod:`mlstat_core.report.paired`), else by their
    intervals; without either, the difference is not judged and no run is called best."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.runs = runs
        self.labels = [r["label"] for r in runs]
        self._predictions: dict[int, Any] = {}
        self._pairs: dict[tuple[int, int], Pair | str] = {}
        self._unpaired: dict[str, str] = {}

    def row(self, row: dict[str, Any], ranked: bool) -> None:
        """Set the row's ``leader`` (the run that reads best, values as shown), ``best``
        (the leader, when distinguishable from every other run), ``comparisons`` (the
        leader against each other run) and ``verdict`` (those in words)."""
        row.update(leader=None, best=None, comparisons=[], verdict=None)
        leader = best_run(row) if ranked else None
        if leader is None:
            tied = tied_for_best(row) if ranked else []
            if tied and len(tied) < sum(v is not None for v in row["values"]):  # not all alike
                row["verdict"] = (f"{' and '.join(self.labels[k] for k in tied)} read alike, "
                                  "at the best value: no run is named best")
            return
        row["leader"] = leader
        row["comparisons"] = [self._compare(row, leader, k)
                              for k, v in enumerate(row["values"])
                              if k != leader and v is not None]
        if all(c["distinguishable"] for c in row["comparisons"]):
            row["best"] = leader
        row["verdict"] = self._verdict(row)

    def _compare(self, row: dict[str, Any], leader: int, other: int) -> dict[str, Any]:
        """The leader against one other run: by a paired test where it can be made, else by
        the two intervals, else not at all (``distinguishable`` None)."""
        levels = [row["interval_levels"][leader], row["interval_levels"][other]]
        level = next((v for v in levels if v), DEFAULT_INTERVAL_LEVEL)
        pair = self._pair(row, leader, other)
        if pair is not None:
            return {"run": other, **paired_test(pair, row["name"], level)}
        sign = 1 if row["better"] == "higher" else -1
        found: dict[str, Any] = {
            "run": other, "method": None, "level": None, "distinguishable": None,
            "difference": sign * (row["values"][leader] - row["values"][other])}
        ends = row["intervals"][leader], row["intervals"][other]
        if ends[0] is not None and ends[1] is not None:
            apart = ends[0][0] > ends[1][1] if sign > 0 else ends[0][1] < ends[1][0]
            found.update(method=INTERVALS, level=level, distinguishable=apart)
        return found

    def _pair(self, row: dict[str, Any], leader: int, other: int) -> Any:
        """The two runs' paired records when this figure can be tested on them and their
        predictions give back both runs' values of it; else None (the reason noted)."""
        if row["name"] not in CONFUSION_METRICS or any(
                row["indicators"][k] != PAIRED_INDICATOR for k in (leader, other)):
            return None
        pair = self._paired(leader, other)
        if isinstance(pair, str):
            self._unpaired.setdefault(row["name"], pair)
            return None
        for side, k in enumerate((leader, other)):
            if abs(pair.figures(side)[row["name"]] - row["values"][k]) > TOLERANCE:
                self._unpaired.setdefault(row["name"], (
                    f"the predictions of {self.labels[k]} do not give back its report's "
                    f"{row['name']}"))
                return None
        return pair

    def _paired(self, first: int, second: int) -> Pair | str:
        """The pair of two runs, first run first, or why they cannot be paired; made once
        for both orders (a swapped pair shares its bootstrap draws)."""
        if (second, first) in self._pairs:
            found = self._pairs[(second, first)]
            return found if isinstance(found, str) else found.swapped()
        if (first, second) not in self._pairs:
            self._pairs[(first, second)] = Pair.of(self._labelled(first),
                                                   self._labelled(second))
        return self._pairs[(first, second)]

    def records_if_different(self) -> list[int] | None:
        """Each run's count of labelled test records when their predictions show that the
        runs were not all tested on the same records; None when they were, or a run's
        predictions cannot tell."""
        sides = [self._labelled(k) for k in range(len(self.runs))]
        if any(isinstance(side, str) for side in sides):
            return None
        if all(other_records(sides[0], side) is None for side in sides[1:]):
            return None
        return [len(side) for side in sides]

    def _labelled(self, k: int) -> Any:
        if k not in self._predictions:
            self._predictions[k] = labelled_predictions(
                Path(self.runs[k]["dir"]), by_row="evaluates" in self.runs[k]["manifest"])
        return self._predictions[k]

    def _verdict(self, row: dict[str, Any]) -> str:
        """The row's judgement in words: the best run and the evidence, or the runs the
        leader cannot be told apart from."""
        leader = self.labels[row["leader"]]
        said = {True: [], False: [], None: []}
        for c in row["comparisons"]:
            said[c["distinguishable"]].append(
                f"{self.labels[c['run']]}" + (f" ({evidence(c)})" if c["method"] else ""))
        if row["best"] is not None:
            return f"best: {leader}, better than {'; '.join(said[True])}"
        parts = []
        if said[False]:
            parts.append(f"is not distinguishable from {'; '.join(said[False])}")
        if said[None]:
            parts.append(f"has no interval to judge it against {'; '.join(said[None])}")
        better = f"; it is better than {'; '.join(said[True])}" if said[True] else ""
        return f"{leader} reads best, but {' and '.join(parts)}{better}"

    def notes(self) -> list[str]:
        """Figures that could have been compared record by record but were compared by
        their intervals, and why."""
        reasons: dict[str, list[str]] = {}
        for name, why in self._unpaired.items():
            reasons.setdefault(why, []).append(name)
        return [f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} compared by "
                f"{'its' if len(names) == 1 else 'their'} intervals, not record by record: "
                f"{why}" for why, names in reasons.items()]


INTERVALS = "intervals"
"""The method of a comparison made by the two runs' intervals: apart, or overlapping."""


def evidence(comparison: dict[str, Any]) -> str:
    """How one comparison was judged, in a few words."""
    level = fmt_level(comparison["level"])
    if comparison["method"] == MCNEMAR:
        p = comparison["p_value"]
        shown = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
        return f"{MCNEMAR} on {comparison['records']:,} paired records: {shown}"
    if comparison["method"] == BOOTSTRAP:
        low, high = comparison["interval"]
        return (f"{BOOTSTRAP} on {comparison['records']:,} records: difference "
                f"{comparison['difference']:.3f}, {level} interval {low:.3f} to {high:.3f}")
    if comparison["method"] == INTERVALS:
        return f"{level} intervals {'apart' if comparison['distinguishable'] else 'overlap'}"
    return "no interval"


def checked_against_manifest(run_dir: Path) -> None:
    """The figures and model files compared are those the run wrote: ``report.json`` and
    every file under ``model/`` match their SHA-256 in the manifest (an IntegrityError
    naming the file otherwise), so an edited figure is not ranked, nor a changed model said
    to reproduce the training."""
    from mlstat_core.artifacts import MODEL_DIR, RunFolder

    folder = RunFolder.open(run_dir)
    model = [name for name in folder.manifest.get("files") or {}
             if name.startswith(MODEL_DIR + "/")]
    folder.check_files("report.json", *model)


def refuse_the_same_run_twice(runs: list[dict[str, Any]]) -> None:
    """A run compared with itself, or with a copy of its folder (the same run id), would be
    said to reproduce its own training: refused with a DataError naming both folders."""
    seen: dict[str, str] = {}
    for run in runs:
        run_id = run["manifest"].get("run_id")
        keys = [f"folder {Path(run['dir']).resolve()}"] + ([f"run {run_id}"] if run_id else [])
        for key in keys:
            if key in seen:
                what = "the same folder" if key.startswith("folder") else \
                    f"the same run ({run_id}; one folder is a copy of the other)"
                raise DataError(f"{seen[key]} and {run['dir']} are {what}: compare runs "
                                "trained separately, for example a rerun of the same pipeline "
                                "file")
            seen[key] = run["dir"]


def comparison(run_dirs: list[Path]) -> dict[str, Any]:
    """Runs, their facts, and one row per scalar figure found in any of them, each with the
    value in every run and which run is best (when the figure says which direction is)."""
    runs = []
    for run_dir in run_dirs:
        checked_against_manifest(Path(run_dir))
        manifest, report = open_run(Path(run_dir))
        runs.append({"dir": str(run_dir), "label": str(manifest.get("run_id") or run_dir),
                     "report": report, "tested_on": manifest.get("test_records"),
                     "config": _pipeline_settings(Path(run_dir)), "manifest": manifest})
    refuse_the_same_run_twice(runs)
    facts = [[fact, *[fact_cell(_run_fact(r["report"].get("run") or {}, fact)) for r in runs]]
             for fact in FACTS] + _settings_facts(runs) + software_facts(runs) \
        + artefact_facts(runs)
    rows: dict[str, dict[str, Any]] = {}
    for i, run in enumerate(runs):
        for entry in run["report"].get("indicators") or []:
            value = _scalar(entry.get("value")) if entry.get("status") == "ok" else None
            if value is None:
                continue
            row = rows.setdefault(entry["name"], {
                "name": entry["name"], "dimension": entry.get("dimension"),
                "better": entry.get("better"), "headline": bool(entry.get("headline")),
                **{key: [None] * len(runs) for key in PER_RUN}})
            if row["values"][i] is None:
                row["values"][i] = value
                row["intervals"][i] = _interval(entry.get("interval"))
                row["interval_levels"][i] = entry.get("interval_level") \
                    if row["intervals"][i] else None
                row["indicators"][i] = entry.get("indicator")
    order = {d: k for k, d in enumerate(DIMENSIONS)}
    ordered = sorted(rows.values(), key=lambda r: (order.get(r["dimension"], 99),
                                                   not r["headline"]))
    tasks = {str(_run_fact(r["report"].get("run") or {}, "task")) for r in runs}
    judge = Judge(runs)
    blocking = [f"the runs serve different tasks ({', '.join(sorted(tasks))}): their figures "
                "answer different questions, and no run is better than another; compare runs "
                "of one task"] if len(tasks) > 1 else _different_tests(runs, judge)
    blocking += _trained_on(runs)
    settings = _different_settings(runs)
    warnings = blocking + ([f"the runs' [quality] settings differ ({settings}): the "
                            "auto-coding and cost-effectiveness figures, which read them, are "
                            "not ranked"] if settings else [])
    unranked: dict[str, list[str]] = {}  # an indicator's differing settings: its figures
    for row in ordered:
        differing = "" if blocking or not _reads_settings(row) \
            else _indicator_settings_differ(runs, row)
        if differing:
            unranked.setdefault(differing, []).append(row["name"])
        ranked = not blocking and not (settings and _reads_settings(row)) and not differing
        judge.row(row, ranked)
    warnings += [f"the runs' settings of {what} differ: {listed(names)}, which depend on them, "
                 "are not ranked" for what, names in unranked.items()]
    return {"runs": [{"dir": r["dir"], "label": r["label"]} for r in runs],
            "facts": facts, "rows": ordered, "warnings": warnings,
            "notes": reproduced(runs, facts) + judge.notes()}


def _different_settings(runs: list[dict[str, Any]]) -> str:
    """The ``[quality]`` settings (targets aside: they judge figures, not make them) whose
    values differ between the runs, as ``key: a, b``; empty when they agree. A setting left
    out counts as its default, so writing a default out is no difference."""
    tables = [_quality_in_effect(r["report"].get("settings") or {}) for r in runs]
    keys = sorted({k for t in tables for k in t})
    return "; ".join(f"{k}: {', '.join(fact_cell(t.get(k)) for t in tables)}" for k in keys
                     if len({json.dumps(t.get(k), sort_keys=True) for t in tables}) > 1)


def _quality_in_effect(settings: dict[str, Any]) -> dict[str, Any]:
    """A run's ``[quality]`` settings with the defaults filled in (targets aside)."""
    from mlstat_core.quality.accuracy import DEFAULT_TARGET_ACCURACY
    from mlstat_core.quality.params import QualitySettings

    table = {k: v for k, v in settings.items() if k not in ("targets", "base_dir")}
    try:
        table = QualitySettings.model_validate(table).model_dump(exclude={"targets"})
    except ValueError:
        return table  # a report written by another version: compared as written
    if table.get("target_accuracy") is None:
        table["target_accuracy"] = DEFAULT_TARGET_ACCURACY
    return table


NOT_COMPARED_SECTIONS = ("quality", "output")
"""Sections whose differences are no cause of a figure's: [quality] (warned about apart)
and [output] (where the run folder went)."""
NOT_COMPARED = ("pipeline.name", "pipeline.description", "pipeline.seed", "pipeline.task",
                "model.component")
"""Settings that are not causes (name, description) or that are facts rows already."""

SETTINGS_SHOWN = 8
"""Most differing pipeline settings a comparison lists before it counts the rest."""


def _pipeline_settings(run_dir: Path) -> dict[str, str] | None:
    """The run's pipeline settings (its ``config.toml``, defaults written out) as flat
    ``section.key`` -> value text, without its name, description and ``[quality]``."""
    import tomllib

    try:
        config = tomllib.loads((run_dir / "config.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    flat: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and all(
                isinstance(v, dict) and "component" in v for v in value):
            for item in value:  # [[indicators]], [[preprocess]]: one entry per component
                walk(f"{prefix}[{item['component']}]",
                     {k: v for k, v in item.items() if k != "component"} or {"": "used"})
        else:
            flat[prefix.rstrip(".")] = json.dumps(value, ensure_ascii=False, default=str)

    walk("", {k: v for k, v in config.items() if k not in NOT_COMPARED_SECTIONS})
    for key in NOT_COMPARED:
        flat.pop(key, None)
    return flat


def _settings_facts(runs: list[dict[str, Any]]) -> list[list[str]]:
    """One fact row listing, per run, the pipeline settings in which the runs differ
    (``model.C = 0.5``), so that a difference in figures can be traced to its cause; none
    when they agree or a run's config.toml cannot be read."""
    configs = [r["config"] for r in runs]
    if any(c is None for c in configs):
        return []
    keys = sorted({k for c in configs for k in c}, key=lambda k: (k.split(".")[0] != "model", k))
    differing = [k for k in keys if len({c.get(k) for c in configs}) > 1]
    if not differing:
        return []
    cells = [listed([f"{k} = {c.get(k, '—')}" for k in differing], SETTINGS_SHOWN, "; ")
             for c in configs]
    return [["settings that differ", *cells]]


def _indicator_settings_differ(runs: list[dict[str, Any]], row: dict[str, Any]) -> str:
    """The settings of the indicator that computed a figure (``[[indicators]]
    target_accuracy``) where the runs differ in them, as ``indicator (key: a, b)``; empty
    when they agree, when a run lacks the figure (a row of one value is not ranked anyway),
    or when a run's config.toml cannot be read (its settings unknown). Only the figures
    whose meaning the settings change ask (:func:`_reads_settings`): other settings change
    an interval's replicates or which extra figures there are, not the figure."""
    configs = [r["config"] for r in runs]
    names = sorted({n for n in row["indicators"] if n})
    if not names or any(c is None for c in configs) or None in row["values"]:
        return ""
    prefixes = tuple(f"indicators[{n}]." for n in names)
    keys = sorted({k for c in configs for k in c if k.startswith(prefixes)})
    differing = [f"{k.split('].', 1)[1]}: {', '.join(c.get(k, '—') for c in configs)}"
                 for k in keys if len({c.get(k) for c in configs}) > 1]
    return f"{', '.join(names)} ({'; '.join(differing)})" if differing else ""


def _trained_on(runs: list[dict[str, Any]]) -> list[str]:
    """A warning when an evaluation was made on a file its run read in training, or one holding
    records the model learnt from (recorded by mlstat evaluate as
    ``evaluates.read_in_training``): its figures overstate the model's
    accuracy, so no run is named best."""
    flagged = [f"{r['label']} ({', '.join(map(str, files))})" for r in runs
               if (files := (r["manifest"].get("evaluates") or {}).get("read_in_training"))]
    if not flagged:
        return []
    return [f"evaluation(s) {'; '.join(flagged)} scored records the model was trained on: "
            "their figures overstate its accuracy, so no run is named best; evaluate each "
            "run on a labelled file that none was trained on"]


def _reads_settings(row: dict[str, Any]) -> bool:
    """Whether a figure's meaning depends on settings (the [quality] table's, its
    indicator's own): the cost figures, and the auto-coding ones (their target accuracy)."""
    return row["dimension"] == "cost_effectiveness" or \
        row["name"].startswith(("auto_coding", "autocoding"))  # core's and the coding plugin's


def _different_tests(runs: list[dict[str, Any]], judge: Judge) -> list[str]:
    """A warning when the runs' figures come from different test records (another data file,
    split or seed: a training file that grew between coding cycles, say). Runs made before
    mlstat recorded their test records' fingerprint are checked by the records of their
    predictions (their count shown as — where the fingerprints of the others differ)."""
    tested = [t if isinstance(t := r["tested_on"], dict) else None for r in runs]
    found: Sequence[int | None] | None = None
    if len({t.get("sha256") for t in tested if t is not None}) > 1:
        found = [None if t is None else t.get("count", 0) for t in tested]
    elif None in tested:
        found = judge.records_if_different()
    if found is None:
        return []
    counts = ", ".join("—" if n is None else f"{n:,}" for n in found)
    if all("evaluates" in r["manifest"] for r in runs):
        return [f"the evaluations were made on different records ({counts} records; "
                "different files, or the same file read otherwise): no run is named best; "
                "evaluate each run on the same labelled file to compare them"]
    return [f"the runs were tested on different records ({counts} test records; different "
            "data, split or seed): a difference mixes the models with their test records, so "
            "no run is named best; to compare models, evaluate each on one fixed labelled "
            "file that none was trained on (mlstat evaluate)"]


def comparison_json(table: dict[str, Any]) -> str:
    """What ``mlstat compare --json`` prints: the runs, the fact rows, one row per figure
    (its value, interval and interval level in each run; ``leader``, the run that reads
    best; ``best``, that run when it is distinguishable from every other; ``comparisons``,
    the leader against each other run; ``verdict``, those in words; runs as their position
    in ``runs``), the warnings and the notes."""
    from mlstat_core.report.build import clean_json

    rows = [{k: v for k, v in row.items() if k != "indicators"} for row in table["rows"]]
    return json.dumps(clean_json({"status": "succeeded", **table, "rows": rows,
                                  "ranking": RANKING_RULE}), indent=2)


def print_comparison(table: dict[str, Any], console: Any = None) -> None:
    """The comparison as a rich table in the terminal (each value with its interval; the best
    run's in bold green), then the warnings, the notes and, figure by figure, which run reads
    best and whether it is distinguishable from the others."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    view = Table(title="Quality of runs side by side", show_lines=False)
    view.add_column("figure")
    for run in table["runs"]:
        view.add_column(run["label"], justify="right", overflow="fold")
    for fact in table["facts"]:
        view.add_row(*[f"[dim]{escape_rich(v)}[/dim]" for v in fact])
    for row in table["rows"]:
        cells = []
        for k in range(len(row["values"])):
            text = escape_rich(shown(row, k) + shown_interval(row, k, " "))
            cells.append(f"[bold green]{text}[/bold green]" if row["best"] == k else text)
        view.add_row(escape_rich(row["name"]), *cells)
    console.print(view)
    for warning in table.get("warnings", []):
        console.print(f"warning: {escape_rich(warning)}", style="yellow")
    for note in table.get("notes", []):
        console.print(f"note: {escape_rich(note)}")
    judged = [r for r in table["rows"] if r.get("verdict")]
    if judged:
        console.print(escape_rich(RANKING_RULE))
    unjudged = [r["name"] for r in judged if not any(c["method"] for c in r["comparisons"])]
    for row in judged:
        if row["name"] not in unjudged:
            console.print(f"  {escape_rich(row['name'])}: {escape_rich(row['verdict'])}")
    if unjudged:
        console.print(f"  not ranked, no interval to judge a difference by: "
                      f"{escape_rich(', '.join(unjudged))}")


RANKING_RULE = ("A run is best where it is better than every other run beyond chance: record "
                "by record where the runs scored the same test records (exact McNemar test for "
                "accuracy, paired bootstrap for F1, kappa and MCC, at the figure's confidence "
                "level), else where the intervals do not overlap (a stricter rule: overlapping "
                "intervals do not show that the runs are alike); a figure without an interval "
                "is not ranked.")
"""How ``mlstat compare`` names a best run, said above the judgements (and in the HTML)."""


def shown_interval(row: dict[str, Any], k: int, before: str = "") -> str:
    """Run ``k``'s interval of a row as the comparison shows it, after ``before``; empty
    without one."""
    interval = row.get("intervals", [None] * (k + 1))[k]
    if not interval:
        return ""
    scale = magnitude(row["values"])
    return f"{before}[{fmt_number(interval[0], scale)}, {fmt_number(interval[1], scale)}]"


def escape_rich(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(str(text))


def render_comparison_html(table: dict[str, Any]) -> str:
    """The comparison as one self-contained HTML page: a row per fact and per figure, each
    headed by its name (a figure's says which direction is better); the best run's value in
    bold, and said in words for a screen reader."""
    head = "".join(f'<th scope="col">{escape(r["label"])}</th>' for r in table["runs"])
    facts = []
    for fact in table["facts"]:
        facts.append(f'<tr class="fact"><th scope="row">{escape(str(fact[0]))}</th>'
                     + "".join(f"<td>{escape(str(v))}</td>" for v in fact[1:]) + "</tr>")
    groups = [f"<tbody>{''.join(facts)}</tbody>"] if facts else []
    width = len(table["runs"]) + 1
    current: Any = object()
    rows: list[str] = []
    for row in table["rows"]:
        if row["dimension"] != current:
            if rows:
                groups.append(f"<tbody>{''.join(rows)}</tbody>")
                rows = []
            current = row["dimension"]
            title = DIMENSION_TITLES.get(current or "", str(current))
            rows.append(f'<tr><th colspan="{width}" scope="rowgroup" '
                        f'id="dimension-{escape(str(current))}">{escape(title)}</th></tr>')
        cells = "".join(
            (f'<td class="num best">{escape(shown(row, k))}'
             '<span class="visually-hidden"> (best)</span>' if row["best"] == k
             else f'<td class="num">{escape(shown(row, k))}')
            + (f'<div class="meta">{escape(shown_interval(row, k))}</div>'
               if shown_interval(row, k) else "") + "</td>"
            for k in range(len(row["values"])))
        way = direction(row.get("better"))
        label = escape(row["name"]) + (f'<div class="meta">{escape(way)}</div>' if way else "") \
            + (f'<div class="meta">{escape(row["verdict"])}</div>' if row.get("verdict") else "")
        rows.append(f'<tr><th scope="row">{label}</th>{cells}</tr>')
    if rows:
        groups.append(f"<tbody>{''.join(rows)}</tbody>")
    html_table = scrolling(f'<table class="compare"><thead><tr><th scope="col">figure</th>'
                           f"{head}</tr></thead>{''.join(groups)}</table>")
    return page("mlstat: runs compared",
                f"<main><h1>Runs compared</h1>{warnings_html(table.get('warnings'))}"
                + "".join(f"<p>{escape(n[:1].upper() + n[1:])}.</p>"
                          for n in table.get("notes", []))
                + f"{ranking_note(table)}{html_table}</main>")


def ranking_note(table: dict[str, Any]) -> str:
    """What the bold cells mean, or why there are none."""
    judged = any(row.get("verdict") for row in table["rows"])
    if any(row["best"] is not None for row in table["rows"]):
        text = ("Bold: the best run, for figures where higher or lower is better (said under "
                f"the figure's name, with the judgement). {RANKING_RULE}")
    elif table.get("warnings") and not judged:
        text = "No run is ranked: see the warnings."
    elif judged:
        text = ("No run is ranked: where one reads best, it is not distinguishable from "
                f"another (said under the figure's name). {RANKING_RULE}")
    else:
        text = ("No run is ranked: no figure where higher or lower is better reads better in "
                "one run than in every other.")
    return f'<p class="meta">{escape(text)}</p>'


def _run_fact(run: dict[str, Any], fact: str) -> Any:
    """A fact of the report's run section; ``model`` is the model component it used."""
    if fact == "model":
        return (run.get("components") or {}).get("model")
    if fact == "warnings":
        count = len(run.get("warnings") or [])
        return f"{count} (in its report)" if count else "none"
    return run.get(fact)
