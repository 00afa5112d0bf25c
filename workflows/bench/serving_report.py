"""Pure: the serving table's rows of the bench table (issue 13's targets), from the figures of
workflows.bench.serving_phase."""
from __future__ import annotations

from typing import Any

from workflows.bench.report import FAIL, PASS, Row

MAX_DAY_INTO_SERVING_SECONDS = 1.0
MIN_REBUILD_ROWS_PER_SECOND = 200_000
MAX_GET_MEDIAN_MS = 5.0


def serving_rows(m: dict[str, Any]) -> list[Row]:
    s = m.get("serving")
    if not s:
        return [Row("Serving table figures", "not measured", "measured", FAIL)]
    rate = s["rebuild_rows"] / s["rebuild_seconds"] if s["rebuild_seconds"] else 0.0
    price = s["wru_price_per_million"]

    def cost(units: float) -> str:
        return f"{units:,.0f} WRU (${units * price / 1e6:,.2f})"

    return [
        Row(f"A day into the serving table ({s['day_bars']:,} bars: announce, load, conditional writes)",
            f"{s['day_seconds']:.2f} s ({s['day_written']:,} written)", f"< {MAX_DAY_INTO_SERVING_SECONDS:g} s",
            _verdict(s["day_seconds"] < MAX_DAY_INTO_SERVING_SECONDS)),
        Row(f"Serving table rebuild from the published table ({s['rebuild_rows']:,} rows)",
            f"{rate:,.0f} rows/s ({s['rebuild_seconds']:.1f} s)", f">= {MIN_REBUILD_ROWS_PER_SECOND:,} rows/s",
            _verdict(rate >= MIN_REBUILD_ROWS_PER_SECOND)),
        Row(f"serve get of one symbol's year ({s['get_bars_median']:.0f} bars): median over {s['get_samples']} symbols",
            f"{s['get_median_ms']:.2f} ms (worst {s['get_worst_ms']:.1f} ms)", f"< {MAX_GET_MEDIAN_MS:g} ms",
            _verdict(s["get_median_ms"] < MAX_GET_MEDIAN_MS)),
        Row(f"On AWS (DynamoDB on-demand at ${price:g} per million write request units, "
            f"{s['wru_per_bar']:g} WRU a bar): a day / a backfill",
            f"{cost(s['day_wru'])} / {cost(s['backfill_wru'])}"),
    ]


def _verdict(ok: bool) -> str:
    return PASS if ok else FAIL
