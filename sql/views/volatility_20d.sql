-- Standard deviation of the last 20 daily returns (sample), and annualised with the usual
-- 252 sessions a year; null until a symbol has 20 returns.
create or replace view stocks.volatility_20d as

with

returns as (
    select
        symbol,
        trade_date,
        daily_return
    from stocks.daily_returns
),

windowed as (
    select
        symbol,
        trade_date,
        daily_return,
        count(daily_return) over (
            partition by symbol order by trade_date rows between 19 preceding and current row
        ) as returns_in_window,
        stddev_samp(daily_return) over (
            partition by symbol order by trade_date rows between 19 preceding and current row
        ) as stdev_in_window
    from returns
),

volatility as (
    select
        symbol,
        trade_date,
        daily_return,
        case when returns_in_window = 20 then stdev_in_window end as daily_stdev_20d,
        case when returns_in_window = 20 then stdev_in_window * sqrt(252) end as volatility_20d
    from windowed
)

select * from volatility
