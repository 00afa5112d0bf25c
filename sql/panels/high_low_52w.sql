-- Where each symbol closed on its newest session in the range, against its 52-week
-- high and low.
--
-- The 52 weeks are the 252 sessions up to that bar, as in the view stocks.high_low_52w,
-- found among the 400 days before it (a series with gaps reaches back no further). Only
-- those bars are read, and each symbol keeps its newest 252 (from the oldest date of its
-- newest 252, max_by with a count over the dates alone, which is cheap) instead
-- of the view working out a window for every bar in the lake first: milliseconds, not
-- seconds, on 25 million rows.
with

bars_in_range as (
    select
        symbol,
        trade_date
    from stocks.daily_prices
    where $__dateFilter(trade_date)
        and trade_year between year($__timeFrom()) and year($__timeTo())
),

newest as (
    select
        symbol,
        max(trade_date) as trade_date
    from bars_in_range
    group by symbol
),

window_bars as (
    select
        p.symbol as symbol,
        p.trade_date as trade_date,
        p.high as high,
        p.low as low,
        p.close as close
    from stocks.daily_prices as p
    inner join newest as n
        on n.symbol = p.symbol
    where p.trade_year between year(date_add('day', -400, $__timeFrom())) and year($__timeTo())
        and p.trade_date <= n.trade_date
        and p.trade_date > date_add('day', -400, n.trade_date)
),

since as (
    -- the oldest of each symbol's newest 252 sessions
    select
        symbol,
        array_min(max_by(trade_date, trade_date, 252)) as first_date
    from window_bars
    group by symbol
),

high_low as (
    select
        w.symbol as symbol,
        max(w.trade_date) as trade_date,
        max_by(w.close, w.trade_date) as close,
        max(w.high) as high_52w,
        min(w.low) as low_52w
    from window_bars as w
    inner join since as s
        on s.symbol = w.symbol
    where w.trade_date >= s.first_date
    group by w.symbol
),

positioned as (
    select
        symbol,
        trade_date,
        close,
        high_52w,
        low_52w,
        round(100 * (close / high_52w - 1), 2) as pct_from_high,
        round(100 * (close / low_52w - 1), 2) as pct_from_low
    from high_low
)

select * from positioned
order by pct_from_high desc, symbol
