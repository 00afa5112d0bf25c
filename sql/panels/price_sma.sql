-- Close with its 20/50/200-day simple moving averages, and the day's volume,
-- for the selected symbols over the dashboard's time range.
with

moving_averages as (
    select
        symbol,
        trade_date,
        close,
        sma_20,
        sma_50,
        sma_200
    from stocks.moving_averages
    where symbol in (${symbol:singlequote})
        and $__dateFilter(trade_date)
),

prices as (
    select
        symbol,
        trade_date,
        volume
    from stocks.daily_prices
    where symbol in (${symbol:singlequote})
        and $__dateFilter(trade_date)
        -- the table is partitioned by year: let Athena skip the years outside the range
        and trade_year between year($__timeFrom()) and year($__timeTo())
),

joined as (
    select
        ma.trade_date as trade_date,
        ma.symbol as symbol,
        ma.close as close,
        ma.sma_20 as sma_20,
        ma.sma_50 as sma_50,
        ma.sma_200 as sma_200,
        p.volume as volume
    from moving_averages as ma
    inner join prices as p
        on p.symbol = ma.symbol
        and p.trade_date = ma.trade_date
)

select * from joined
order by trade_date, symbol
