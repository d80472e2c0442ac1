"""Draw report plots as inline SVG with matplotlib (Agg, no pyplot, imported lazily).

A plot is the JSON form of :class:`~mlstat_core.components.Plot`: ``kind`` is ``heatmap``,
``line``, ``bar`` or ``hist`` with ``data`` as documented in ``docs/report-schema.md``, or the
plot carries a ready ``svg`` / ``png_base64``. Ready images from plugins are embedded as
``<img>`` data URIs, never inline, so a plugin's SVG cannot run script in the report.
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

PALETTE = ["#1f5f8b", "#b35806", "#2e7d32", "#b5446e", "#5e4fa2", "#7a5c1e"]
"""Series colours, each at least 4.5:1 against white (WCAG 1.4.11 asks 3:1 of a graphic)."""
LINESTYLES = [("-", "solid"), ("--", "dashed"), ("-.", "dash-dotted"), (":", "dotted")]
MARKERS = [("o", "circles"), ("s", "squares"), ("^", "triangles"), ("D", "diamonds"),
           ("v", "down triangles"), ("P", "crosses")]
"""Each series is told apart by its line style and marker too, never by colour alone."""
HATCHES = ["", "//", "..", "xx", "\\\\", "++"]
"""Fill patterns of the bars of grouped series after the first."""
MARKS_PER_LINE = 12
"""About this many markers on a long line (every point is marked up to 30)."""
MAX_TABLE_CELLS = 2500
"""A heat map with at most this many cells lists its values as a table too."""
MAX_ANNOTATED_CELLS = 15
MIN_SCALE = 0.75
"""An inline plot is never drawn narrower than this share of its natural width (its 8 pt tick
labels stay about 8 px): on a narrow screen its box scrolls sideways instead."""
PX_PER_PT = 4 / 3


def writable_matplotlib_config() -> None:
    """Give matplotlib a writable config folder when the user's is not (a read-only HOME on a
    server), so that it does not complain on stderr at every run: one folder per user under
    the temporary folder, kept between runs. An MPLCONFIGDIR the user set is kept. Called
    before this module imports matplotlib."""
    import getpass
    import tempfile

    if os.environ.get("MPLCONFIGDIR"):
        return
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    probe = next((p for p in (config / "matplotlib", config, config.parent) if p.exists()),
                 config.parent)
    if not os.access(probe, os.W_OK):
        user = os.getuid() if hasattr(os, "getuid") else getpass.getuser()  # Windows: no uid
        folder = Path(tempfile.gettempdir()) / f"mlstat-matplotlib-{user}"
        folder.mkdir(mode=0o700, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = str(folder)


writable_matplotlib_config()


class PlotError(ValueError):
    """The plot's data do not fit its kind."""


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def luminance(rgb: Any) -> float:
    """WCAG relative luminance of an RGB(A) colour with channels in 0..1."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(float(c)) for c in tuple(rgb)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: Any, second: Any) -> float:
    """WCAG contrast ratio of two RGB(A) colours (1 to 21)."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_colour(background: Any) -> str:
    """Black or white, whichever contrasts more with ``background`` (always above 4.5:1)."""
    white, black = (1.0, 1.0, 1.0), (0.0, 0.0, 0.0)
    return "white" if contrast(background, white) >= contrast(background, black) else "black"


def _number_text(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"


def _heatmap(data: dict[str, Any]) -> Any:
    values = np.asarray(data["values"], dtype=float)
    if values.ndim != 2:
        raise PlotError("heatmap values must be a 2-D table")
    rows, cols = values.shape
    x_labels = [str(v) for v in data.get("x_labels", range(cols))]
    y_labels = [str(v) for v in data.get("y_labels", range(rows))]
    size = min(10.0, 3.0 + 0.3 * max(rows, cols))
    fig = _figure(size + 1.2, size)
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues", aspect="auto")
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xticks(range(cols), x_labels, rotation=90 if cols > 6 else 0, fontsize=8)
    ax.set_yticks(range(rows), y_labels, fontsize=8)
    ax.set_xlabel(data.get("x_title", ""))
    ax.set_ylabel(data.get("y_title", ""))
    if max(rows, cols) <= MAX_ANNOTATED_CELLS:
        for i in range(rows):
            for j in range(cols):
                v = values[i, j]
                if not np.isfinite(v):
                    continue
                # the text colour follows the cell's own colour (the map spans min..max)
                ax.text(j, i, _number_text(v), ha="center", va="center", fontsize=8,
                        color=text_colour(image.cmap(image.norm(v))))
    return fig


def _ranges(ax: Any, data: dict[str, Any]) -> None:
    if data.get("x_range"):
        ax.set_xlim(*data["x_range"])
    if data.get("y_range"):
        ax.set_ylim(*data["y_range"])


def marked_points(y: list[Any]) -> list[int]:
    """The points of a line that get a marker: all of up to 30, else about
    :data:`MARKS_PER_LINE` evenly spaced, and always a value between two gaps (None), which
    draws no line and would otherwise not show at all."""
    present = [v is not None and not (isinstance(v, float) and np.isnan(v)) for v in y]
    n = len(present)
    step = 1 if n <= 30 else max(1, n // MARKS_PER_LINE)
    alone = {i for i in range(n) if present[i] and (i == 0 or not present[i - 1])
             and (i == n - 1 or not present[i + 1])}
    return sorted(set(range(0, n, step)) | alone)


def _line(data: dict[str, Any]) -> Any:
    fig = _figure(6.4, 4.2)
    ax = fig.add_subplot()
    series = data.get("series") or []
    if isinstance(series, dict):
        series = [{"label": k, **v} for k, v in series.items()]
    for i, s in enumerate(series):
        ax.plot(s["x"], s["y"], linestyle=LINESTYLES[i % len(LINESTYLES)][0],
                marker=MARKERS[i % len(MARKERS)][0], markersize=4, linewidth=1.8,
                markevery=marked_points(s["y"]), color=PALETTE[i % len(PALETTE)],
                label=s.get("label"))
    if data.get("diagonal"):
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    for h in data.get("hlines") or []:
        ax.axhline(h["y"], linestyle=":", color="#b22222", label=h.get("label"))
    for m in data.get("markers") or []:
        ax.plot([m["x"]], [m["y"]], marker="D", color="#b22222", markersize=7)
        if m.get("label"):
            ax.annotate(m["label"], (m["x"], m["y"]), textcoords="offset points",
                        xytext=(6, -12), fontsize=8)
    ax.set_xlabel(data.get("x_label", ""))
    ax.set_ylabel(data.get("y_label", ""))
    _ranges(ax, data)
    ax.grid(alpha=0.3)
    if any(s.get("label") for s in series) or data.get("diagonal") or data.get("hlines"):
        ax.legend(fontsize=8)
    return fig


def _bar(data: dict[str, Any]) -> Any:
    labels = [str(v) for v in data["labels"]]
    series = data.get("series") or {}
    if not isinstance(series, dict):
        series = {"value": series}
    horizontal = bool(data.get("horizontal"))
    n = len(labels)
    long = 2.5 + 0.28 * n * max(1, len(series)) ** 0.5
    fig = _figure(6.4, min(12, long)) if horizontal else _figure(min(14, max(6.4, long)), 4.2)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(series))
    positions = np.arange(n)
    for i, (name, values) in enumerate(series.items()):
        vals = np.asarray([np.nan if v is None else v for v in values], dtype=float)
        offset = positions - 0.4 + width * (i + 0.5)
        look = {"label": name, "color": PALETTE[i % len(PALETTE)]}
        if len(series) > 1:  # grouped series: told apart by a pattern too
            look.update(hatch=HATCHES[i % len(HATCHES)], edgecolor="white", linewidth=0.5)
        if horizontal:
            ax.barh(offset, vals, height=width, **look)
        else:
            ax.bar(offset, vals, width=width, **look)
    if horizontal:
        ax.set_yticks(positions, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(data.get("x_label", ""))
    else:
        ax.set_xticks(positions, labels, rotation=90 if n > 8 else 0, fontsize=8)
        ax.set_ylabel(data.get("y_label", ""))
    _ranges(ax, data)
    ax.grid(alpha=0.3, axis="x" if horizontal else "y")
    if len(series) > 1:
        ax.legend(fontsize=8)
    return fig


def _hist(data: dict[str, Any]) -> Any:
    series = data.get("series") or {}
    arrays = {k: np.asarray([v for v in vals if v is not None], dtype=float)
              for k, vals in series.items()}
    arrays = {k: v[np.isfinite(v)] for k, v in arrays.items()}
    everything = np.concatenate([v for v in arrays.values() if v.size] or [np.zeros(1)])
    edges = np.histogram_bin_edges(everything, bins=int(data.get("bins", 20)))
    fig = _figure(6.4, 4.0)
    ax = fig.add_subplot()
    for i, (name, values) in enumerate(arrays.items()):
        # outlines in full colour and each its own line style: overlapping translucent fills
        # fell below 3:1 against white and told the series apart by colour alone
        ax.hist(values, bins=edges, histtype="step", linewidth=1.8,
                linestyle=LINESTYLES[i % len(LINESTYLES)][0], label=f"{name} (n={values.size})",
                color=PALETTE[i % len(PALETTE)])
    ax.set_xlabel(data.get("x_label", ""))
    ax.set_ylabel("records")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


DRAW = {"heatmap": _heatmap, "line": _line, "bar": _bar, "hist": _hist}


def _svg_of(fig: Any, uid: str, title: str = "", description: str = "") -> str:
    """The figure as inline SVG, its ids made unique by ``uid``, named by ``title`` and
    described by ``description`` for assistive technology (its ``<title>`` and ``<desc>``)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "mlstat"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    # ids of several inline SVGs share one document: make them unique per figure
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{uid}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{uid}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{uid}-\1"', svg)
    name = html.escape(title.strip() or "Plot")
    aria = f' aria-labelledby="{uid}-title"'
    text = f'<title id="{uid}-title">{name}</title>'
    if description:
        aria += f' aria-describedby="{uid}-desc"'
        text += f'<desc id="{uid}-desc">{html.escape(description)}</desc>'
    svg = svg.replace("<svg ", f'<svg class="plot" role="img"{aria}{_min_width(svg)} ', 1)
    opening = svg.index(">") + 1
    return svg[:opening] + text + svg[opening:]


def _min_width(svg: str) -> str:
    """A ``style`` attribute keeping the plot at ``MIN_SCALE`` of its width in points, so that
    a narrow screen scrolls it rather than shrinking its text to nothing ("" if unknown)."""
    found = re.match(r'<svg\b[^>]*?\swidth="([0-9.]+)pt"', svg)
    if not found:
        return ""
    return f' style="min-width:{round(float(found.group(1)) * PX_PER_PT * MIN_SCALE)}px"'


DRAW_ERRORS = (PlotError, KeyError, TypeError, ValueError, binascii.Error)
"""What drawing a plot from malformed data raises (:func:`plot_body`)."""


def plot_body(plot: dict[str, Any], uid: str) -> str:
    """The plot as HTML: inline SVG drawn from its data (named by its title, described in
    words), or its ready image; raises one of DRAW_ERRORS when its data cannot be drawn."""
    title = html.escape(str(plot.get("title", "")))
    kind = str(plot.get("kind", ""))
    if kind in DRAW and plot.get("data"):
        figure = DRAW[kind](plot["data"])
        return _svg_of(figure, uid, str(plot.get("title", "")), describe(kind, plot["data"]))
    if plot.get("svg"):
        encoded = base64.b64encode(str(plot["svg"]).encode("utf-8")).decode("ascii")
        return f'<img class="plot" alt="{title}" src="data:image/svg+xml;base64,{encoded}">'
    if plot.get("png_base64"):
        raw = base64.b64decode(str(plot["png_base64"]), validate=True)
        if not raw.startswith(b"\x89PNG"):
            raise PlotError("png_base64 is not a PNG image")
        encoded = base64.b64encode(raw).decode("ascii")
        return f'<img class="plot" alt="{title}" src="data:image/png;base64,{encoded}">'
    raise PlotError(f"no data to draw a plot of kind {kind!r}")


def _num(value: Any) -> str:
    from mlstat_core.report.html import fmt_number

    return fmt_number(value)


def _listed(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _style(i: int) -> str:
    return f"{LINESTYLES[i % len(LINESTYLES)][1]} line with {MARKERS[i % len(MARKERS)][1]}"


def describe(kind: str, data: dict[str, Any]) -> str:
    """A short description in words of a plot drawn from ``data`` (what its axes, series and
    lines are, and how each series looks); "" when there is nothing to say."""
    try:
        text = DESCRIBE[kind](data) if kind in DESCRIBE else ""
    except DRAW_ERRORS + (IndexError, AttributeError):
        return ""
    return text.strip()


def _describe_heatmap(data: dict[str, Any]) -> str:
    values = np.asarray(data["values"], dtype=float)
    rows, cols = values.shape
    finite = values[np.isfinite(values)]
    text = (f"Heat map of {rows} rows ({data.get('y_title') or 'rows'}) by {cols} columns "
            f"({data.get('x_title') or 'columns'}); the darker a cell, the larger its value")
    if finite.size:
        text += f", from {_num(_plain(finite.min()))} to {_num(_plain(finite.max()))}"
    listed = rows * cols <= MAX_TABLE_CELLS
    return text + (". The values are listed in the table under the plot." if listed else ".")


def _describe_line(data: dict[str, Any]) -> str:
    series = data.get("series") or []
    if isinstance(series, dict):
        series = [{"label": k, **v} for k, v in series.items()]
    parts = [f"{s.get('label') or f'series {i + 1}'} ({_style(i)})"
             for i, s in enumerate(series)]
    text = f"Line chart of {_listed(parts)}" if parts else "Line chart"
    text += f" against {data.get('x_label') or 'x'}"
    if data.get("y_label"):
        text += f", {data['y_label']} upwards"
    extra = [f"dotted red line at {_num(h['y'])}: {h.get('label') or 'reference'}"
             for h in data.get("hlines") or []]
    if data.get("diagonal"):
        extra.append("dashed grey diagonal: perfect agreement")
    extra += [f"red diamond at ({_num(m['x'])}, {_num(m['y'])})"
              + (f": {m['label']}" if m.get("label") else "") for m in data.get("markers") or []]
    return text + ("; " + "; ".join(extra) if extra else "") + "."


HATCH_NAMES = ["plain", "hatched with diagonal lines", "dotted", "cross-hatched",
               "hatched with back-diagonal lines", "hatched with plus signs"]
MAX_DESCRIBED_BARS = 12
"""Up to this many bars of one series are described with their values."""


def _describe_bar(data: dict[str, Any]) -> str:
    labels = [str(v) for v in data["labels"]]
    series = data.get("series") or {}
    if not isinstance(series, dict):
        series = {"value": series}
    names = [f"{name} ({HATCH_NAMES[i % len(HATCH_NAMES)]})" if len(series) > 1 else str(name)
             for i, name in enumerate(series)]
    text = f"Bar chart of {_listed(names) if names else 'values'} for {len(labels)} categories"
    label = data.get("x_label") if data.get("horizontal") else data.get("y_label")
    if label:
        text += f" ({label})"
    if len(series) == 1 and len(labels) <= MAX_DESCRIBED_BARS:
        values = next(iter(series.values()))
        text += ": " + ", ".join(f"{k} {_num(v)}" for k, v in zip(labels, values, strict=False))
    return text + "."


def _describe_hist(data: dict[str, Any]) -> str:
    series = data.get("series") or {}
    parts = [f"{name} ({sum(1 for v in values if v is not None)} values, "
             f"{LINESTYLES[i % len(LINESTYLES)][1]} outline)"
             for i, (name, values) in enumerate(series.items())]
    text = f"Histogram of {_listed(parts)}" if parts else "Histogram"
    return text + f" over {data.get('x_label') or 'the values'}, on common bins."


DESCRIBE = {"heatmap": _describe_heatmap, "line": _describe_line, "bar": _describe_bar,
            "hist": _describe_hist}


def _plain(value: Any) -> Any:
    """A numpy number as a Python int (when whole) or float, for formatting."""
    value = float(value)
    return int(value) if value.is_integer() else value


def values_table(title: str, data: dict[str, Any]) -> str:
    """A heat map's values as a folded table (its rows and columns labelled), so that they can
    be read as text; a short note instead when there are too many; "" when it cannot."""
    from mlstat_core.report.html import cell, scrolling

    try:
        values = np.asarray(data["values"], dtype=float)
        rows, cols = values.shape
    except DRAW_ERRORS:
        return ""
    if rows * cols > MAX_TABLE_CELLS:
        return (f'<p class="meta">The {rows} × {cols} values of this plot are in report.json '
                "(too many to list here).</p>")
    x_labels = [str(v) for v in data.get("x_labels", range(cols))]
    y_labels = [str(v) for v in data.get("y_labels", range(rows))]
    x_title, y_title = str(data.get("x_title") or ""), str(data.get("y_title") or "")
    corner = y_title or "row"  # heads the column of row labels; the caption names columns
    scale = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.0
    head = f'<th scope="col">{html.escape(corner)}</th>' + "".join(
        f'<th scope="col">{html.escape(x)}</th>' for x in x_labels)
    body = "".join(
        f'<tr><th scope="row">{html.escape(y_labels[i] if i < len(y_labels) else str(i))}</th>'
        + "".join(cell(_plain(v) if np.isfinite(v) else None, scale) for v in values[i])
        + "</tr>" for i in range(rows))
    what = f"Rows: {y_title or 'rows'}; columns: {x_title or 'columns'}."
    table = (f"<table><caption>{html.escape(what)}</caption><thead><tr>{head}</tr></thead>"
             f"<tbody>{body}</tbody></table>")
    return (f'<details class="plot-values"><summary>Values of the plot "{html.escape(title)}"'
            f" as a table</summary>{scrolling(table)}</details>")


def render_plot(plot: dict[str, Any], uid: str) -> str:
    """HTML for one plot (:func:`plot_body`) in its figure, a heat map's values folded under it
    as a table; a short note (never an exception) when it cannot be drawn."""
    title = html.escape(str(plot.get("title", "")))
    kind = str(plot.get("kind", ""))
    extra = ""
    try:
        body = plot_body(plot, uid)
        if kind == "heatmap" and isinstance(plot.get("data"), dict):
            extra = values_table(str(plot.get("title", "")), plot["data"])
    except DRAW_ERRORS as exc:
        body = (f'<p class="plot-error">This plot could not be drawn: '
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>")
    return (f'<figure class="plot" data-kind="{html.escape(kind)}">'
            f'<div class="plot-box">{body}</div>{extra}<figcaption>{title}</figcaption></figure>')
