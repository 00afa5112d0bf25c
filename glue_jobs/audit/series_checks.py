"""The audit's whole-series facts, from the engine: the price jumps the row rule
`no_unexplained_jump` looks up per row, and the warnings (stale series, missing sessions).
What they mean is glue_jobs/audit/series_rules.py; the SQL is sql/audit_*.sql."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from glue_jobs.audit import rules as audit_rules
from glue_jobs.audit import series_rules
from glue_jobs.lake import sql_files

log = logging.getLogger(__name__)

# jumps smaller than this never come back from the engine (the rule's own limit is larger)
REPORT_FACTOR = 10


@dataclass
class SeriesFacts:
    jumps: dict[tuple[str, str], tuple[float, str, float]] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)


def _uses(book: audit_rules.RuleBook, name: str) -> bool:
    return any(r.name == name for r in [*book.row_rules, *getattr(book, "warning_rules", ())])


def gather(engine, book: audit_rules.RuleBook, limits: dict[str, dict[str, float]], *,
           keys_repeat: bool = True) -> SeriesFacts:
    """Run the series queries the rule book needs on stocks.tmp_daily_prices_fetched (every row
    fetched, so a new or restated bar has its unchanged neighbours)."""
    return SeriesFacts(jumps=gather_jumps(engine, book),
                       warnings=gather_warnings(engine, book, limits, keys_repeat=keys_repeat))


def gather_jumps(engine, book: audit_rules.RuleBook) -> dict[tuple[str, str], tuple[float, str, float]]:
    """The jump rule's lookup (needed before the row rules run)."""
    if not _uses(book, "no_unexplained_jump"):
        return {}
    rows = engine.query(sql_files.render("wap/audit/price_jumps.sql", {"min_factor": REPORT_FACTOR})).to_pylist()
    return series_rules.jump_lookup(rows)


def gather_warnings(engine, book: audit_rules.RuleBook, limits: dict[str, dict[str, float]], *,
                    keys_repeat: bool = True) -> list[dict[str, Any]]:
    """The warning rules' outcomes (independent of the row rules: the audit runs this while
    it checks the rows). keys_repeat False promises one fetched row per symbol and date (write
    temp found no duplicated key), which lets the extent count bars instead of distinct dates."""
    if not getattr(book, "warning_rules", ()):
        return []
    extent = engine.query(sql_files.render("wap/audit/series_extent.sql", {"keys_repeat": keys_repeat})).to_pylist()
    most = int(limits.get("series_not_stale", {}).get("max_identical_closes", 5))
    identical = engine.query(sql_files.render("wap/audit/identical_closes.sql", {"min_bars": most + 1})).to_pylist()
    short = series_rules.short_symbols(extent)
    days: dict[str, set[str]] = {}
    if short:
        for row in engine.query(sql_files.render("wap/audit/series_days.sql", {"symbols": short})).to_pylist():
            days.setdefault(row["symbol"], set()).add(row["trade_day"])
    warnings = series_rules.warnings(
        book, limits, identical=identical, stale=series_rules.stale_newest(extent),
        missing=series_rules.missing_sessions(extent, days))
    for w in warnings:
        if not w["success"]:
            log.warning("audit warning %s: %s", w["rule"], w["example"])
    return warnings
