"""Charts as inline SVG, drawn from query rows (lists of dicts): no script, no network, so
the page opens offline and anywhere. Each function returns (svg, legend) where legend is a
list of (label, colour) for the page to show under the chart."""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from workflows.dashboards.formatting import as_number, axis_label, esc, format_value, nice_ticks

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#edc948", "#9c755f",
           "#ff9da7", "#bab0ac")
UP, DOWN, NEUTRAL = "#2f9e44", "#e03131", "#f1f3f5"
AXIS, GRID, TEXT = "#adb5bd", "#e9ecef", "#495057"
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="11"'

Legend = list[tuple[str, str]]


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{esc(label)}" preserveAspectRatio="xMidYMid meet" {FONT}>' + "".join(body) + "</svg>")


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _x_number(value: Any) -> float | None:
    """Dates and timestamps as days since 1970, numbers as themselves."""
    if type(value) is dt.date:  # most x values: a session's date, once per row of a chart
        return float(value.toordinal() - _EPOCH_ORDINAL)
    if isinstance(value, dt.datetime):
        return (value - dt.datetime(1970, 1, 1, tzinfo=value.tzinfo)).total_seconds() / 86400
    if isinstance(value, dt.date):
        return float((value - dt.date(1970, 1, 1)).days)
    return as_number(value)


def _x_tick_label(value: Any, span_days: float) -> str:
    if isinstance(value, dt.datetime) and span_days < 3:
        return value.strftime("%H:%M")
    if isinstance(value, dt.date):
        if span_days > 900:
            return value.strftime("%Y")
        if span_days > 240:
            return value.strftime("%b %Y")
        return value.strftime("%b %d")
    return format_value(value)


def _category_label(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%m-%d %H:%M")
    return format_value(value)


def _y_axis(body: list[str], ticks: list[float], scale, left: float, right: float, unit: str,
            side: str = "left", grid: bool = True) -> None:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    for tick in ticks:
        y = scale(tick)
        if grid:
            body.append(f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        if side == "left":
            body.append(f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}">'
                        f'{esc(axis_label(tick, unit, step))}</text>')
        else:
            body.append(f'<text x="{right + 6:.1f}" y="{y + 4:.1f}" text-anchor="start" fill="{TEXT}">'
                        f'{esc(axis_label(tick, unit, step))}</text>')


def _linear(lo: float, hi: float, out_lo: float, out_hi: float):
    span = (hi - lo) or 1.0

    def scale(value: float) -> float:
        return out_lo + (value - lo) / span * (out_hi - out_lo)

    return scale


def _series_groups(rows: list, series: str | None, key=lambda row: row) -> dict[Any, list]:
    groups: dict[Any, list] = {}
    for item in rows:
        groups.setdefault(key(item).get(series) if series else None, []).append(item)
    return groups


def thin_line(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A line's points (screen units, x ascending) keeping, in each unit-wide column of x, only
    the first, the lowest, the highest and the last: drawn, that column shows the same vertical
    stroke and the line enters and leaves it where it did, so the chart looks the same while 20
    years of sessions (5,000 points on 550 units) shrink to at most four points a unit."""
    if len(points) <= 4:
        return points
    xs, ys = np.array(points, dtype=float).T
    return [points[i] for i in _thin_indices(xs, ys).tolist()]


def _finite(values: list) -> np.ndarray:
    """Values as floats, NaN where as_number gives None (no number, NaN or infinite)."""
    numbers = np.array([v if type(v) is float else (n if (n := as_number(v)) is not None else math.nan)
                        for v in values], dtype=float)
    numbers[~np.isfinite(numbers)] = math.nan
    return numbers


def _on_screen(pxs: np.ndarray, lo: float, hi: float, left: float, right: float) -> np.ndarray:
    """_linear(lo, hi, left, right) on an array; the middle for all when lo == hi (one x)."""
    if hi > lo:
        return left + (pxs - lo) / (hi - lo) * (right - left)
    return np.full(len(pxs), (left + right) / 2)


def _runs(xs: np.ndarray, ys: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The stretches of a line between its missing values (NaN in ys), as (xs, ys) arrays."""
    present = ~np.isnan(ys)
    edges = np.flatnonzero(np.diff(np.concatenate(([False], present, [False])).astype(np.int8)))
    return [(xs[a:b], ys[a:b]) for a, b in zip(edges[::2].tolist(), edges[1::2].tolist())]


def _thin_indices(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The indices of the points thin_line keeps, in order: in each run of points sharing a
    unit column, all of a run of at most four, else its first, its lowest and its highest
    (the first of equals, as list.index finds them) and its last."""
    count = len(xs)
    if count <= 4:
        return np.arange(count)
    columns = xs.astype(np.int64)  # truncated toward zero, as int() does
    starts = np.flatnonzero(np.concatenate(([True], columns[1:] != columns[:-1])))
    lengths = np.diff(np.append(starts, count))
    keep = np.repeat(lengths <= 4, lengths)
    wide = lengths > 4
    if wide.any():
        of_run = np.repeat(np.arange(len(starts)), lengths)
        at = np.arange(count)
        lowest = np.minimum.reduceat(np.where(ys == np.minimum.reduceat(ys, starts)[of_run], at, count), starts)
        highest = np.minimum.reduceat(np.where(ys == np.maximum.reduceat(ys, starts)[of_run], at, count), starts)
        for picked in (starts, starts + lengths - 1, lowest, highest):
            keep[picked[wide]] = True
    return np.flatnonzero(keep)


def tallest_bars(bars: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Bars (centre x, top y; all standing on one baseline, one colour) keeping the tallest of
    each unit-wide column of centres: at that width the others are behind it or within a unit
    of it, and 20 years of sessions would otherwise draw 5,000 rectangles on 550 units."""
    tallest: dict[int, tuple[float, float]] = {}
    for bx, by in bars:
        column = int(bx)
        kept = tallest.get(column)
        if kept is None or by < kept[1]:
            tallest[column] = (bx, by)
    return list(tallest.values()) if len(tallest) < len(bars) else bars


def timeseries_svg(rows: list[dict], *, x: str, y: tuple[str, ...], y2: tuple[str, ...] = (),
                   series: str | None = None, unit: str = "none", width: int = 600,
                   height: int = 240, marks: tuple[str, ...] = ()) -> tuple[str, Legend]:
    """Lines for each (series, y column); y2 columns as bars on a right axis along the bottom;
    `marks` columns as a mark per value (anomalies), never joined into a line. Lines and bars
    are thinned to what a unit of width can show (thin_line, tallest_bars)."""
    left, right, top, bottom = 64, width - (56 if y2 else 14), 10, height - 24
    points = [(_x_number(r.get(x)), r) for r in rows]
    points = [(px, r) for px, r in points if px is not None]
    xs = [px for px, _ in points]
    # every column's values once, as floats (NaN: no number), for the axes, bars and lines
    numbers = {c: _finite([r.get(c) for _, r in points]) for c in dict.fromkeys((*y, *y2))}
    values = np.concatenate([numbers[c] for c in y]) if y and points else np.empty(0)
    values = values[~np.isnan(values)]
    if not xs or not values.size:
        return "", []
    x_lo, x_hi = min(xs), max(xs)
    sx = _linear(x_lo, x_hi, left, right) if x_hi > x_lo else (lambda _v: (left + right) / 2)
    # (a lowest or highest of zero may have another sign than the first listed: the same ticks)
    ticks = nice_ticks(float(values.min()), float(values.max()))
    sy = _linear(ticks[0], ticks[-1], bottom, top)
    body: list[str] = []
    _y_axis(body, ticks, sy, left, right, unit)
    xs_array = np.array(xs, dtype=float)

    if y2:
        stacked = np.column_stack([numbers[c] for c in y2]).ravel()  # point by point, as listed
        present = ~np.isnan(stacked)
        if present.any():
            b_ticks = nice_ticks(0, float(stacked[present].max()), 3)
            band_top = bottom - (bottom - top) * 0.28  # volume keeps to the bottom quarter
            sb = _linear(0, b_ticks[-1], bottom, band_top)
            sessions = len({px for px in xs})
            bar_w = max(0.6, (right - left) / max(1, sessions) * 0.7)
            bar_xs = _on_screen(np.repeat(xs_array, len(y2))[present], x_lo, x_hi, left, right)
            bar_ys = bottom + (stacked[present] - 0) / ((b_ticks[-1] - 0) or 1.0) * (band_top - bottom)
            for bx, by in tallest_bars(list(zip(bar_xs.tolist(), bar_ys.tolist()))):
                body.append(f'<rect x="{bx - bar_w / 2:.1f}" y="{by:.1f}" width="{bar_w:.1f}" '
                            f'height="{bottom - by:.1f}" fill="#ced4da"/>')
            _y_axis(body, b_ticks[1:], sb, left, right, "short", side="right", grid=False)

    legend: Legend = []
    groups = _series_groups(range(len(points)), series, key=lambda i: points[i][1])
    index = 0
    y_span = (ticks[-1] - ticks[0]) or 1.0
    for name, members in groups.items():
        members = sorted(members, key=lambda i: points[i][0])
        # each member's x on screen once for all its y columns (20 years of 4 symbols are
        # 20,000 rows of 4 lines each), in arrays: the same arithmetic as sx and sy
        screen_xs = _on_screen(xs_array[members], x_lo, x_hi, left, right)
        for column in y:
            color = PALETTE[index % len(PALETTE)]
            index += 1
            label = column if not series else (str(name) if len(y) == 1 else f"{name} {column}")
            screen_ys = bottom + (numbers[column][members] - ticks[0]) / y_span * (top - bottom)
            drawn = _runs(screen_xs, screen_ys)
            if not drawn:
                continue
            stroke = 2 if column == y[0] and len(y) > 1 else 1.5
            if column in marks:  # every value its own mark
                drawn = [(lx[i:i + 1], ly[i:i + 1]) for lx, ly in drawn for i in range(len(lx))]
            for lx, ly in drawn:
                if len(lx) == 1:
                    body.append(f'<circle cx="{float(lx[0]):.1f}" cy="{float(ly[0]):.1f}" r="2.5" fill="{color}">'
                                f'<title>{esc(label)}</title></circle>')
                else:
                    kept = _thin_indices(lx, ly)  # thin_line's points, on the arrays
                    line = " ".join(f"{px:.1f},{py:.1f}" for px, py in zip(lx[kept].tolist(), ly[kept].tolist()))
                    body.append(f'<polyline points="{line}" fill="none" stroke="{color}" '
                                f'stroke-width="{stroke}" stroke-linejoin="round"><title>{esc(label)}</title></polyline>')
            legend.append((label, color))
    if y2:
        legend.append((" + ".join(y2), "#ced4da"))

    _x_axis(body, sorted({px: r.get(x) for px, r in points}.items()), sx, left, right, bottom,
            x_hi - x_lo)
    return _svg(width, height, body, ", ".join(label for label, _ in legend)), legend


def _x_axis(body: list[str], ordered: list[tuple[float, Any]], sx, left: float, right: float,
            bottom: float, span: float) -> None:
    body.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="{AXIS}"/>')
    if not ordered:
        return
    count = max(2, int((right - left) // 90))
    picks = sorted({round(i * (len(ordered) - 1) / (count - 1)) for i in range(count)}) if len(ordered) > 1 else [0]
    for i in picks:
        px, value = ordered[i]
        xpos = sx(px)
        anchor = "start" if i == 0 and len(picks) > 1 else ("end" if i == len(ordered) - 1 and len(picks) > 1 else "middle")
        body.append(f'<line x1="{xpos:.1f}" x2="{xpos:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="{AXIS}"/>')
        body.append(f'<text x="{xpos:.1f}" y="{bottom + 16}" text-anchor="{anchor}" fill="{TEXT}">'
                    f'{esc(_x_tick_label(value, span))}</text>')


def bar_svg(rows: list[dict], *, x: str, y: tuple[str, ...], series: str | None = None,
            unit: str = "none", stacked: bool = False, color_by_sign: bool = False,
            width: int = 600, height: int = 240, max_categories: int = 60) -> tuple[str, Legend]:
    """Bars per x category: one per y column (grouped or stacked), or per series value."""
    categories: list[Any] = []
    cells: dict[tuple[Any, str], float] = {}
    keys: list[str] = []
    for row in rows:
        cat = row.get(x)
        if cat not in categories:
            categories.append(cat)
        pairs = [(str(row.get(series)), row.get(y[0]))] if series else [(c, row.get(c)) for c in y]
        for key, value in pairs:
            if key not in keys:
                keys.append(key)
            number = as_number(value)
            if number is not None:
                cells[(cat, key)] = cells.get((cat, key), 0.0) + number
    if not categories or not cells:
        return "", []
    categories = categories[-max_categories:]
    if stacked:
        highs = [sum(v for (c, _), v in cells.items() if c == cat and v > 0) for cat in categories]
        lows = [sum(v for (c, _), v in cells.items() if c == cat and v < 0) for cat in categories]
    else:
        highs = [max([v for (c, _), v in cells.items() if c == cat] + [0.0]) for cat in categories]
        lows = [min([v for (c, _), v in cells.items() if c == cat] + [0.0]) for cat in categories]
    lo, hi = min(lows + [0.0]), max(highs + [0.0])
    show_values = len(categories) <= 24 and not stacked and len(keys) == 1
    if show_values:  # head room for the value printed past the end of each bar
        pad = (hi - lo) * 0.12
        lo, hi = (lo - pad if lo < 0 else lo), (hi + pad if hi > 0 else hi)
    ticks = nice_ticks(lo, hi)
    left, right, top, bottom = 64, width - 14, 14, height - 24
    sy = _linear(ticks[0], ticks[-1], bottom, top)
    body: list[str] = []
    _y_axis(body, ticks, sy, left, right, unit)
    slot = (right - left) / len(categories)
    group_w = slot * 0.78
    bars_per_group = 1 if stacked else len(keys)
    bar_w = group_w / bars_per_group
    colors = {key: PALETTE[i % len(PALETTE)] for i, key in enumerate(keys)}
    zero = sy(0.0)
    for ci, cat in enumerate(categories):
        x0 = left + ci * slot + (slot - group_w) / 2
        up, down = 0.0, 0.0
        for ki, key in enumerate(keys):
            value = cells.get((cat, key))
            if value is None or (stacked and value == 0):
                continue
            if stacked:
                base = up if value >= 0 else down
                y_from, y_to = sy(base), sy(base + value)
                if value >= 0:
                    up += value
                else:
                    down += value
                bx = x0
            else:
                y_from, y_to = zero, sy(value)
                bx = x0 + ki * bar_w
            color = (UP if value >= 0 else DOWN) if color_by_sign else colors[key]
            top_y, h = min(y_from, y_to), abs(y_to - y_from)
            tip = f"{_category_label(cat)} {key}: {format_value(value, unit)}"
            body.append(f'<rect x="{bx:.1f}" y="{top_y:.1f}" width="{max(bar_w - 1, 0.8):.1f}" '
                        f'height="{max(h, 0.8):.1f}" fill="{color}"><title>{esc(tip)}</title></rect>')
            if show_values:
                ty = top_y - 4 if value >= 0 else top_y + h + 11
                body.append(f'<text x="{bx + bar_w / 2:.1f}" y="{ty:.1f}" text-anchor="middle" '
                            f'fill="{TEXT}" font-size="10">{esc(format_value(value, unit))}</text>')
    body.append(f'<line x1="{left}" x2="{right}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="{AXIS}"/>')
    labels = [_category_label(c) for c in categories]
    longest = max(len(label) for label in labels)
    every = max(1, int(len(labels) * (longest * 6.2 + 10) // (right - left)) + 1)
    for ci, label in enumerate(labels):
        if ci % every:
            continue
        cx = left + ci * slot + slot / 2
        body.append(f'<text x="{cx:.1f}" y="{bottom + 16}" text-anchor="middle" fill="{TEXT}">{esc(label)}</text>')
    legend: Legend = [] if color_by_sign or (len(keys) == 1 and not series) else [(k, colors[k]) for k in keys]
    return _svg(width, height, body, ", ".join(keys)), legend


def _diverging(value: float, limit: float) -> str:
    """White at zero, deepening to green (up) or red (down) at +-limit."""
    share = max(-1.0, min(1.0, value / limit)) if limit else 0.0
    end = (47, 158, 68) if share >= 0 else (224, 49, 49)
    base = (248, 249, 250)
    mix = abs(share) ** 0.7
    rgb = tuple(round(b + (e - b) * mix) for b, e in zip(base, end))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def heatmap_svg(rows: list[dict], *, x: str, value: str, series: str, unit: str = "none",
                width: int = 600, height: int = 240) -> tuple[str, Legend]:
    """One cell per (series, x); colour diverges around zero, clipped at the 95th percentile."""
    columns = sorted({r.get(x) for r in rows if r.get(x) is not None})
    names = sorted({str(r.get(series)) for r in rows if r.get(series) is not None})
    cells = {(str(r.get(series)), r.get(x)): as_number(r.get(value)) for r in rows}
    numbers = sorted(abs(v) for v in cells.values() if v is not None)
    if not columns or not names or not numbers:
        return "", []
    limit = numbers[min(len(numbers) - 1, int(len(numbers) * 0.95))] or numbers[-1] or 1.0
    label_w = 8 + 7 * max(len(n) for n in names)
    left, right, top, bottom = max(48, label_w), width - 10, 6, height - 24
    row_h = min(28.0, (bottom - top) / len(names))
    bottom = top + row_h * len(names)
    col_w = (right - left) / len(columns)
    body: list[str] = []
    # what every row repeats, worked out once: a column's x and label, a value's colour and
    # text (values repeat: returns are rounded to two decimals), the cells' width and height
    col_x = [f"{left + i * col_w:.2f}" for i in range(len(columns))]
    col_labels = [format_value(c) for c in columns]
    cell_size = f'width="{max(col_w - 0.5, 0.5):.2f}" height="{row_h - 1:.1f}"'
    fills: dict[float, str] = {}
    texts: dict[float, str] = {}
    for ri, name in enumerate(names):
        y0 = top + ri * row_h
        body.append(f'<text x="{left - 6}" y="{y0 + row_h / 2 + 4:.1f}" text-anchor="end" fill="{TEXT}">{esc(name)}</text>')
        y_attr = f"{y0:.1f}"
        for c, cx, c_label in zip(columns, col_x, col_labels):
            v = cells.get((name, c))
            if v:
                fill, text = fills.get(v), texts.get(v)
                if fill is None:
                    fill = fills[v] = _diverging(v, limit)
                    text = texts[v] = format_value(v, unit)
            else:  # None, and zero, whose two signs are one key but read 0.00% and -0.00%
                fill = NEUTRAL if v is None else _diverging(v, limit)
                text = format_value(v, unit)
            tip = f"{name} {c_label}: {text}"
            body.append(f'<rect x="{cx}" y="{y_attr}" {cell_size} '
                        f'fill="{fill}"><title>{esc(tip)}</title></rect>')
    ordered = [(float(i), c) for i, c in enumerate(columns)]
    _x_axis(body, ordered, lambda i: left + i * col_w + col_w / 2, left, right, bottom,
            (_x_number(columns[-1]) or 0) - (_x_number(columns[0]) or 0))
    legend: Legend = [(f"{format_value(-limit, unit)} or less", _diverging(-limit, limit)),
                      (format_value(0.0, unit), _diverging(0.0, limit)),
                      (f"{format_value(limit, unit)} or more", _diverging(limit, limit))]
    total_h = int(bottom + 24)
    return _svg(width, total_h, body, f"{value} by {series} and {x}"), legend


def hbar_svg(rows: list[dict], *, x: str, y: str, unit: str = "none", color_by_sign: bool = False,
             width: int = 600, height: int = 240) -> tuple[str, Legend]:
    """One horizontal bar per row, labelled by x at the left, in row order (a ranking)."""
    items = [(format_value(r.get(x)), as_number(r.get(y))) for r in rows]
    items = [(label, v) for label, v in items if v is not None]
    if not items:
        return "", []
    lo, hi = min(min(v for _, v in items), 0.0), max(max(v for _, v in items), 0.0)
    pad = (hi - lo) * 0.18 or 1.0  # room for the value printed past each bar's end
    ticks = nice_ticks(lo - (pad if lo < 0 else 0), hi + (pad if hi > 0 else 0))
    label_w = 10 + 7 * max(len(label) for label, _ in items)
    left, right, top, bottom = max(48, label_w), width - 12, 6, height - 22
    sx = _linear(ticks[0], ticks[-1], left, right)
    row_h = min(26.0, (bottom - top) / len(items))
    bottom = top + row_h * len(items)
    body: list[str] = []
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    for tick in ticks:
        tx = sx(tick)
        body.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top}" y2="{bottom:.1f}" stroke="{GRID}"/>')
        body.append(f'<text x="{tx:.1f}" y="{bottom + 14:.1f}" text-anchor="middle" fill="{TEXT}">'
                    f'{esc(axis_label(tick, unit, step))}</text>')
    zero = sx(0.0)
    for i, (label, value) in enumerate(items):
        y0 = top + i * row_h
        x0, x1 = sorted((zero, sx(value)))
        color = (UP if value >= 0 else DOWN) if color_by_sign else PALETTE[0]
        text = esc(format_value(value, unit))
        body.append(f'<text x="{left - 6}" y="{y0 + row_h / 2 + 4:.1f}" text-anchor="end" fill="{TEXT}">{esc(label)}</text>')
        body.append(f'<rect x="{x0:.1f}" y="{y0 + row_h * 0.15:.1f}" width="{max(x1 - x0, 0.8):.1f}" '
                    f'height="{row_h * 0.7:.1f}" fill="{color}"><title>{esc(label)}: {text}</title></rect>')
        tx, anchor = (x1 + 4, "start") if value >= 0 else (x0 - 4, "end")
        body.append(f'<text x="{tx:.1f}" y="{y0 + row_h / 2 + 4:.1f}" text-anchor="{anchor}" fill="{TEXT}" '
                    f'font-size="10">{text}</text>')
    body.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{bottom:.1f}" stroke="{AXIS}"/>')
    return _svg(width, int(bottom + 22), body, f"{y} by {x}"), []
