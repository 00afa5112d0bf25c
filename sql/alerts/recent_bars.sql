-- The newest bars, with what the alert rules compare them to: the previous session's
-- close, and the average volume of the 20 sessions before (and how many there were).
-- History reaches back {{history_from}} so the windows are full at {{alert_from}}.
with

prices as (
    select
        symbol,
        trade_date,
        close,
        volume
    from stocks.daily_prices
    -- the table is partitioned by year: read only the years the windows need
    where trade_year >= {{first_year}}
        and trade_date between {{history_from}} and {{as_of}}
),

compared as (
    select
        symbol,
        trade_date,
        close,
        volume,
        lag(close) over (partition by symbol order by trade_date) as prev_close,
        lag(trade_date) over (partition by symbol order by trade_date) as prev_trade_date,
        avg(volume) over (
            partition by symbol order by trade_date rows between 20 preceding and 1 preceding
        ) as avg_volume_20d,
        count(volume) over (
            partition by symbol order by trade_date rows between 20 preceding and 1 preceding
        ) as prior_sessions
    from prices
)

select * from compared
where trade_date >= {{alert_from}}
order by symbol, trade_date
