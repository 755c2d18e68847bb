"""Server-rendered SVG bar chart (presentation attributes only: the Content-Security-Policy
forbids style attributes; no script)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

SENT, RECEIVED = "#0b5cad", "#c2185b"


def bar_chart(rows: Sequence[tuple[str, int, int]], *, title: str, desc: str, legend: tuple[str, str]) -> str:
    """Horizontal grouped bars: for each label, requests sent and received."""
    left, right, top, bar, gap = 150, 56, 36, 12, 14
    width = 640
    plot_w = width - left - right
    height = top + max(len(rows), 1) * (2 * bar + gap) + 8
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="report-chart-title report-chart-desc" class="chart">'
        f'<title id="report-chart-title">{escape(title)}</title><desc id="report-chart-desc">{escape(desc)}</desc>'
    )
    font = 'font-size="12" fill="#1d2733"'
    parts = [
        f'<rect x="{left}" y="8" width="12" height="12" fill="{SENT}"/>',
        f'<text x="{left + 18}" y="18" {font}>{escape(legend[0])}</text>',
        f'<rect x="{left + 150}" y="8" width="12" height="12" fill="{RECEIVED}"/>',
        f'<text x="{left + 168}" y="18" {font}>{escape(legend[1])}</text>',
        f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{height - 4}" stroke="#5b6675"/>',
    ]
    most = max((max(s, r) for _, s, r in rows), default=0) or 1
    for i, (label, sent, received) in enumerate(rows):
        y = top + i * (2 * bar + gap)
        parts.append(f'<text x="{left - 6}" y="{y + bar + 4}" text-anchor="end" {font}>{escape(label)}</text>')
        for j, (value, colour, name) in enumerate(((sent, SENT, legend[0]), (received, RECEIVED, legend[1]))):
            w = plot_w * value / most
            by = y + j * bar
            parts.append(
                f'<rect x="{left}" y="{by}" width="{w:.1f}" height="{bar - 1}" fill="{colour}">'
                f"<title>{escape(label)} · {escape(name)}: {value}</title></rect>"
                f'<text x="{left + w + 4:.1f}" y="{by + bar - 2}" {font}>{value}</text>'
            )
    return head + "".join(parts) + "</svg>"
