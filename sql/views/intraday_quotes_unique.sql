-- stocks.intraday_quotes with one row per quote: Firehose delivers at least once, so the
-- Kinesis transport's history can hold a record twice. A quote is its day's (dt) symbol,
-- source and sequence (the producer's counter, which starts again each session); dt leads the
-- window's partition so a filter on dt still prunes the history's partitions.
create or replace view stocks.intraday_quotes_unique as

with

numbered as (
    select
        dt,
        symbol,
        event_time_ms,
        source,
        sequence,
        price,
        open,
        high,
        low,
        volume,
        previous_close,
        change,
        change_percent,
        latest_trading_day,
        row_number() over (
            partition by dt, symbol, source, sequence order by event_time_ms, price
        ) as copy_number
    from stocks.intraday_quotes
),

unique_quotes as (
    select
        symbol,
        event_time_ms,
        source,
        sequence,
        price,
        open,
        high,
        low,
        volume,
        previous_close,
        change,
        change_percent,
        latest_trading_day,
        dt
    from numbered
    where copy_number = 1
)

select * from unique_quotes
