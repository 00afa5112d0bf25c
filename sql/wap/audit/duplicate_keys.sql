-- Symbols and dates with more than one row in the temporary table: rows of one fetch that
-- disagree (write_temp keeps them all). The audit's uniqueness rule holds each of them back.
with

dated_rows as (
    select
        symbol,
        trade_date
    from stocks.tmp_daily_prices
    where trade_date is not null
),

duplicated as (
    select
        symbol,
        cast(trade_date as varchar) as trade_day,
        count(*) as row_count
    from dated_rows
    group by symbol, trade_date
    having count(*) > 1
)

select * from duplicated
order by symbol, trade_day
