-- Each watched symbol's last published close before the session: the anchor of the
-- synthetic intraday walk (ingestion/intraday/anchors.py).
-- Parameters: symbols (a list), session_day (a date).
with

prices as (
    select
        symbol,
        trade_date,
        close,
        volume
    from stocks.daily_prices
    where
        symbol in ({{symbols}})
        and trade_date < {{session_day}}
),

last_close as (
    select
        symbol,
        max(trade_date) as trade_date,
        max_by(close, trade_date) as close,
        max_by(volume, trade_date) as volume
    from prices
    group by symbol
)

select * from last_close
order by symbol
