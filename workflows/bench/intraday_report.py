"""Pure: the intraday consumer's rows of the bench table (issue 14's targets), from the figures
of workflows.bench.intraday_phase."""
from __future__ import annotations

from typing import Any

from workflows.bench.report import FAIL, PASS, Row

MIN_RECORDS_PER_SECOND = 20_000
MAX_LATENCY_MEDIAN_MS = 200.0
MIN_ALLOWANCE_USE = 0.98


def intraday_rows(m: dict[str, Any]) -> list[Row]:
    r = m.get("intraday")
    if not r:
        return [Row("Intraday consumer figures", "not measured", "measured", FAIL)]
    wall = r["consumed"] / r["consume_seconds"] if r["consume_seconds"] > 0 else 0.0
    cpu = r["consumed"] / r["consume_cpu_seconds"] if r["consume_cpu_seconds"] > 0 else 0.0
    load = f"load {r['load_before']:.1f} before, {r['load_after']:.1f} after"
    return [
        Row(f"Intraday consumer, end to end ({r['consumed']:,} records: screen, enrich, quotes table, "
            f"history, alerts; {load})",
            f"{wall:,.0f} records/s ({r['consume_seconds']:.2f} s)", f">= {MIN_RECORDS_PER_SECOND:,} records/s",
            PASS if wall >= MIN_RECORDS_PER_SECOND else FAIL),
        Row("Intraday consumer, the same per second of its CPU time (less disturbed by other load)",
            f"{cpu:,.0f} records/s ({r['consume_cpu_seconds']:.2f} s CPU)"),
        Row("Intraday consumer, the drain's wall time waiting for a core (other load on the machine) / "
            "start-up before the drain (runtime, processor, holiday calendar, Parquet writer: not in the rate)",
            f"{_seconds(r.get('consume_core_wait_seconds'))} / {_seconds(r.get('startup_seconds'))}"),
        Row(f"Produce -> served latency, median ({r['latency_records']:,} records put at "
            f"{r['latency_rate']:,}/s, the consumer following with a {r['latency_poll_seconds']:g} s poll)",
            f"{r['latency_median_ms']:.1f} ms", f"< {MAX_LATENCY_MEDIAN_MS:g} ms",
            PASS if r["latency_median_ms"] < MAX_LATENCY_MEDIAN_MS else FAIL),
        Row("Produce -> served latency, 99th percentile / worst",
            f"{r['latency_p99_ms']:.1f} ms / {r['latency_max_ms']:.1f} ms"),
    ] + producer_rows(r.get("producer"))


def _seconds(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.2f} s"


def producer_rows(p: dict[str, Any] | None) -> list[Row]:
    """The producer's use of the key's allowance: its emptiest full minute against the key's
    allowance, and the limit bodies the server had to send (none wanted)."""
    if not p:
        return [Row("Intraday producer, use of the key's allowance", "not measured", "measured", FAIL)]
    windows = p["calls_per_window"]
    use = min(windows) / p["allowance"] if windows and p["allowance"] else 0.0
    return [
        Row(f"Intraday producer, use of the key's allowance ({p['label']}, every {p['interval_s']:g} s; "
            "the emptiest minute)",
            f"{use:.1%} ({min(windows, default=0)} of {p['allowance']} calls; minutes {windows})",
            f">= {MIN_ALLOWANCE_USE:.0%}", PASS if use >= MIN_ALLOWANCE_USE else FAIL),
        Row("Intraday producer, limit bodies (quotes put / calls)",
            f"{p['limit_bodies']} ({p['put']} / {p['calls']})", "0",
            PASS if p["limit_bodies"] == 0 else FAIL),
    ]
