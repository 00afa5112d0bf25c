-- Close with its 20/50/200-day simple moving averages, and the day's volume,
-- for the selected symbols over the dashboard's time range.
--
-- The averages are the view stocks.moving_averages' (each null until the symbol has that
-- many sessions), worked out here in the same pass that reads the volume: joining the view
-- to the table read every selected symbol's history twice. Each average needs the sessions
-- before the range, so the whole history up to the range's end is read; bars after it
-- change no average and are skipped.
with

prices as (
    select
        symbol,
        trade_date,
        close,
        volume,
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
    from stocks.daily_prices
    where symbol in (${symbol:singlequote})
        and trade_date <= date($__timeTo())
        -- the table is partitioned by year: let Athena skip the years after the range
        and trade_year <= year($__timeTo())
),

in_range as (
    select
        trade_date,
        symbol,
        close,
        case when session_number >= 20 then avg_20 end as sma_20,
        case when session_number >= 50 then avg_50 end as sma_50,
        case when session_number >= 200 then avg_200 end as sma_200,
        volume
    from prices
    where $__dateFilter(trade_date)
)

select * from in_range
order by trade_date, symbol
