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
import re
from typing import Any

import numpy as np

PALETTE = ["#1f5f8b", "#e07b39", "#4a9a5b", "#b5446e", "#7a6fb0", "#8c6d31"]
MAX_ANNOTATED_CELLS = 15
MIN_SCALE = 0.75
"""An inline plot is never drawn narrower than this share of its natural width (its 8 pt tick
labels stay about 8 px): on a narrow screen its box scrolls sideways instead."""
PX_PER_PT = 4 / 3


class PlotError(ValueError):
    """The plot's data do not fit its kind."""


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


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
        top = np.nanmax(values) if values.size else 0
        for i in range(rows):
            for j in range(cols):
                v = values[i, j]
                text = f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if top and v > top / 2 else "black")
    return fig


def _ranges(ax: Any, data: dict[str, Any]) -> None:
    if data.get("x_range"):
        ax.set_xlim(*data["x_range"])
    if data.get("y_range"):
        ax.set_ylim(*data["y_range"])


def _line(data: dict[str, Any]) -> Any:
    fig = _figure(6.4, 4.2)
    ax = fig.add_subplot()
    series = data.get("series") or []
    if isinstance(series, dict):
        series = [{"label": k, **v} for k, v in series.items()]
    for i, s in enumerate(series):
        ax.plot(s["x"], s["y"], marker="o" if len(s["x"]) <= 30 else None, markersize=3,
                color=PALETTE[i % len(PALETTE)], label=s.get("label"))
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
        if horizontal:
            ax.barh(offset, vals, height=width, label=name, color=PALETTE[i % len(PALETTE)])
        else:
            ax.bar(offset, vals, width=width, label=name, color=PALETTE[i % len(PALETTE)])
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
        ax.hist(values, bins=edges, alpha=0.5, label=f"{name} (n={values.size})",
                color=PALETTE[i % len(PALETTE)], edgecolor=PALETTE[i % len(PALETTE)])
    ax.set_xlabel(data.get("x_label", ""))
    ax.set_ylabel("records")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


DRAW = {"heatmap": _heatmap, "line": _line, "bar": _bar, "hist": _hist}


def _svg_of(fig: Any, uid: str) -> str:
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
    return svg.replace("<svg ", f'<svg class="plot" role="img"{_min_width(svg)} ', 1)


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
    """The plot as HTML: inline SVG drawn from its data, or its ready image; raises one of
    DRAW_ERRORS when its data cannot be drawn."""
    title = html.escape(str(plot.get("title", "")))
    kind = str(plot.get("kind", ""))
    if kind in DRAW and plot.get("data"):
        return _svg_of(DRAW[kind](plot["data"]), uid)
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


def render_plot(plot: dict[str, Any], uid: str) -> str:
    """HTML for one plot (:func:`plot_body`) in its figure; a short note (never an
    exception) when it cannot be drawn."""
    title = html.escape(str(plot.get("title", "")))
    kind = str(plot.get("kind", ""))
    try:
        body = plot_body(plot, uid)
    except DRAW_ERRORS as exc:
        body = (f'<p class="plot-error">This plot could not be drawn: '
                f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>")
    return (f'<figure class="plot" data-kind="{html.escape(kind)}">'
            f'<div class="plot-box">{body}</div><figcaption>{title}</figcaption></figure>')
