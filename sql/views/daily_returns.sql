-- Each symbol's close-to-close return per session: close / previous close - 1
-- (null on the symbol's first session in the lake).
create or replace view stocks.daily_returns as

with

prices as (
    select
        symbol,
        trade_date,
        close
    from stocks.daily_prices
),

with_previous as (
    select
        symbol,
        trade_date,
        close,
        lag(close) over (partition by symbol order by trade_date) as prev_close
    from prices
),

returns as (
    select
        symbol,
        trade_date,
        close,
        prev_close,
        close / prev_close - 1 as daily_return
    from with_previous
)

select * from returns
