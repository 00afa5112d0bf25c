-- The biggest daily moves, up or down, on the newest session in the time range
-- (the as-of day), across every symbol in the lake.
with

returns as (
    select
        symbol,
        trade_date,
        daily_return
    from stocks.daily_returns
    where $__dateFilter(trade_date)
        and daily_return is not null
),

as_of_day as (
    select max(trade_date) as trade_date
    from returns
),

movers as (
    select
        r.symbol as symbol,
        round(100 * r.daily_return, 2) as return_pct,
        r.trade_date as trade_date
    from returns as r
    inner join as_of_day as d
        on r.trade_date = d.trade_date
    order by abs(r.daily_return) desc
    limit 20
)

select * from movers
order by return_pct desc
