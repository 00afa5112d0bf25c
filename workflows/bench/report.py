"""Pure: the benchmark's figures as a table, each target judged PASS or FAIL.

The measurements come in as one dict (see workflows.bench.run); nothing here runs or reads
anything, so the verdicts are tested on made-up figures.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

# The targets of issues 6 and 15 (a 2-core machine).
MAX_BACKFILL_OVER_FLOOR = 2.0
MAX_PEAK_BYTES = 4 * 1024**3
MAX_DAY_SECONDS = 3.0  # the WAP stages of a real day, crawl to after_publish
MAX_COMMAND_SECONDS = 8.0  # the whole `tickerlake run --source synthetic`, dashboard page included
MAX_DAY_PEAK_BYTES = 1024**3
MAX_DAY_FULL_OVER_SMALL = 1.3
MAX_PAGE_SECONDS = 1.0
MAX_PANEL_MEDIAN_MS = 150.0
MAX_PANEL_WORST_MS = 500.0
MIN_ALLOWANCE_USED = 0.98

PASS, FAIL, INFO = "PASS", "FAIL", ""


@dataclass(frozen=True)
class Row:
    measure: str
    value: str
    target: str = ""
    verdict: str = INFO


def _judge(ok: bool | None) -> str:
    if ok is None:
        return FAIL  # not measured: a target nobody checked is not met
    return PASS if ok else FAIL


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def size(num_bytes: float) -> str:
    return f"{num_bytes / 1024**3:.2f} GB" if num_bytes >= 1024**3 else f"{num_bytes / 1024**2:.0f} MB"


def rate(rows: float, secs: float) -> str:
    return f"{rows / secs:,.0f} rows/s" if secs > 0 else "n/a"


def ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def panel_stats(latencies_ms: dict[str, list[float]]) -> tuple[float, float, str]:
    """(median over panels of each panel's median, worst single run, the worst panel's id)."""
    medians = [statistics.median(v) for v in latencies_ms.values() if v]
    if not medians:
        return float("nan"), float("nan"), ""
    worst_panel = max(latencies_ms, key=lambda k: max(latencies_ms[k]) if latencies_ms[k] else -1)
    return statistics.median(medians), max(latencies_ms[worst_panel]), worst_panel


def allowance_used(calls_per_window: list[int], allowance: int) -> float:
    """Share of the allowance the full windows used (1.0 = every allowed call made)."""
    if not calls_per_window or allowance <= 0:
        return 0.0
    return sum(calls_per_window) / (len(calls_per_window) * allowance)


def _best_of(floor: dict[str, Any]) -> str:
    runs = floor.get("runs") or []
    return f" (best of {', '.join(f'{r:.2f}' for r in runs)} s)" if len(runs) > 1 else ""


def backfill_rows(m: dict[str, Any]) -> list[Row]:
    b, floor, naive = m["backfill"], m["floor"], m["naive"]
    rows = [
        Row(f"Backfill, raw to published, audit included ({b['rows']:,} rows, {m['scale_label']})",
            f"{seconds(b['seconds'])}, {rate(b['rows'], b['seconds'])}"),
        Row("Backfill peak memory (RSS, process and children)", size(b["peak_rss"]),
            f"< {size(MAX_PEAK_BYTES)}", _judge(b["peak_rss"] < MAX_PEAK_BYTES)),
        Row("Floor: the engine reads the raw CSV files with known types, writes year partitions sorted by "
            "symbol and date",
            f"{seconds(floor['seconds'])}{_best_of(floor)}, {rate(floor['rows'], floor['seconds'])}, "
            f"peak {size(floor['peak_rss'])}"),
    ]
    over_floor = ratio(b["seconds"], floor["seconds"])
    rows.append(Row("Backfill / floor", _x(over_floor), f"<= {MAX_BACKFILL_OVER_FLOOR:g}x",
                    _judge(None if over_floor is None else over_floor <= MAX_BACKFILL_OVER_FLOOR)))
    formatted = m.get("format_floor")
    if formatted:
        # how much of the 2x the published files' own format takes, before any check
        rows.append(Row("Floor in the published format: the same read and sort, written as publish writes a "
                        "year (the ingest run and fetch time beside each bar, zstd)",
                        f"{seconds(formatted['seconds'])}{_best_of(formatted)}, "
                        f"{_x(ratio(formatted['seconds'], floor['seconds']))} the floor"))
    audited = m.get("audited_floor")
    if audited:
        # what the target's 2x leaves for an audited backfill: this floor holds only the checks
        # no audited backfill can skip, each done once (workflows/bench/phases.py audited_floor)
        rows.append(Row("Audited floor: the floor plus every line's text checked against the strict shapes and "
                        "typed, written once in the published order, and one window pass for the series rules",
                        f"{seconds(audited['seconds'])}{_best_of(audited)} (checked write "
                        f"{seconds(audited['write_seconds'])}, window pass {seconds(audited['series_seconds'])})"))
        rows.append(Row("Audited floor / floor (how near the floor a backfill that keeps those checks "
                        "can come)", _x(ratio(audited["seconds"], floor["seconds"]))))
        rows.append(Row("Backfill / audited floor", _x(ratio(b["seconds"], audited["seconds"]))))
    rows.append(Row("Naive pandas (read every file, concat, drop duplicates, partitioned Parquet)",
                    f"{seconds(naive['seconds'])}, peak {size(naive['peak_rss'])}"))
    naive_over = ratio(naive["seconds"], b["seconds"])
    rows.append(Row("Naive / backfill (for information; the 10x target is retired)", _x(naive_over)))
    rows.append(Row("Naive / floor (the most any pipeline that reads the raw files can reach)",
                    _x(ratio(naive["seconds"], floor["seconds"]))))
    audit = b["stages"].get("audit", 0.0)
    rows.append(Row("Audit share of the backfill",
                    f"{audit / b['seconds']:.0%} ({seconds(audit)}, of which Great Expectations "
                    f"{seconds(b.get('ge_seconds', 0.0))})" if b["seconds"] else "n/a",
                    "shown", INFO))
    rows.append(Row("Backfill by stage", ", ".join(f"{k} {v:.1f}" for k, v in b["stages"].items()) + " (s)"))
    return rows


def _runs(day: dict[str, Any]) -> str:
    return ", ".join(f"{s:.2f}" for s in day.get("runs") or [day["seconds"]]) + " s"


def day_rows(m: dict[str, Any]) -> list[Row]:
    """A real day: `tickerlake run` fetching compact bodies (100 sessions per symbol, one new,
    some restated); the WAP stages and the whole command judged apart."""
    full, small = m["day_full"], m["day_small"]
    over = ratio(full["wap_seconds"], small["wap_seconds"])
    rows = [
        Row(f"Real day on the full history ({full['history_rows']:,} rows), WAP stages crawl to after_publish: "
            f"median of the {len(full.get('runs') or [1])} day(s) after the first",
            f"{seconds(full['wap_seconds'])} ({full['rows']:,} raw rows: {full['published_rows']:,} published, "
            f"{full['unchanged_rows']:,} unchanged; runs {_runs(full)})", f"<= {MAX_DAY_SECONDS:g} s",
            _judge(full["wap_seconds"] <= MAX_DAY_SECONDS)),
        Row("Real day, the whole `tickerlake run --source synthetic` (ingest and dashboard page included)",
            f"{seconds(full['seconds'])} (runs {', '.join(f'{s:.2f}' for s in full.get('commands') or [full['seconds']])} s)",
            f"<= {MAX_COMMAND_SECONDS:g} s", _judge(full["seconds"] <= MAX_COMMAND_SECONDS)),
        Row(f"Real day on a 10x smaller history ({small['history_rows']:,} rows), WAP stages: median",
            f"{seconds(small['wap_seconds'])} (runs {_runs(small)}; whole command {seconds(small['seconds'])})"),
        Row("Real day, full / small history (WAP stages)", _x(over), f"<= {MAX_DAY_FULL_OVER_SMALL:g}x",
            _judge(None if over is None else over <= MAX_DAY_FULL_OVER_SMALL)),
        Row("Real day peak memory (RSS of the command's process)", size(full["peak_rss"]),
            f"< {size(MAX_DAY_PEAK_BYTES)}", _judge(full["peak_rss"] < MAX_DAY_PEAK_BYTES)),
        Row("Real day by stage (full history)",
            ", ".join(f"{k} {v:.2f}" for k, v in full["stages"].items()) + " (s)"),
    ]
    first = m.get("first_day_full")
    if first:
        rows.append(Row("The first day after the backfill (also drops its temporary table), full history, WAP",
                        seconds(first["wap_seconds"])))
    return rows


def query_rows(m: dict[str, Any]) -> list[Row]:
    q = m["queries"]
    median, worst, worst_id = panel_stats(q["panels"])
    errors = q.get("errors") or {}
    page = m.get("page")
    rows = [] if page is None else [
        Row("Dashboard page render (every panel, then the HTML)", seconds(page["seconds"]),
            f"<= {MAX_PAGE_SECONDS:g} s", _judge(page["seconds"] <= MAX_PAGE_SECONDS)),
    ]
    rows += [
        Row(f"Dashboard panel queries ({len(q['panels'])} panels, {q['selection']}): median",
            f"{median:.0f} ms", f"< {MAX_PANEL_MEDIAN_MS:g} ms",
            _judge(not errors and median < MAX_PANEL_MEDIAN_MS)),
        Row("Dashboard panel queries: worst", f"{worst:.0f} ms ({worst_id})", f"< {MAX_PANEL_WORST_MS:g} ms",
            _judge(not errors and worst < MAX_PANEL_WORST_MS)),
    ]
    if errors:
        rows.append(Row("Panel queries that failed", "; ".join(f"{k}: {v}" for k, v in errors.items()), "none", FAIL))
    views = q.get("views") or {}
    if views:
        values = list(views.values())
        slowest = max(views, key=views.get)
        rows.append(Row(f"Analysis views and queries ({len(views)}, whole lake): median / worst",
                        f"{statistics.median(values):.0f} ms / {max(values):.0f} ms ({slowest})"))
    return rows


def ingestion_rows(m: dict[str, Any]) -> list[Row]:
    rows = []
    for key in ("free", "premium"):
        k = m["ingestion"][key]
        used = allowance_used(k["calls_per_window"], k["allowance"])
        calls = ", ".join(str(c) for c in k["calls_per_window"])
        rows.append(Row(f"Ingestion, {k['label']}: calls per {k['window']} vs {k['allowance']} allowed",
                        f"{calls} ({used:.1%} used)", f">= {MIN_ALLOWANCE_USED:.0%}",
                        _judge(used >= MIN_ALLOWANCE_USED)))
        rows.append(Row(f"Ingestion, {k['label']}: limit bodies received", str(k["limit_bodies"]), "0",
                        _judge(k["limit_bodies"] == 0)))
    return rows


def build_rows(m: dict[str, Any]) -> list[Row]:
    """Every row of the table, in the order of the issue."""
    return backfill_rows(m) + day_rows(m) + query_rows(m) + ingestion_rows(m)


def markdown(rows: list[Row]) -> str:
    """The rows as a Markdown table (also readable as plain text)."""
    lines = ["| Measure | Measured | Target | Result |", "|---|---|---|---|"]
    for r in rows:
        cells = [c.replace("|", "/") for c in (r.measure, r.value, r.target, r.verdict)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdict_counts(rows: list[Row]) -> tuple[int, int]:
    """(targets passed, targets failed)."""
    return sum(r.verdict == PASS for r in rows), sum(r.verdict == FAIL for r in rows)
