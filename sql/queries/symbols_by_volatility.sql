-- Every symbol ranked by its annualised 20-session volatility on its newest session.
with

volatility as (
    select
        symbol,
        trade_date,
        volatility_20d
    from stocks.volatility_20d
),

newest as (
    select
        symbol,
        max(trade_date) as trade_date
    from volatility
    group by symbol
),

ranked as (
    select
        v.symbol as symbol,
        v.trade_date as trade_date,
        round(100 * v.volatility_20d, 2) as volatility_pct
    from volatility as v
    inner join newest as n
        on v.symbol = n.symbol
        and v.trade_date = n.trade_date
    where v.volatility_20d is not null
)

select * from ranked
order by volatility_pct desc, symbol
