-- One partition (trade_year) of stocks.daily_prices as a lake written before the rename
-- holds it, with its ingest-run column `run_id` renamed to ingest_run_id: every row, every
-- value as it is, ordered as wap/publish/merge.sql orders them. Read from
-- stocks.tmp_migrate_daily_prices, which declares the old column over the partitions still to
-- migrate (glue_jobs/lake/migrate.py), written to a fresh version before the catalog switches.
-- Parameters: trade_year.
select
    symbol,
    trade_date,
    open,
    high,
    low,
    close,
    volume,
    fetched_at,
    run_id as ingest_run_id
from stocks.tmp_migrate_daily_prices
where trade_year = {{trade_year}}
order by symbol, trade_date
