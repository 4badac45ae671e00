"""The report's four plots, drawn with matplotlib's Agg canvas to PNG bytes.

No pyplot: each figure is a plain :class:`Figure` on its own canvas, so nothing needs a
display and nothing global is left behind. Times on the x axis are counted from the
session's start, in seconds, minutes or hours depending on the session's length.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from makerd.actors.quote_sampler import QuoteSample
from makerd.daemon.journal import EquitySnapshot, JournaledFill
from makerd.protocol.side import Side

NS_PER_S = 1_000_000_000
WIDTH_IN, HEIGHT_IN, DPI = 10.0, 4.0, 100


@dataclass(frozen=True, slots=True, kw_only=True)
class PlotInputs:
    """The journal rows the plots are drawn from."""

    started_ns: int
    equity: Sequence[EquitySnapshot]
    fills: Sequence[JournaledFill]
    quotes: Sequence[QuoteSample]
    max_position: Decimal | None


@dataclass(frozen=True, slots=True)
class TimeAxis:
    """Nanosecond timestamps to elapsed time in a unit that suits the session's length."""

    started_ns: int
    unit_ns: int
    label: str

    @classmethod
    def for_span(cls, started_ns: int, span_ns: int) -> TimeAxis:
        if span_ns > 10 * 3600 * NS_PER_S:
            return cls(started_ns, 3600 * NS_PER_S, "hours since start")
        if span_ns > 10 * 60 * NS_PER_S:
            return cls(started_ns, 60 * NS_PER_S, "minutes since start")
        return cls(started_ns, NS_PER_S, "seconds since start")

    def __call__(self, ts_ns: int) -> float:
        return (ts_ns - self.started_ns) / self.unit_ns


def render_all(inputs: PlotInputs) -> dict[str, bytes]:
    """Every plot as PNG bytes, by file name."""
    last = max(
        [s.ts_ns for s in inputs.equity]
        + [b.fill.ts_local for b in inputs.fills]
        + [q.ts_local for q in inputs.quotes],
        default=inputs.started_ns,
    )
    axis = TimeAxis.for_span(inputs.started_ns, last - inputs.started_ns)
    return {
        "equity.png": _equity(inputs, axis),
        "position.png": _position(inputs, axis),
        "quotes.png": _quotes(inputs, axis),
        "fills.png": _fills(inputs, axis),
    }


def _equity(inputs: PlotInputs, axis: TimeAxis) -> bytes:
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN * 1.5), dpi=DPI)
    top, bottom = figure.subplots(2, 1, sharex=True)
    times = [axis(s.ts_ns) for s in inputs.equity]
    totals = [float(s.total_pnl) for s in inputs.equity]
    peak = float("-inf")
    drawdowns = []
    for total in totals:
        peak = max(peak, total)
        drawdowns.append(total - peak)
    top.plot(times, totals, color="tab:blue", linewidth=1)
    top.set_ylabel("total PnL, net of fees (USD)")
    top.set_title("Equity")
    bottom.fill_between(times, drawdowns, 0, color="tab:red", alpha=0.4, step="post")
    bottom.set_ylabel("drawdown (USD)")
    bottom.set_xlabel(axis.label)
    return _png(figure, empty=not times, on=top)


def _position(inputs: PlotInputs, axis: TimeAxis) -> bytes:
    figure, axes = _single("Position", "position (base units)", axis)
    times = [axis(s.ts_ns) for s in inputs.equity]
    axes.step(times, [float(s.position) for s in inputs.equity], where="post", linewidth=1)
    if inputs.max_position is not None:
        limit = float(inputs.max_position)
        for level in (limit, -limit):
            axes.axhline(level, color="tab:red", linestyle="--", linewidth=1)
        axes.text(0.01, 0.95, f"limit ±{inputs.max_position}", transform=axes.transAxes)
    axes.axhline(0, color="grey", linewidth=0.5)
    return _png(figure, empty=not times, on=axes)


def _quotes(inputs: PlotInputs, axis: TimeAxis) -> bytes:
    title = "Our quotes against the touch (sampled once a second)"
    figure, axes = _single(title, "price (USD)", axis)
    times = [axis(q.ts_local) for q in inputs.quotes]

    def series(values: list[Decimal | None]) -> list[float]:
        return [float("nan") if v is None else float(v) for v in values]

    lines = (
        ([q.touch_bid for q in inputs.quotes], "grey", "market best bid / ask"),
        ([q.touch_ask for q in inputs.quotes], "grey", None),
        ([q.bid for q in inputs.quotes], "tab:green", "our best bid"),
        ([q.ask for q in inputs.quotes], "tab:red", "our best ask"),
    )
    for values, color, label in lines:
        axes.step(times, series(values), where="post", color=color, linewidth=1, label=label)
    if times:
        axes.legend(loc="upper left", fontsize="small")
    return _png(figure, empty=not times, on=axes)


def _fills(inputs: PlotInputs, axis: TimeAxis) -> bytes:
    figure, axes = _single("Fills on the price", "price (USD)", axis)
    marks = [s for s in inputs.equity if s.mark > 0]
    axes.plot([axis(s.ts_ns) for s in marks], [float(s.mark) for s in marks], color="grey",
              linewidth=1, label="mark")  # fmt: skip
    for side, color, marker in ((Side.BUY, "tab:green", "^"), (Side.SELL, "tab:red", "v")):
        ours = [b.fill for b in inputs.fills if b.fill.side is side]
        label = f"{side.name.lower()} fills"
        axes.scatter([axis(f.ts_local) for f in ours], [float(f.price) for f in ours],
                     color=color, marker=marker, s=18, label=label)  # fmt: skip
    if marks or inputs.fills:
        axes.legend(loc="upper left", fontsize="small")
    return _png(figure, empty=not marks and not inputs.fills, on=axes)


def _single(title: str, ylabel: str, axis: TimeAxis) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    axes = figure.subplots()
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.set_xlabel(axis.label)
    return figure, axes


def _png(figure: Figure, *, empty: bool, on: Axes) -> bytes:
    if empty:
        on.text(0.5, 0.5, "no data in the journal", ha="center", transform=on.transAxes)
    figure.tight_layout()
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)  # attaches itself to the figure: the Agg canvas, no display
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
