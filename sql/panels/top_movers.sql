-- The biggest daily moves, up or down, on the newest session in the time range
-- (the as-of day), across every symbol in the lake.
--
-- Each move is a close against the symbol's bar before it, found among the month before
-- the as-of day (a symbol back after a longer gap has no daily move). Only those bars are
-- read: the view stocks.daily_returns would work out every return in the lake first.
with

bars_in_range as (
    select
        symbol,
        trade_date,
        close
    from stocks.daily_prices
    where $__dateFilter(trade_date)
        and trade_year between year($__timeFrom()) and year($__timeTo())
),

as_of_day as (
    select max(trade_date) as trade_date
    from bars_in_range
),

recent_bars as (
    select
        p.symbol as symbol,
        p.trade_date as trade_date,
        p.close as close,
        d.trade_date as as_of
    from stocks.daily_prices as p
    cross join as_of_day as d
    where p.trade_year between year(date_add('day', -31, $__timeFrom())) and year($__timeTo())
        and p.trade_date between date_add('day', -31, d.trade_date) and d.trade_date
),

returns as (
    select
        symbol,
        trade_date,
        as_of,
        close / lag(close) over (partition by symbol order by trade_date) - 1 as daily_return
    from recent_bars
),

movers as (
    select
        symbol,
        round(100 * daily_return, 2) as return_pct,
        trade_date
    from returns
    where trade_date = as_of
        and daily_return is not null
    order by abs(daily_return) desc
    limit 20
)

select * from movers
order by return_pct desc
