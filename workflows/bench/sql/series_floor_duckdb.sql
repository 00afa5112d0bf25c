-- The second half of an audited backfill's floor (tickerlake bench), in DuckDB's own dialect:
-- the audit's series rules need each bar's neighbours, so before anything is published every
-- row is read again and ordered by date within its symbol, once: the one window pass that the
-- jump, identical-close and duplicate-date checks could all share. The row checks (a scan)
-- and Great Expectations are left out.
-- Parameters: temp_glob (a literal).
with

neighbours as (
    select
        trade_date,
        close,
        lag(close, 1) over by_date as prev_close,
        lag(close, 2) over by_date as prev2_close,
        lag(trade_date, 1) over by_date as prev_date
    from read_parquet({{temp_glob}})
    window by_date as (partition by symbol order by trade_date)
)

select
    count(*) as bars,
    count(*) filter (where close = prev_close) as repeated_closes,
    count(*) filter (where trade_date = prev_date) as repeated_dates,
    max(least(greatest(close / prev_close, prev_close / close),
              coalesce(greatest(close / prev2_close, prev2_close / close), 1e308))) as widest_jump
from neighbours
