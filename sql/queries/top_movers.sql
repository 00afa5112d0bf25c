-- The ten biggest moves, up or down, on the newest session in the lake (the as-of day).
with

returns as (
    select
        symbol,
        trade_date,
        close,
        prev_close,
        daily_return
    from stocks.daily_returns
    where daily_return is not null
),

as_of_day as (
    select max(trade_date) as trade_date
    from returns
),

movers as (
    select
        r.symbol as symbol,
        r.trade_date as trade_date,
        r.prev_close as prev_close,
        r.close as close,
        round(100 * r.daily_return, 2) as return_pct
    from returns as r
    inner join as_of_day as d
        on r.trade_date = d.trade_date
)

select * from movers
order by abs(return_pct) desc, symbol
limit 10
