-- Per symbol, what the temporary table's dated bars span: first and newest date, the
-- weekdays present (for the missing-session warning) and the newest ingest date (for the
-- stale-series warning: a newest bar older than the last session before that fetch). A bar
-- whose prices did not parse still came (the quarantine says what is wrong with it).
-- Parameters: keys_repeat (whether some symbol and date has more than one row: write temp's
-- duplicates.sql). Without repeated keys each weekday bar is a distinct date, so counting the
-- bars gives the distinct count without a hash of every date (a backfill's 25 million).
with

dated_bars as (
    select
        symbol,
        trade_date,
        ingest_date
    from stocks.tmp_daily_prices_fetched
    where trade_date is not null
),

weekday_bars as (
    select
        symbol,
        trade_date,
        ingest_date,
        -- 1900-01-01 was a Monday: 0..4 are weekdays in both engines
        case
            when mod(date_diff('day', date '1900-01-01', trade_date), 7) < 5 then trade_date
        end as weekday_date
    from dated_bars
),

extent_of_single_bars as (
    select
        symbol,
        cast(min(trade_date) as varchar) as first_day,
        cast(max(trade_date) as varchar) as newest_day,
        max(ingest_date) as ingest_date,
        count(weekday_date) as weekdays
    from weekday_bars
    where not {{keys_repeat}}
    group by symbol
),

extent_of_repeated_bars as (
    select
        symbol,
        cast(min(trade_date) as varchar) as first_day,
        cast(max(trade_date) as varchar) as newest_day,
        max(ingest_date) as ingest_date,
        count(distinct weekday_date) as weekdays
    from weekday_bars
    where {{keys_repeat}}
    group by symbol
),

extent as (
    select * from extent_of_single_bars
    union all
    select * from extent_of_repeated_bars
)

select * from extent
order by symbol
