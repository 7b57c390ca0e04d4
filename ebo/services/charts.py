"""Small server-side SVG charts, readable without colour and without JavaScript, each with its data table.

Every SVG has ``role="img"``, a ``<title>`` and a ``<desc>`` tied with ``aria-labelledby``; every series
has a text label and every value is written out; series differ by dash pattern and marker shape, bars by
hatching. Only presentation attributes are used (no ``style``), so the strict CSP allows them inline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

INKS = ("#00506e", "#7a4b00", "#1b1f23", "#1d6b30")
DASHES = ("", "8 4", "2 3", "12 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond")


@dataclass
class Chart:
    """An SVG chart and the table of the same figures shown beneath it."""

    svg: Markup
    title: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def format_value(value: float) -> str:
    """A value as text in the user's locale: whole numbers without decimals, else one ("2,5" in Swedish)."""
    from flask_babel import format_decimal

    from ebo.ui import _number_pattern

    return format_decimal(value, format=_number_pattern("#,##0.#"))


def value_formatter():
    """`format_value` remembering what it wrote, for one chart (one locale): a chart writes the same few
    values many times (in a bar, beside it and in its table)."""
    written: dict = {}

    def fmt(value: float) -> str:
        text = written.get(value)
        if text is None:
            text = written[value] = format_value(value)
        return text

    return fmt


def _nice_max(value: float) -> int:
    """A round upper bound for the y axis."""
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return int(-(-value // step) * step)
    return int(value)


def _marker(shape: str, x: float, y: float, ink: str) -> str:
    """A small marker of the series' shape at (x, y)."""
    if shape == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{ink}"/>'
    if shape == "triangle":
        return (f'<path d="M{x:.1f},{y - 4.5:.1f} L{x + 4.5:.1f},{y + 3.5:.1f} '
                f'L{x - 4.5:.1f},{y + 3.5:.1f} Z" fill="{ink}"/>')
    if shape == "diamond":
        return (f'<path d="M{x:.1f},{y - 5:.1f} L{x + 5:.1f},{y:.1f} L{x:.1f},{y + 5:.1f} '
                f'L{x - 5:.1f},{y:.1f} Z" fill="{ink}"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{ink}"/>'


def svg_open(chart_id: str, width: int, height: int, title: str, desc: str, kind: str) -> list[str]:
    """The opening of an accessible SVG."""
    cid = escape(chart_id)
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" viewBox="0 0 {width} {height}" '
            f'role="img" aria-labelledby="{cid}-title {cid}-desc" focusable="false">',
            f'<title id="{cid}-title">{escape(title)}</title>',
            f'<desc id="{cid}-desc">{escape(desc)}</desc>']


def step_chart(chart_id: str, title: str, desc: str, x_labels: list[str],
               series: list[tuple[str, list[float]]], x_heading: str = "",
               row_labels: list[str] | None = None) -> Chart:
    """A step chart over time: a solid or dashed line per series, named at its end, each new value written."""
    width, height = 720, 300
    left, right, top, bottom = 44, 110, 36, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(x_labels), 1)
    y_max = _nice_max(max((v for _, vals in series for v in vals), default=0))
    step_w = plot_w / n

    def x_at(i: int) -> float:
        return left + i * step_w

    def y_at(v: float) -> float:
        return top + plot_h - (v / y_max) * plot_h

    parts = svg_open(chart_id, width, height, title, desc, "step")
    parts.append('<g class="chart-axis" font-size="11" fill="#1b1f23">')
    for tick in (0, y_max / 2, y_max):
        y = y_at(tick)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c4cbd2"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{format_value(tick)}</text>')
    every = max(1, -(-n // 12))
    for i, label in enumerate(x_labels):
        if i % every == 0:
            cx = x_at(i) + step_w / 2
            lines = "".join(f'<tspan x="{cx:.1f}" dy="{0 if j == 0 else 13}">{escape(line)}</tspan>'
                            for j, line in enumerate(label.split("\n")))
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{lines}</text>')
    if x_heading:
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">'
                     f'{escape(x_heading)}</text>')
    parts.append('</g>')
    label_ys: list[float] = []
    for k, (name, values) in enumerate(series):
        ink, dash, shape = INKS[k % 4], DASHES[k % 4], MARKERS[k % 4]
        if not values:
            continue
        d = []
        for i, v in enumerate(values):
            y = y_at(v)
            d.append(f"{'M' if i == 0 else 'L'}{x_at(i):.1f},{y:.1f} L{x_at(i + 1):.1f},{y:.1f}")
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<g class="chart-series"><path d="{" ".join(d)}" fill="none" stroke="{ink}" '
                     f'stroke-width="2.5"{dash_attr}/>')
        for i, v in enumerate(values):
            cx, cy = x_at(i) + step_w / 2, y_at(v)
            parts.append(_marker(shape, cx, cy, ink))
            # each new value is written where the line reaches it (all values are in the table beneath)
            if i == 0 or v != values[i - 1]:
                ty = cy - 8 - 13 * k
                parts.append(f'<text x="{cx:.1f}" y="{ty:.1f}" font-size="11" font-weight="600" '
                             f'text-anchor="middle" fill="{ink}">{format_value(v)}</text>')
        ly = y_at(values[-1]) + 4
        while any(abs(ly - other) < 14 for other in label_ys):
            ly += 14
        label_ys.append(ly)
        parts.append(f'<text x="{left + plot_w + 8}" y="{ly:.1f}" font-size="12" fill="{ink}" '
                     f'font-weight="600">{escape(name)}</text></g>')
    parts.append("</svg>")
    rows = [[label, *[format_value(vals[i]) if i < len(vals) else "" for _, vals in series]]
            for i, label in enumerate(row_labels or [x.replace("\n", " ") for x in x_labels])]
    return Chart(Markup("".join(parts)), title, [x_heading, *[name for name, _ in series]], rows)  # noqa: S704


def bar_chart(chart_id: str, title: str, desc: str, items: list[tuple[str, float]],
              heading: str = "", value_heading: str = "") -> Chart:
    """A bar chart: each bar hatched differently, its value above it and its label beneath."""
    width, height = 560, 260
    left, right, top, bottom = 20, 20, 28, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(items), 1)
    y_max = _nice_max(max((v for _, v in items), default=0))
    slot = plot_w / n
    bar_w = min(90.0, slot * 0.6)
    cid = escape(chart_id)
    parts = svg_open(chart_id, width, height, title, desc, "bar")
    patterns = ('<path d="M0,8 L8,0" stroke="{ink}" stroke-width="2"/>',
                '<path d="M0,4 L8,4" stroke="{ink}" stroke-width="2"/>',
                '<circle cx="4" cy="4" r="1.8" fill="{ink}"/>',
                '<path d="M4,0 L4,8" stroke="{ink}" stroke-width="2"/>')
    parts.append("<defs>")
    for k in range(min(n, 4)):
        ink = INKS[k % 4]
        parts.append(f'<pattern id="{cid}-p{k}" patternUnits="userSpaceOnUse" width="8" height="8">'
                     f'<rect width="8" height="8" fill="#ffffff"/>{patterns[k].format(ink=ink)}</pattern>')
    parts.append("</defs>")
    base = top + plot_h
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{base}" y2="{base}" stroke="#1b1f23"/>')
    for i, (label, value) in enumerate(items):
        ink = INKS[i % 4]
        h = (value / y_max) * plot_h
        x = left + i * slot + (slot - bar_w) / 2
        parts.append(f'<g class="chart-bar"><rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" '
                     f'height="{h:.1f}" fill="url(#{cid}-p{i % 4})" stroke="{ink}" stroke-width="2"/>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base - h - 6:.1f}" text-anchor="middle" '
                     f'font-size="13" font-weight="600" fill="#1b1f23">{format_value(value)}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{base + 18}" text-anchor="middle" font-size="12" '
                     f'fill="#1b1f23">{escape(label)}</text></g>')
    parts.append("</svg>")
    rows = [[label, format_value(value)] for label, value in items]
    return Chart(Markup("".join(parts)), title, [heading, value_heading], rows)  # noqa: S704
