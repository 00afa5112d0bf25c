"""Long series drawn on a few hundred units of width: what the thinning keeps must draw the
same picture (every unit column's stroke from its lowest to its highest point, entered and
left where the whole line enters and leaves it) with at most four points a column."""
from __future__ import annotations

import datetime as dt
import random
import re

from workflows.dashboards import charts
from workflows.dashboards.charts import tallest_bars, thin_line, timeseries_svg


def walk(count: int, width: float, seed: int = 1) -> list[tuple[float, float]]:
    rng, y = random.Random(seed), 100.0
    points = []
    for i in range(count):
        y += rng.gauss(0, 2)
        points.append((64 + i * width / count, y))
    return points


def by_column(points):
    columns: dict[int, list[tuple[float, float]]] = {}
    for x, y in points:
        columns.setdefault(int(x), []).append((x, y))
    return columns


def test_a_long_line_keeps_each_columns_extremes_and_its_way_in_and_out():
    line = walk(5000, 550)
    thinned = thin_line(line)
    assert len(thinned) <= 4 * 551 < len(line)
    assert thinned == sorted(thinned) and set(thinned) <= set(line)
    whole, kept = by_column(line), by_column(thinned)
    assert whole.keys() == kept.keys()
    for column, points in whole.items():
        ys = [y for _, y in points]
        kept_ys = [y for _, y in kept[column]]
        assert (min(kept_ys), max(kept_ys)) == (min(ys), max(ys)), column
        assert (kept[column][0], kept[column][-1]) == (points[0], points[-1]), column


def test_a_line_with_room_for_every_point_is_drawn_whole():
    line = walk(300, 550)
    assert thin_line(line) == line


def test_only_bars_behind_a_taller_one_in_their_column_are_left_out():
    bars = [(70.2, 50.0), (70.6, 40.0), (70.9, 45.0), (71.1, 60.0), (90.0, 10.0)]
    assert tallest_bars(bars) == [(70.6, 40.0), (71.1, 60.0), (90.0, 10.0)]
    apart = [(70.0, 50.0), (72.0, 40.0)]
    assert tallest_bars(apart) == apart


def polyline(svg):
    return [tuple(map(float, p.split(","))) for p in re.search(r'<polyline points="([^"]+)"', svg).group(1).split()]


def test_twenty_years_of_closes_draw_the_same_line_in_far_fewer_points(monkeypatch):
    start = dt.date(2005, 1, 3)
    rows = [{"d": start + dt.timedelta(days=i), "close": y, "volume": 1000 + i % 97}
            for i, (_, y) in enumerate(walk(5000, 1))]
    svg, _ = timeseries_svg(rows, x="d", y=("close",), y2=("volume",), width=600, height=240)
    monkeypatch.setattr(charts, "_thin_indices", lambda xs, ys: list(range(len(xs))))  # thin_line's core
    monkeypatch.setattr(charts, "tallest_bars", lambda bars: bars)
    whole, _ = timeseries_svg(rows, x="d", y=("close",), y2=("volume",), width=600, height=240)
    drawn, everything = polyline(svg), polyline(whole)
    assert len(everything) == 5000 and len(drawn) <= 4 * 600
    assert (drawn[0], drawn[-1]) == (everything[0], everything[-1])
    assert min(y for _, y in drawn) == min(y for _, y in everything)
    assert max(y for _, y in drawn) == max(y for _, y in everything)
    assert len(whole.split("<rect")) - 1 == 5000 and len(svg.split("<rect")) - 1 <= 600


def kept_by_hand(points):
    """What thin_line keeps, worked out point by point: each unit column's first point, its
    first lowest, its first highest and its last (all of a column of at most four)."""
    out = []
    for column in sorted(by_column(points)):
        members = by_column(points)[column]
        if len(members) <= 4:
            out.extend(members)
            continue
        ys = [y for _, y in members]
        picks = {0, ys.index(min(ys)), ys.index(max(ys)), len(members) - 1}
        out.extend(members[i] for i in sorted(picks))
    return out


def test_of_equal_extremes_in_a_column_the_first_is_kept():
    # values rounded to whole units: most columns hold the same lowest or highest twice or more
    line = [(x, float(round(y))) for x, y in walk(3000, 200, seed=7)]
    assert thin_line(line) == kept_by_hand(line)
    ties = [(70.1, 5.0), (70.2, 1.0), (70.3, 9.0), (70.4, 1.0), (70.5, 9.0), (70.6, 3.0)]
    assert thin_line(ties) == [(70.1, 5.0), (70.2, 1.0), (70.3, 9.0), (70.6, 3.0)]


def test_a_value_that_is_no_number_breaks_the_line_there():
    start = dt.date(2024, 1, 2)
    closes = [1.0, 2.0, None, 3.0, 4.0, float("nan"), 5.0, 6.0, float("inf"), 7.0, 8.0]
    rows = [{"d": start + dt.timedelta(days=i), "close": c} for i, c in enumerate(closes)]
    svg, _ = timeseries_svg(rows, x="d", y=("close",), width=600, height=240)
    lines = re.findall(r'<polyline points="([^"]+)"', svg)
    assert [len(line.split()) for line in lines] == [2, 2, 2, 2]
    assert "inf" not in svg and "nan" not in svg
