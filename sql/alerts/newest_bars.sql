-- Each symbol's newest bar, to find series that stopped updating.
with

prices as (
    select
        symbol,
        trade_date
    from stocks.daily_prices
    where trade_year >= {{first_year}}
),

newest as (
    select
        symbol,
        max(trade_date) as newest_trade_date
    from prices
    group by symbol
)

select * from newest
order by symbol
