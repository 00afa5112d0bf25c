-- One partition (trade_year) of stocks.symbol_years: each symbol's first and newest trade date
-- in that year of stocks.daily_prices, and its bars there. The dashboard's lake-wide panels
-- (the symbol list, the time range, freshness, the newest bar in a range) read these ~5 rows
-- per symbol instead of every bar (glue_jobs/lake/symbol_years.py keeps them in step).
-- Parameters: trade_year.
with

bars_of_the_year as (
    select
        symbol,
        trade_date
    from stocks.daily_prices
    where trade_year = {{trade_year}}
),

symbol_years as (
    select
        symbol,
        min(trade_date) as first_date,
        max(trade_date) as newest_date,
        count(*) as bars
    from bars_of_the_year
    group by symbol
)

select * from symbol_years
order by symbol
