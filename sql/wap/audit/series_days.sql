-- The dates of the bars of some symbols (those the extent query found short of sessions),
-- for the missing-session warning to name the missing dates.
-- Parameters: symbols.
with

dated_bars as (
    select distinct
        symbol,
        cast(trade_date as varchar) as trade_day
    from stocks.tmp_daily_prices_fetched
    where trade_date is not null
        and symbol in ({{symbols}})
)

select * from dated_bars
order by symbol, trade_day
