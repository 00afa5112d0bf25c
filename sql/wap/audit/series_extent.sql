-- Per symbol, what the temporary table's dated bars span: first and newest date, the
-- weekdays present (for the missing-session warning) and the newest ingest date (for the
-- stale-series warning: a newest bar older than the last session before that fetch). A bar
-- whose prices did not parse still came (the quarantine says what is wrong with it).
with

dated_bars as (
    select
        symbol,
        trade_date,
        ingest_date
    from stocks.tmp_daily_prices_fetched
    where trade_date is not null
),

extent as (
    select
        symbol,
        cast(min(trade_date) as varchar) as first_day,
        cast(max(trade_date) as varchar) as newest_day,
        max(ingest_date) as ingest_date,
        -- 1900-01-01 was a Monday: 0..4 are weekdays in both engines
        count(distinct case
            when mod(date_diff('day', date '1900-01-01', trade_date), 7) < 5 then trade_date
        end) as weekdays
    from dated_bars
    group by symbol
)

select * from extent
order by symbol
