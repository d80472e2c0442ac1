"""Render the report document as one self-contained HTML file.

No network, no JavaScript, no external CSS or fonts: styles are inline, plots are inline SVG
(or data-URI images). Every text taken from the report is escaped.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any

from mlstat_core.components import DIMENSIONS
from mlstat_core.report.build import STATUSES as KNOWN_STATUSES

# A result of any other status than KNOWN_STATUSES (``docs/report-schema.md``) is shown as of
# an unknown status, with its value, and counted on the first screen.

DIMENSION_TITLES = {
    "accuracy": "Accuracy",
    "explainability": "Explainability",
    "reproducibility": "Reproducibility",
    "timeliness": "Timeliness",
    "cost_effectiveness": "Cost-effectiveness",
}
DIMENSION_INTRO = {
    "accuracy": "How close the model's outputs are to the true values, with the uncertainty "
                "of that estimate.",
    "explainability": "Which inputs drive the model, so that subject-matter experts can judge "
                      "whether it learnt something meaningful.",
    "reproducibility": "Whether the run can be repeated with the same inputs, settings and "
                       "software, and gives the same result.",
    "timeliness": "How long training and production scoring take, and what resources they need.",
    "cost_effectiveness": "How much manual work the model saves, in records, hours and money.",
}
MAX_TABLE_ROWS = 200
MAX_VALUE_ROWS = 40
MAX_DETAILS_CHARS = 6000
NOISE = 1e-12
"""A float below this fraction of its column's largest magnitude (or of 1) is rounding noise:
it reads 0."""
SIGNIFICANT = 3
"""Significant digits of a number below 0.001 (written 0.000658, not 6.58e-04)."""
SMALLEST_FIXED = 1e-6
"""Below this magnitude (noise aside) a number is written in scientific notation."""

CSS = """
:root{--ink:#1d2733;--muted:#5b6776;--line:#d9dee5;--bg:#f6f8fa;--accent:#1f5f8b;
--ok:#21773a;--okbg:#e3f4e8;--bad:#a12622;--badbg:#fbe6e5;--skip:#6b5b00;--skipbg:#fbf3d0;
--warn:#8a4b00;--warnbg:#fff3e0}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);
margin:0;background:#fff;line-height:1.45}
header,main,footer{max-width:1100px;margin:0 auto;padding:0 1.2rem}
header{padding-top:1.2rem}
h1{font-size:1.6rem;margin:.2rem 0}
h2{font-size:1.3rem;border-bottom:2px solid var(--accent);padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1.05rem;margin:.2rem 0}
.meta{color:var(--muted);font-size:.9rem}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem}
nav a{display:inline-block;padding:.2rem .6rem;border:1px solid var(--line);border-radius:4px;
text-decoration:none;color:var(--accent)}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.4rem 0}
th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:var(--bg)}
tbody th[scope=row]{background:none;font-weight:400}
caption{text-align:left;color:var(--muted);font-size:.85rem;padding:.2rem 0}
.plot-values th,.plot-values td{padding:.1rem .35rem;font-size:.8rem}
.visually-hidden{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;
clip:rect(0,0,0,0);white-space:nowrap;border:0}
td{overflow-wrap:anywhere}
td.num{text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:normal}
.scroll{overflow-x:auto;max-width:100%;margin:.4rem 0}
.scroll>table{margin:0}
table.headline{min-width:46rem}
table.headline td:last-child{min-width:15rem}
table.headline td.num{white-space:nowrap}
table.headline td,table.compare td,table.headline th,table.compare th{overflow-wrap:break-word}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:3px;font-size:.8rem;
font-weight:600;white-space:nowrap}
.badge.met,.badge.ok{background:var(--okbg);color:var(--ok)}
.badge.not-met,.badge.failed{background:var(--badbg);color:var(--bad)}
.badge.skipped,.badge.missing,.badge.no-target,.badge.met-estimate{background:var(--skipbg);
color:var(--skip)}
.badge.met-no-interval{background:#fff;color:var(--ok);border:1px dashed var(--ok)}
.badge.unknown{background:var(--warnbg);color:var(--warn);border:1px solid var(--warn)}
.description{font-size:1.05rem;margin:.3rem 0 .5rem}
div.warnings{margin:.6rem 0}
p.warning{background:var(--warnbg);border-left:4px solid var(--warn);border-radius:0 4px 4px 0;
padding:.4rem .7rem;margin:.35rem 0;overflow-wrap:anywhere}
p.warning .label{color:var(--warn);font-size:.75rem;font-weight:700;text-transform:uppercase;
letter-spacing:.04em;margin-right:.4rem}
.headline td.value{font-size:1.1rem;font-weight:600}
article.result{border:1px solid var(--line);border-radius:6px;padding:.7rem .9rem;
margin:.8rem 0}
article.result.failed{border-color:var(--bad)}
.value-line{font-size:1.15rem;margin:.3rem 0}
.value-line .interval,.value-line .better{color:var(--muted);font-size:.95rem}
.explanation{margin:.3rem 0}
.error{color:var(--bad);font-family:monospace;white-space:pre-wrap}
figure.plot{margin:.6rem 0}
.plot-box{overflow-x:auto;max-width:100%}
figure.plot svg,figure.plot img{max-width:100%;height:auto}
figcaption{color:var(--muted);font-size:.85rem}
details pre{background:var(--bg);padding:.5rem;overflow:auto;font-size:.8rem;max-height:24rem}
.summary{display:flex;gap:1rem;flex-wrap:wrap}
.summary>div{background:var(--bg);border-radius:6px;padding:.5rem .8rem}
.empty{color:var(--muted);font-style:italic}
.best{font-weight:700;background:var(--okbg)}
@media print{nav{display:none}article.result{break-inside:avoid}}
"""


def fmt_number(value: Any, scale: float = 0.0) -> str:
    """A number as a methodologist reads it: integers whole with thousands separated; a float
    with 0 decimals from 1,000, 1 from 100, else 3, and 3 significant digits below 0.001
    (0.000658), scientific only below 1e-6. A float below ``NOISE`` times ``scale`` (the
    largest magnitude of its column or row; at least 1) is rounding noise and reads 0."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return _fmt_float(value, scale)
    return str(value)


def _fmt_float(value: float, scale: float) -> str:
    """A float by the rules of :func:`fmt_number`."""
    size = abs(value)
    if not math.isfinite(value):
        return "—"
    if size < NOISE * max(1.0, scale):
        return "0"
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:,.1f}"
    if size >= 0.001:
        return f"{value:.3f}"
    if size >= SMALLEST_FIXED:
        return f"{value:.{SIGNIFICANT - 1 - math.floor(math.log10(size))}f}"
    return f"{value:.{SIGNIFICANT - 1}e}"


def magnitude(value: Any) -> float:
    """Largest finite magnitude of a number or of a list of numbers (0 for anything else)."""
    items = value if isinstance(value, list | tuple) else [value]
    sizes = [abs(v) for v in items if isinstance(v, int | float) and not isinstance(v, bool)
             and math.isfinite(v)]
    return float(max(sizes, default=0.0))


def fmt_interval(interval: Any, scale: float = 0.0) -> str:
    """``[low, high]`` formatted alike (noise judged against the larger end and ``scale``)."""
    if not interval or len(interval) != 2:
        return ""
    scale = max(scale, magnitude(list(interval)))
    return f"[{fmt_number(interval[0], scale)}, {fmt_number(interval[1], scale)}]"


def fmt_level(level: Any) -> str:
    """An interval's level as a percentage (0.8 -> "80%", 0.975 -> "97.5%"); 95% when the
    report does not say (reports of schema 1.0)."""
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        level = 0.95
    return f"{round(level * 100, 2):g}%"


def labelled_interval(interval: Any, level: Any, scale: float = 0.0) -> str:
    """An interval with its level ("80% [0.61, 0.71]"), or "" without an interval."""
    text = fmt_interval(interval, scale)
    return f"{fmt_level(level)} {text}" if text else ""


def cell(value: Any, scale: float = 0.0) -> str:
    """One escaped table cell, numbers right-aligned (``scale``: its column's largest)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<td class="num">{escape(fmt_number(value, scale))}</td>'
    if isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, int | float) for v in value):
        return f'<td class="num">{escape(fmt_interval(value, scale))}</td>'
    if isinstance(value, dict | list):
        return f"<td>{escape(json.dumps(value, ensure_ascii=False)[:300])}</td>"
    return f"<td>{escape(fmt_number(value))}</td>"


def row_header(value: Any) -> str:
    """The first cell of a row that labels it, as a row header (looks like a plain cell)."""
    return f'<th scope="row">{escape(fmt_number(value))}</th>'


def column_scales(rows: list[list[Any]]) -> list[float]:
    """The largest magnitude of each column's numbers (what noise is judged against)."""
    width = max((len(row) for row in rows), default=0)
    return [max((magnitude(row[j]) for row in rows if j < len(row)), default=0.0)
            for j in range(width)]


def scrolling(html: str) -> str:
    """A wide element in a box that scrolls sideways on a narrow screen (the page does not)."""
    return f'<div class="scroll">{html}</div>'


def table_html(columns: list[Any], rows: list[list[Any]], limit: int = MAX_TABLE_ROWS,
               css: str = "", row_headers: bool = False) -> str:
    """A table with its column headers; with ``row_headers`` each row's first cell is the
    header of its row (a name, a class, a variable)."""
    head = "".join(f'<th scope="col">{escape(str(c))}</th>' for c in columns)
    shown = [list(row) for row in rows[:limit]]
    scales = column_scales(shown)
    body = "".join("<tr>" + "".join(
        row_header(v) if row_headers and j == 0 else cell(v, scales[j])
        for j, v in enumerate(row)) + "</tr>" for row in shown)
    more = "" if len(rows) <= limit else \
        f'<p class="meta">{len(rows) - limit} more rows in report.json.</p>'
    klass = f' class="{escape(css)}"' if css else ""
    return scrolling(f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
                     f"</table>") + more


DEFAULT_VALUE_KEYS = "name"
"""Header of the first column of an object value's table when ``details.value_keys`` does not
say what its keys are (variables, classes, levels)."""


def value_html(value: Any, interval: Any, level: Any = None,
               keys: Any = DEFAULT_VALUE_KEYS, better: Any = None) -> str:
    """A result's value: an object as a table of its keys (headed ``keys``) and values, a list
    on one line, a number with its interval and level; then which direction is better (when
    ``better`` says)."""
    way = direction(better)
    said = f' <span class="better">· {escape(way)}</span>' if way else ""
    if isinstance(value, dict):
        rows = [[k, v] for k, v in value.items()]
        header = str(keys).strip() if isinstance(keys, str) and keys.strip() \
            else DEFAULT_VALUE_KEYS
        return table_html([header, "value"], rows, MAX_VALUE_ROWS, "values",
                          row_headers=True) + (f'<p class="meta">{escape(way)}</p>' if way else "")
    if isinstance(value, list):
        scale = magnitude(value)
        return (f'<p class="value-line">'
                f'{escape(", ".join(fmt_number(v, scale) for v in value))}{said}</p>')
    text = f'<p class="value-line"><strong>{escape(fmt_number(value))}</strong>'
    if interval:
        scale = magnitude(value)
        text += (f' <span class="interval">{escape(fmt_level(level))} interval '
                 f"{escape(fmt_interval(interval, scale))}</span>")
    return text + said + "</p>"


def status_badge(status: str) -> str:
    if status not in KNOWN_STATUSES:
        return f'<span class="badge unknown">unknown status {escape(repr(status))}</span>'
    label = {"ok": "computed", "failed": "failed", "skipped": "not available"}[status]
    return f'<span class="badge {escape(status)}">{escape(label)}</span>'


def met_badge(figure: dict[str, Any]) -> str:
    """The "meets target?" cell: the badge of the estimate, and what the interval says."""
    if figure.get("target") is None:
        return '<span class="badge no-target">no target</span>'
    if figure.get("met") is None:
        return '<span class="badge missing">cannot judge</span>'
    if not figure["met"]:
        return '<span class="badge not-met">not met</span>'
    if "interval_clears" not in figure:  # a report of schema 1.0 judged the estimate only
        return '<span class="badge met">met</span>'
    clears = figure["interval_clears"]
    if clears is False:
        return ('<span class="badge met-estimate">met (estimate only)</span>'
                '<div class="meta">the interval does not clear the target</div>')
    if clears is None:
        return ('<span class="badge met-no-interval">met (no interval)</span>'
                '<div class="meta">no interval: judged on the estimate</div>')
    return ('<span class="badge met">met</span>'
            '<div class="meta">the whole interval clears the target</div>')


def targets_box(summary: dict[str, Any]) -> str:
    """The summary box counting the targets met. It leads with those met by the whole interval
    (a figure is fit for use only then), then says how many more the estimate alone meets,
    how many were met without an interval and how many were not met; a report of schema 1.0
    cannot tell how, so it counts the targets met by the estimate."""
    met = summary.get("targets_met") or 0
    targets = summary.get("targets")
    if "targets_met_by_interval" not in summary:
        return f"<div><strong>{met}</strong> of {targets} targets met</div>"
    by_interval = summary.get("targets_met_by_interval") or 0
    text = (f"<div><strong>{by_interval}</strong> of {targets} targets met by the whole "
            "interval")
    parts = met_breakdown(summary, met)
    not_met = summary.get("targets_not_met") or 0
    if not_met:
        parts.append(f"{not_met} not met")
    not_judged = summary.get("targets_not_judged") or 0
    if not_judged:
        parts.append(f"{not_judged} cannot be judged (no such figure, or no number to judge: "
                     "its indicator skipped or failed)")
    if parts:
        text += "; " + ", ".join(parts)
    return text + "</div>"


def met_breakdown(summary: dict[str, Any], met: int) -> list[str]:
    """How the targets not met by the whole interval were met: by the estimate only, without
    an interval (each said only when some were)."""
    by_interval = summary.get("targets_met_by_interval") or 0
    only = summary.get("targets_met_estimate_only") or 0
    without = max(0, met - by_interval - only)
    parts = []
    if only:
        parts.append(f"{only} more met by the estimate only (the interval does not clear "
                     "the target)")
    if without:
        parts.append(f"{without} met without an interval (judged on the estimate)")
    return parts


def direction(better: Any) -> str:
    """"higher is better" / "lower is better", or "" when the figure does not say."""
    return f"{better} is better" if better in ("higher", "lower") else ""


def result_warnings(entry: dict[str, Any]) -> list[str]:
    """The warnings a result carries in ``details.warnings`` (a text or a list of texts)."""
    found = (entry.get("details") or {}).get("warnings")
    if isinstance(found, str):
        found = [found]
    return [str(w) for w in found if str(w).strip()] if isinstance(found, list) else []


def unknown_status_note(status: str) -> str:
    return (f"This result has the status {status!r}, which is not one the report knows "
            f"({', '.join(KNOWN_STATUSES)}): the indicator that made it breaks the contract. "
            "Its value is shown as given; report it to the indicator's authors.")


def unassessed_dimensions(entries: list[dict[str, Any]]) -> list[str]:
    """The QF4SA dimensions no result of the run computed (none listed, or every one skipped
    or failed): the first screen names them, so that a gap is not found only at the end."""
    done = {e.get("dimension") for e in entries if e.get("status") == "ok"}
    return [d for d in DIMENSIONS if d not in done]


def links(numbered: list[tuple[int, dict[str, Any]]]) -> str:
    return ", ".join(f'<a href="#result-{n}">{escape(str(e.get("name", "")))}</a>'
                     for n, e in numbered)


def headline_html(report: dict[str, Any],
                  numbered: list[tuple[int, dict[str, Any]]] | None = None) -> str:
    figures = report.get("headline") or []
    summary = report.get("summary") or {}
    by_status = summary.get("by_status") or {}
    if numbered is None:
        numbered = numbered_results(report.get("indicators") or [])
    boxes = [
        f"<div><strong>{by_status.get('ok', 0)}</strong> figures computed</div>",
        f"<div><strong>{by_status.get('failed', 0)}</strong> failed</div>",
        f"<div><strong>{by_status.get('skipped', 0)}</strong> not available</div>",
    ]
    unknown = [(n, e) for n, e in numbered if str(e.get("status", "ok")) not in KNOWN_STATUSES]
    if unknown:
        boxes.append(f"<div><strong>{len(unknown)}</strong> with an unknown status (shown "
                     f"with their values): {links(unknown)}</div>")
    warned = [(n, e) for n, e in numbered if result_warnings(e)]
    if warned:
        boxes.append(f"<div><strong>{len(warned)}</strong> with warnings: {links(warned)}"
                     "</div>")
    bare = unassessed_dimensions(report.get("indicators") or [])
    if bare:
        boxes.append(f"<div><strong>{len(bare)}</strong> of {len(DIMENSIONS)} dimensions "
                     "without a computed figure: " + ", ".join(
                         f'<a href="#dimension-{d}">{escape(DIMENSION_TITLES.get(d, d))}</a>'
                         for d in bare) + "</div>")
    if summary.get("targets"):
        boxes.append(targets_box(summary))
    rows = []
    for f in figures:
        target = "—" if f.get("target") is None else \
            f"{f.get('comparison') or ''} {fmt_number(f.get('target'))}".strip()
        value = f.get("value")
        shown = fmt_number(value) if not isinstance(value, dict | list) else "see below"
        status = f.get("status")
        note = ""
        if status in ("failed", "skipped", "missing"):
            shown = {"failed": "failed", "skipped": "not available",
                     "missing": "not computed"}[status]
        elif status not in ("ok", None):
            note = f'<div class="meta">unknown status {escape(repr(status))}</div>'
        dim = DIMENSION_TITLES.get(f.get("dimension") or "", "—")
        interval = labelled_interval(f.get("interval"), f.get("interval_level"),
                                     magnitude(value))
        way = direction(f.get("better")) if f.get("target") is None else ""
        target_cell = escape(target) + (f'<div class="meta">{escape(way)}</div>' if way else "")
        rows.append(
            "<tr>"
            f'<th scope="row">{escape(str(f["name"]))}<div class="meta">{escape(dim)}</div>'
            f"{note}</th>"
            f'<td class="value num">{escape(shown)}</td>'
            f'<td class="num">{escape(interval)}</td>'
            f'<td class="num">{target_cell}</td><td>{met_badge(f)}</td>'
            f"<td>{escape(str(f.get('explanation') or ''))}</td></tr>")
    table = scrolling(
        '<table class="headline"><thead><tr><th scope="col">figure</th>'
        '<th scope="col">value</th><th scope="col">interval</th><th scope="col">target</th>'
        '<th scope="col">meets target?</th><th scope="col">what it means</th>'
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>") if rows else \
        '<p class="empty">No headline figure in this run.</p>'
    return (f'<section id="headline"><h2>At a glance</h2><div class="summary">{"".join(boxes)}'
            f"</div>{table}</section>")


DETAILS_SHOWN = ("table", "better", "indicator", "warnings", "value_keys")
"""Keys of ``details`` the report shows in their own place, not in the folded details."""


def details_html(details: dict[str, Any]) -> str:
    rest = {k: v for k, v in details.items() if k not in DETAILS_SHOWN}
    if not rest:
        return ""
    text = json.dumps(rest, indent=2, ensure_ascii=False, default=str)
    if len(text) > MAX_DETAILS_CHARS:
        text = text[:MAX_DETAILS_CHARS] + "\n... (truncated; see report.json)"
    return f"<details><summary>Details</summary><pre>{escape(text)}</pre></details>"


def result_html(entry: dict[str, Any], number: int) -> str:
    from mlstat_core.report.plots import render_plot

    status = str(entry.get("status", "ok"))
    details = entry.get("details") or {}
    source = entry.get("indicator") or details.get("indicator") or ""
    known = status in KNOWN_STATUSES
    parts = [f'<article class="result {escape(status if known else "unknown")}" '
             f'id="result-{number}">',
             f"<h3>{escape(str(entry.get('name', '')))} {status_badge(status)}</h3>"]
    if source:
        parts.append(f'<p class="meta">indicator {escape(str(source))}</p>')
    notes = result_warnings(entry)
    if not known:
        notes.insert(0, unknown_status_note(status))
    parts.append(warnings_html(notes, "warnings of this result"))
    table = details.get("table")
    has_table = isinstance(table, dict) and table.get("columns") \
        and isinstance(table.get("rows"), list)
    value = entry.get("value")
    better = entry.get("better") or details.get("better")
    # every status but failed and skipped shows its value (an unknown one too: never hidden)
    computed = status not in ("failed", "skipped")
    if computed and value is not None and not (isinstance(value, dict) and has_table):
        parts.append(value_html(value, entry.get("interval"), entry.get("interval_level"),
                                details.get("value_keys", DEFAULT_VALUE_KEYS), better))
    elif computed and has_table and direction(better):  # the value is the details table
        parts.append(f'<p class="meta">{escape(direction(better))}</p>')
    if entry.get("explanation"):
        parts.append(f'<p class="explanation">{escape(str(entry["explanation"]))}</p>')
    if entry.get("error"):
        parts.append(f'<p class="error">{escape(str(entry["error"]))}</p>')
    if has_table:
        parts.append(table_html(table["columns"], table["rows"]))
    for i, plot in enumerate(entry.get("plots") or []):
        parts.append(render_plot(plot, f"p{number}-{i}"))
    parts.append(details_html(details))
    parts.append("</article>")
    return "".join(parts)


def fact_text(value: Any) -> str:
    """A run fact as plain text: a list comma-separated, a string as it is."""
    if isinstance(value, list):
        return ", ".join(fact_text(v) for v in value)
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def warnings_html(warnings: Any, label: str = "warnings") -> str:
    """Warnings (of the run, or of one result) as a visible block, each labelled "warning"
    ("" when none)."""
    items = [str(w) for w in warnings if str(w).strip()] \
        if isinstance(warnings, list) else []
    if not items:
        return ""
    shown = "".join(f'<p class="warning"><strong class="label">warning</strong> '
                    f"{escape(w)}</p>" for w in items)
    return f'<div class="warnings" role="note" aria-label="{escape(label)}">{shown}</div>'


def description_html(run: dict[str, Any]) -> str:
    """What the run is for (the pipeline's description), or "" when it has none."""
    text = str(run.get("description") or "").strip()
    return f'<p class="description">{escape(text)}</p>' if text else ""


def run_facts_html(report: dict[str, Any]) -> str:
    run = report.get("run") or {}
    facts = [f"run {run.get('run_id') or '—'}", f"task {run.get('task') or '—'}",
             f"status {run.get('status') or '—'}", f"seed {run.get('seed')}",
             f"started {run.get('started_at') or '—'}"]
    comps = run.get("components")
    line = " · ".join(escape(str(f)) for f in facts)
    if isinstance(comps, dict) and comps:
        line += "<br>" + " · ".join(f"{escape(str(k))}: {escape(fact_text(v))}"
                                    for k, v in comps.items())
    evaluated = run.get("evaluates")
    if isinstance(evaluated, dict):
        line += ("<br>evaluates the saved model of run "
                 f"{escape(str(evaluated.get('run_id') or '—'))} "
                 f"({escape(str(evaluated.get('run_dir') or '—'))}) on every record of the file")
    if run.get("error"):
        line += f'<br><span class="error">{escape(str(run["error"]))}</span>'
    return f'<p class="meta">{line}</p>'


def page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}</body>"
            "</html>\n")


def numbered_results(entries: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """The results with the numbers of their articles (``id="result-N"``), in the order the
    page shows them: by dimension, then those of no known dimension from 10,000."""
    placed = [e for d in DIMENSIONS for e in entries if e.get("dimension") == d]
    others = [e for e in entries if e.get("dimension") not in DIMENSIONS]
    return list(enumerate(placed, 1)) + [(10_000 + i, e) for i, e in enumerate(others)]


def render_report_html(report: dict[str, Any]) -> str:
    """The whole report as one HTML document (a string)."""
    run = report.get("run") or {}
    name = str(run.get("name") or run.get("run_id") or "run")
    entries = report.get("indicators") or []
    nav = "".join(f'<li><a href="#dimension-{d}">{escape(DIMENSION_TITLES.get(d, d))}</a></li>'
                  for d in DIMENSIONS)
    numbered = numbered_results(entries)
    placed = sum(1 for e in entries if e.get("dimension") in DIMENSIONS)
    others = [e for e in entries if e.get("dimension") not in DIMENSIONS]
    sections = []
    for dimension in DIMENSIONS:
        content = "".join(result_html(e, n) for n, e in numbered
                          if e.get("dimension") == dimension) or \
            '<p class="empty">No indicator of this dimension was computed in this run.</p>'
        sections.append(
            f'<section id="dimension-{dimension}" class="dimension">'
            f"<h2>{escape(DIMENSION_TITLES.get(dimension, dimension))}</h2>"
            f'<p class="meta">{escape(DIMENSION_INTRO.get(dimension, ""))}</p>{content}'
            "</section>")
    if others:
        sections.append('<section id="dimension-other"><h2>Other</h2>' + "".join(
            result_html(e, n) for n, e in numbered[placed:]) + "</section>")
    env = report.get("environment") or {}
    schema = escape(str(report.get("schema_version")))
    footer = (f'<footer><p class="meta">mlstat report schema {schema}'
              f" · generated {escape(str(report.get('generated_at', '')))}"
              f" · Python {escape(str(env.get('python', '—')))}"
              f" · mlstat-core {escape(str(env.get('mlstat_core', '—')))}</p></footer>")
    body = (f"<header><h1>Quality report: {escape(name)}</h1>{description_html(run)}"
            f"{warnings_html(run.get('warnings'))}{run_facts_html(report)}"
            f'<nav aria-label="dimensions"><ul>{nav}</ul></nav></header>'
            f"<main>{headline_html(report, numbered)}{''.join(sections)}</main>{footer}")
    return page(f"Quality report: {name}", body)
