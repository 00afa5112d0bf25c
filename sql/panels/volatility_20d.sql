-- 20-session volatility of daily returns, annualised, in percent, per selected symbol.
with

volatility as (
    select
        symbol,
        trade_date,
        volatility_20d
    from stocks.volatility_20d
    where symbol in (${symbol:singlequote})
        and $__dateFilter(trade_date)
),

in_percent as (
    select
        trade_date,
        symbol,
        round(100 * volatility_20d, 2) as volatility_pct
    from volatility
    where volatility_20d is not null
)

select * from in_percent
order by trade_date, symbol
