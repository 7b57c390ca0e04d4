"""Stacked horizontal bars for the Plus 5 % pages, in the style of ebo.services.charts.

Readable without colour: each series has its own hatching, a legend with the same swatch and name,
and every segment wide enough carries its value; the whole figure is in the table beneath.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from ebo.services.charts import INKS, Chart, svg_open, value_formatter

PATTERNS = ('<path d="M0,8 L8,0" stroke="{ink}" stroke-width="2"/>',
            '<circle cx="4" cy="4" r="1.8" fill="{ink}"/>',
            '<path d="M0,4 L8,4 M4,0 L4,8" stroke="{ink}" stroke-width="1.5"/>',
            '<path d="M0,4 L8,4" stroke="{ink}" stroke-width="2"/>')


def stacked_bars(chart_id: str, title: str, desc: str, rows: list[tuple[str, list[float]]],
                 series: list[str], heading: str = "", total_heading: str = "",
                 reference: tuple[str, float] | None = None) -> Chart:
    """One horizontal bar per row, stacked by series; an optional dashed reference line (a target)."""
    format_value = value_formatter()
    width = 720
    label_w, right, top, row_h, bar_h = 120, 70, 44, 34, 22
    height = top + row_h * max(len(rows), 1) + 28
    plot_w = width - label_w - right
    biggest = max([sum(v) for _, v in rows] + [reference[1] if reference else 0] + [1])
    cid = escape(chart_id)
    parts = svg_open(chart_id, width, height, title, desc, "stacked")
    parts.append("<defs>")
    for k in range(len(series)):
        ink = INKS[k % 4]
        parts.append(f'<pattern id="{cid}-s{k}" patternUnits="userSpaceOnUse" width="8" height="8">'
                     f'<rect width="8" height="8" fill="#ffffff"/>{PATTERNS[k % 4].format(ink=ink)}</pattern>')
    parts.append("</defs>")
    # Legend: swatch and name per series.
    x = label_w
    for k, name in enumerate(series):
        ink = INKS[k % 4]
        parts.append(f'<rect x="{x}" y="8" width="18" height="14" fill="url(#{cid}-s{k})" stroke="{ink}" '
                     f'stroke-width="1.5"/><text x="{x + 24}" y="20" font-size="12" fill="#1b1f23">'
                     f'{escape(name)}</text>')
        x += 34 + 7.2 * len(name)
    for i, (label, values) in enumerate(rows):
        y = top + i * row_h
        parts.append(f'<g class="chart-row"><text x="{label_w - 8}" y="{y + bar_h / 2 + 4:.1f}" font-size="12" '
                     f'text-anchor="end" fill="#1b1f23">{escape(label)}</text>')
        x = float(label_w)
        for k, v in enumerate(values):
            w = plot_w * v / biggest
            if w <= 0:
                continue
            ink = INKS[k % 4]
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="url(#{cid}-s{k})" '
                         f'stroke="{ink}" stroke-width="1.5"/>')
            if w >= 8 * len(format_value(v)) + 8:
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + bar_h / 2 + 4:.1f}" font-size="11" '
                             f'font-weight="700" text-anchor="middle" fill="#1b1f23" stroke="#ffffff" '
                             f'stroke-width="3" paint-order="stroke">{format_value(v)}</text>')
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + bar_h / 2 + 4:.1f}" font-size="12" font-weight="600" '
                     f'fill="#1b1f23">{format_value(sum(values))}</text></g>')
    if reference:
        name, value = reference
        rx = label_w + plot_w * value / biggest
        parts.append(f'<g class="chart-reference"><line x1="{rx:.1f}" x2="{rx:.1f}" y1="{top - 6}" '
                     f'y2="{height - 22}" stroke="#1b1f23" stroke-width="2" stroke-dasharray="6 4"/>'
                     f'<text x="{rx:.1f}" y="{height - 8}" font-size="12" font-weight="600" text-anchor="middle" '
                     f'fill="#1b1f23">{escape(name)} {format_value(value)}</text></g>')
    parts.append("</svg>")
    table = [[label, *[format_value(v) for v in values], format_value(sum(values))] for label, values in rows]
    return Chart(Markup("".join(parts)), title, [heading, *series, total_heading], table)  # noqa: S704
