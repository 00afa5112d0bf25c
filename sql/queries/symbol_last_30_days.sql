-- One symbol's last 30 sessions with its prices and moving averages, newest first.
-- Parameters: symbol.
with

prices as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume
    from stocks.daily_prices
    where symbol = {{symbol}}
),

averages as (
    select
        symbol,
        trade_date,
        sma_20,
        sma_50,
        sma_200
    from stocks.moving_averages
    where symbol = {{symbol}}
),

last_30 as (
    select
        p.trade_date as trade_date,
        p.open as open,
        p.high as high,
        p.low as low,
        p.close as close,
        p.volume as volume,
        a.sma_20 as sma_20,
        a.sma_50 as sma_50,
        a.sma_200 as sma_200
    from prices as p
    inner join averages as a
        on p.symbol = a.symbol
        and p.trade_date = a.trade_date
    order by p.trade_date desc
    limit 30
)

select * from last_30
order by trade_date desc
