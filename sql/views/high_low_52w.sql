-- Each symbol's 52-week high and low as of every session (over the last 252 sessions, the
-- session itself included), with a date each was reached (on ties, one of them) and the
-- close; a symbol's newest row is its latest 52-week range.
create or replace view stocks.high_low_52w as

with

prices as (
    select
        symbol,
        trade_date,
        high,
        low,
        close
    from stocks.daily_prices
),

windowed as (
    select
        symbol,
        trade_date,
        close,
        max(high) over (
            partition by symbol order by trade_date rows between 251 preceding and current row
        ) as high_52w,
        max_by(trade_date, high) over (
            partition by symbol order by trade_date rows between 251 preceding and current row
        ) as high_52w_date,
        min(low) over (
            partition by symbol order by trade_date rows between 251 preceding and current row
        ) as low_52w,
        min_by(trade_date, low) over (
            partition by symbol order by trade_date rows between 251 preceding and current row
        ) as low_52w_date,
        row_number() over (partition by symbol order by trade_date desc) as sessions_back
    from prices
),

ranges as (
    select
        symbol,
        trade_date,
        close,
        high_52w,
        high_52w_date,
        low_52w,
        low_52w_date,
        sessions_back = 1 as is_latest
    from windowed
)

select * from ranges
