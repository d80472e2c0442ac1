"""Put several runs' quality figures side by side (``mlstat compare``)."""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Any

from mlstat_core.components import DIMENSIONS
from mlstat_core.errors import listed
from mlstat_core.report.build import open_run
from mlstat_core.report.fingerprints import (
    artefact_facts,
    fact_cell,
    reproduced,
    software_facts,
)
from mlstat_core.report.html import (
    DIMENSION_TITLES,
    direction,
    fmt_number,
    magnitude,
    page,
    scrolling,
    warnings_html,
)

FACTS = ("name", "task", "model", "status", "seed", "started_at")


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
    if row["better"] not in ("higher", "lower"):
        return None
    read = {k: float(shown(row, k).replace(",", ""))
            for k, v in enumerate(row["values"]) if v is not None}
    if len(read) < 2:
        return None
    top = (max if row["better"] == "higher" else min)(read.values())
    winners = [k for k, v in read.items() if v == top]
    return winners[0] if len(winners) == 1 else None


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
                "values": [None] * len(runs)})
            if row["values"][i] is None:
                row["values"][i] = value
    order = {d: k for k, d in enumerate(DIMENSIONS)}
    ordered = sorted(rows.values(), key=lambda r: (order.get(r["dimension"], 99),
                                                   not r["headline"]))
    tasks = {str(_run_fact(r["report"].get("run") or {}, "task")) for r in runs}
    blocking = [f"the runs serve different tasks ({', '.join(sorted(tasks))}): their figures "
                "answer different questions, and no run is better than another; compare runs "
                "of one task"] if len(tasks) > 1 else _different_tests(runs)
    settings = _different_settings(runs)
    warnings = blocking + ([f"the runs' [quality] settings differ ({settings}): the "
                            "auto-coding and cost-effectiveness figures, which read them, are "
                            "not ranked"] if settings else [])
    for row in ordered:
        ranked = not blocking and not (settings and _reads_settings(row))
        row["best"] = best_run(row) if ranked else None
    return {"runs": [{"dir": r["dir"], "label": r["label"]} for r in runs],
            "facts": facts, "rows": ordered, "warnings": warnings,
            "notes": reproduced(runs, facts)}


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


def _reads_settings(row: dict[str, Any]) -> bool:
    """Whether a figure depends on the [quality] settings (cost, auto-coding threshold)."""
    return row["dimension"] == "cost_effectiveness" or \
        row["name"].startswith(("auto_coding", "autocoding"))  # core's and the coding plugin's


def _different_tests(runs: list[dict[str, Any]]) -> list[str]:
    """A warning when the runs' figures come from different test records (another data file,
    split or seed: a training file that grew between coding cycles, say). Runs made before
    mlstat recorded their test records are not checked."""
    tested = [r["tested_on"] for r in runs]
    if any(not isinstance(t, dict) for t in tested) or len({t.get("sha256") for t in tested}) < 2:
        return []
    counts = ", ".join(f"{t.get('count', 0):,}" for t in tested)
    if all("evaluates" in r["manifest"] for r in runs):
        return [f"the evaluations were made on different records ({counts} records; "
                "different files, or the same file read otherwise): no run is named best; "
                "evaluate each run on the same labelled file to compare them"]
    return [f"the runs were tested on different records ({counts} test records; different "
            "data, split or seed): a difference mixes the models with their test records, so "
            "no run is named best; to compare models, evaluate each on one fixed labelled "
            "file that none was trained on (mlstat evaluate)"]


def print_comparison(table: dict[str, Any], console: Any = None) -> None:
    """The comparison as a rich table in the terminal; the best value of a row in bold green."""
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
            text = escape_rich(shown(row, k))
            cells.append(f"[bold green]{text}[/bold green]" if row["best"] == k else text)
        view.add_row(escape_rich(row["name"]), *cells)
    console.print(view)
    for warning in table.get("warnings", []):
        console.print(f"warning: {escape_rich(warning)}", style="yellow")
    for note in table.get("notes", []):
        console.print(f"note: {escape_rich(note)}")


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
            f'<td class="num best">{escape(shown(row, k))}'
            '<span class="visually-hidden"> (best)</span></td>' if row["best"] == k
            else f'<td class="num">{escape(shown(row, k))}</td>'
            for k in range(len(row["values"])))
        way = direction(row.get("better"))
        label = escape(row["name"]) + (f'<div class="meta">{escape(way)}</div>' if way else "")
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
    if any(row["best"] is not None for row in table["rows"]):
        text = ("Bold: the best run for figures where higher or lower is clearly better "
                "(said under the figure's name) and one run's value is better than every "
                "other's as shown.")
    elif table.get("warnings"):
        text = "No run is ranked: see the warnings."
    else:
        text = ("No run is ranked: no figure where higher or lower is better reads better in "
                "one run than in every other.")
    return f'<p class="meta">{escape(text)}</p>'


def _run_fact(run: dict[str, Any], fact: str) -> Any:
    """A fact of the report's run section; ``model`` is the model component it used."""
    if fact == "model":
        return (run.get("components") or {}).get("model")
    return run.get(fact)
