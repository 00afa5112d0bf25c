-- Simple moving averages of the close over the last 20, 50 and 200 sessions, each null
-- until the symbol has that many sessions.
create or replace view stocks.moving_averages as

with

prices as (
    select
        symbol,
        trade_date,
        close
    from stocks.daily_prices
),

numbered as (
    select
        symbol,
        trade_date,
        close,
        row_number() over (partition by symbol order by trade_date) as session_number,
        avg(close) over (
            partition by symbol order by trade_date rows between 19 preceding and current row
        ) as avg_20,
        avg(close) over (
            partition by symbol order by trade_date rows between 49 preceding and current row
        ) as avg_50,
        avg(close) over (
            partition by symbol order by trade_date rows between 199 preceding and current row
        ) as avg_200
    from prices
),

averages as (
    select
        symbol,
        trade_date,
        close,
        case when session_number >= 20 then avg_20 end as sma_20,
        case when session_number >= 50 then avg_50 end as sma_50,
        case when session_number >= 200 then avg_200 end as sma_200
    from numbered
)

select * from averages
