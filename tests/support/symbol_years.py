"""stocks.symbol_years as the lake keeps it, beside a full recompute from the published table."""
from __future__ import annotations

from glue_jobs.runtime import local_context


def kept_and_recomputed(root) -> tuple[list[tuple], list[tuple]]:
    """(the summary's rows, every bar of stocks.daily_prices grouped by symbol and year), sorted."""
    engine = local_context(root, run_id="20990101T000000Z-reader").engine
    kept = engine.query("select symbol, trade_year, first_date, newest_date, bars from stocks.symbol_years")
    # the oracle: grouped here, not by the pipeline's SQL file
    full = engine.query("select symbol, trade_year, min(trade_date), max(trade_date), count(*) "
                        "from stocks.daily_prices group by symbol, trade_year")
    return sorted(tuple(r.values()) for r in kept.to_pylist()), sorted(tuple(r.values()) for r in full.to_pylist())
