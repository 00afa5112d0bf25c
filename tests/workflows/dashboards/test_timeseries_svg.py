"""What a time series chart shows: its left axis spans the lines' values (the volume has an
axis of its own), and the rows' order (a query's) does not change the lines or the bars."""
from __future__ import annotations

import datetime as dt
import random
import re

from workflows.dashboards.charts import timeseries_svg

START = dt.date(2024, 1, 2)


def _rows():
    rng = random.Random(3)
    return [{"d": START + dt.timedelta(days=i), "s": s, "close": 100 + rng.uniform(-9, 9),
             "volume": rng.randint(1_000_000, 9_000_000)}
            for i in range(300) for s in ("AAA", "BBB")]


def _left_axis(svg: str) -> list[str]:
    return re.findall(r'<text x="58.0" [^>]*text-anchor="end"[^>]*>([^<]*)</text>', svg)  # 6 left of 64


def test_the_price_axis_spans_the_closes_and_the_volume_has_its_own():
    svg, legend = timeseries_svg(_rows(), x="d", y=("close",), y2=("volume",), series="s",
                                 unit="currencyUSD", width=600, height=220)
    assert _left_axis(svg) == ["$90", "$95", "$100", "$105", "$110"]
    right = re.findall(r'<text x="550.0" [^>]*text-anchor="start"[^>]*>([^<]*)</text>', svg)  # 6 right of 544
    assert right and all(label.endswith("M") for label in right)
    assert [label for label, _ in legend] == ["AAA", "BBB", "volume"]


def _drawn(rows) -> tuple[list[str], set[str]]:
    svg, _ = timeseries_svg(rows, x="d", y=("close",), y2=("volume",), series="s", width=600, height=220)
    return re.findall(r"<polyline[^>]*>", svg), set(re.findall(r"<rect[^>]*>", svg))


def test_rows_in_any_order_draw_the_same_lines_and_bars():
    rows = _rows()
    shuffled = rows[2:]
    random.Random(5).shuffle(shuffled)
    shuffled = rows[:2] + shuffled  # each series first where it was: its colour stays
    lines, bars = _drawn(rows)
    assert len(lines) == 2 and len(bars) > 100
    assert _drawn(shuffled) == (lines, bars)
