-- Runs of at least {{min_bars}} consecutive bars with the same close, per symbol: a series
-- that stopped moving (a stale feed repeating its last value) for the stale-series warning.
-- Parameters: min_bars.
with

valid_bars as (
    select
        symbol,
        trade_date,
        close
    from stocks.tmp_daily_prices_fetched
    where parse_error is null
        and trade_date is not null
),

lagged as (
    select
        symbol,
        trade_date,
        close,
        lag(close) over (partition by symbol order by trade_date) as prev_close
    from valid_bars
),

-- A run of N identical closes holds N - 1 bars equal to the bar before: only symbols with
-- that many go through the run numbering (a second window, and a group per run, over 25
-- million rows would cost more than everything else the audit does).
repeating_symbols as (
    select symbol
    from lagged
    where close = prev_close
    group by symbol
    having count(*) >= {{min_bars}} - 1
),

changes as (
    select
        symbol,
        trade_date,
        close,
        case when close = prev_close then 0 else 1 end as starts_run
    from lagged
    where symbol in (select symbol from repeating_symbols)
),

numbered as (
    select
        symbol,
        trade_date,
        close,
        sum(starts_run) over (
            partition by symbol
            order by trade_date
            rows between unbounded preceding and current row
        ) as run_number
    from changes
),

runs as (
    select
        symbol,
        run_number,
        cast(min(trade_date) as varchar) as first_day,
        cast(max(trade_date) as varchar) as last_day,
        count(*) as bars,
        min(close) as close
    from numbered
    group by symbol, run_number
)

select
    symbol,
    first_day,
    last_day,
    bars,
    close
from runs
where bars >= {{min_bars}}
order by symbol, first_day
