-- Where each symbol closed on its newest session in the range, against its 52-week
-- high and low.
--
-- The 52 weeks are the 252 sessions up to that bar, as in the view stocks.high_low_52w,
-- found among the 400 days before it (a series with gaps reaches back no further). Only
-- those bars are read, instead of the view working out a window for every bar in the lake
-- first: milliseconds, not seconds, on 25 million rows. Each symbol's window is read twice,
-- its dates alone to find where its newest 252 sessions begin, then its prices from there:
-- cheaper than keeping every window's prices between the two steps.
--
-- Each symbol's newest bar in the range comes from its years in stocks.symbol_years (first and
-- newest bar per symbol and year): a year whose newest bar is in the range gives that bar; only
-- a year the range ends inside, before its newest bar, has its bars read (at most the year of
-- the range's end, and on a range that ends today none).
with

years_in_range as (
    select
        symbol,
        trade_year,
        first_date,
        newest_date
    from stocks.symbol_years
    where trade_year between year($__timeFrom()) and year($__timeTo())
),

newest_of_years as (
    select
        symbol,
        newest_date as trade_date
    from years_in_range
    where $__dateFilter(newest_date)
),

years_cut_by_the_end as (
    select
        symbol,
        trade_year
    from years_in_range
    where first_date <= $__timeTo()
        and newest_date > $__timeTo()
),

newest_before_the_end as (
    select
        p.symbol as symbol,
        max(p.trade_date) as trade_date
    from stocks.daily_prices as p
    inner join years_cut_by_the_end as y
        on y.symbol = p.symbol and y.trade_year = p.trade_year
    where p.trade_year = year($__timeTo())
        and $__dateFilter(p.trade_date)
    group by p.symbol
),

newest as (
    select
        symbol,
        max(trade_date) as trade_date
    from (
        select * from newest_of_years
        union all
        select * from newest_before_the_end
    )
    group by symbol
),

since as (
    -- the oldest of each symbol's newest 252 sessions: of the n bars in its 400 days (at
    -- most 400, one a date), the (n - 251)th oldest, or the oldest when n <= 252; the 149
    -- oldest dates are enough to find it, and cheaper to keep than the 252 newest
    select
        p.symbol as symbol,
        max(p.trade_date) as trade_date,
        element_at(min_by(p.trade_date, p.trade_date, 149), greatest(count(*) - 251, 1)) as first_date
    from stocks.daily_prices as p
    inner join newest as n
        on n.symbol = p.symbol
    where p.trade_year between year(date_add('day', -400, $__timeFrom())) and year($__timeTo())
        and p.trade_date <= n.trade_date
        and p.trade_date > date_add('day', -400, n.trade_date)
    group by p.symbol
),

high_low as (
    select
        p.symbol as symbol,
        max(p.trade_date) as trade_date,
        max_by(p.close, p.trade_date) as close,
        max(p.high) as high_52w,
        min(p.low) as low_52w
    from stocks.daily_prices as p
    inner join since as s
        on s.symbol = p.symbol
    where p.trade_year between year(date_add('day', -400, $__timeFrom())) and year($__timeTo())
        and p.trade_date between s.first_date and s.trade_date
    group by p.symbol
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
