-- One partition (trade_year) of stocks.daily_prices that has no published version yet, when
-- this run's rows hold one row per symbol and date and none of the year's rows is
-- quarantined: a backfill's years. wap/publish/merge.sql gives exactly these rows then (no
-- current row to keep or to compare with, nothing quarantined to leave out, no second
-- candidate to rank), but pays for its joins over every row of the year, and for reading each
-- row's raw line; publish chooses this file only when all three hold (glue_jobs/wap/publish.py).
-- Ordered by symbol and date, as merge.sql is: tight Parquet min/max statistics per symbol.
-- One segment of the year at a time, as merge.sql: the rows dated first_date to last_date.
-- Parameters: trade_year, first_date, last_date.
with

staged_rows as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        fetched_at,
        ingest_run_id
    from stocks.tmp_daily_prices
    where trade_year = {{trade_year}}
        and trade_date between {{first_date}} and {{last_date}}
)

select * from staged_rows
order by symbol, trade_date
