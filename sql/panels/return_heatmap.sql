-- Daily return in percent for each selected symbol and session: one heatmap cell each.
with

returns as (
    select
        symbol,
        trade_date,
        daily_return
    from stocks.daily_returns
    where symbol in (${symbol:singlequote})
        and $__dateFilter(trade_date)
        and daily_return is not null
),

in_percent as (
    select
        trade_date,
        symbol,
        round(100 * daily_return, 2) as return_pct
    from returns
)

select * from in_percent
order by trade_date, symbol
