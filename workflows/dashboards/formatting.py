"""How values read on the local page: numbers in a panel's Grafana unit, dates, labels.

>>> format_value(1234567, "short")
'1.23M'
>>> format_value(-3.14159, "percent")
'-3.14%'
>>> format_value(187.5, "currencyUSD")
'$187.50'
>>> format_value(8.0), format_value(1000)
('8.00', '1,000')
"""
from __future__ import annotations

import datetime as dt
import decimal
import html
import math
from typing import Any


def as_number(value: Any) -> float | None:
    """A float for numeric values; None for anything else or NaN."""
    if type(value) is float:  # most cells; called for every point of every chart
        return value if value - value == 0.0 else None  # NaN and infinities give NaN
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, decimal.Decimal)):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    return None


def _short(number: float) -> str:
    sign = "-" if number < 0 else ""
    number = abs(number)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if number >= limit:
            return f"{sign}{number / limit:.3g}{suffix}"
    if number == int(number):
        return f"{sign}{int(number)}"
    return f"{sign}{number:.3g}"


def format_number(number: float, unit: str, whole: bool = False) -> str:
    """`whole`: the value is an integer type (a count), shown without decimals."""
    if unit == "currencyUSD":
        return f"-${abs(number):,.2f}" if number < 0 else f"${number:,.2f}"
    if unit == "percent":
        return f"{number:.2f}%"
    if unit == "short":
        return _short(number)
    if unit == "s":
        return f"{number:.1f} s" if number < 60 else f"{number / 60:.1f} min"
    if whole:
        return f"{int(number):,}"
    return f"{number:,.2f}"


def format_value(value: Any, unit: str = "none") -> str:
    """A cell or label: numbers in the unit, dates ISO, timestamps to the second, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    number = as_number(value)
    if number is not None:
        return format_number(number, unit, whole=isinstance(value, int))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def axis_label(value: float, unit: str, step: float) -> str:
    """A tick label precise enough to tell neighbouring ticks apart."""
    if unit == "short":
        return _short(value)
    decimals = 0 if step >= 1 else min(4, int(math.ceil(-math.log10(step))))
    if unit == "currencyUSD":
        return f"${value:,.{decimals}f}"
    if unit == "percent":
        return f"{value:.{decimals}f}%"
    if unit == "s":
        return f"{value:.{decimals}f}s"
    return f"{value:,.{decimals}f}"


def humanize(column: str) -> str:
    """A column name as a label: 'published_rows' -> 'published rows'."""
    return column.replace("_", " ")


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering lo..hi.

    >>> nice_ticks(0, 97)
    [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    """
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(hi) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw:
            break
    first = math.floor(lo / step) * step
    ticks = []
    value = first
    while value < hi + step * 0.5:
        ticks.append(float(round(value, 10)))
        value += step
        if len(ticks) > 50:
            break
    if ticks[-1] < hi:
        ticks.append(float(round(ticks[-1] + step, 10)))
    return ticks
