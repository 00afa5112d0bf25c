-- Where each symbol closed on its newest session in the range, against its 52-week
-- high and low.
with

high_low as (
    select
        symbol,
        trade_date,
        close,
        high_52w,
        low_52w
    from stocks.high_low_52w
    where $__dateFilter(trade_date)
),

newest as (
    select
        symbol,
        max(trade_date) as trade_date
    from high_low
    group by symbol
),

positioned as (
    select
        hl.symbol as symbol,
        hl.trade_date as trade_date,
        hl.close as close,
        hl.high_52w as high_52w,
        hl.low_52w as low_52w,
        round(100 * (hl.close / hl.high_52w - 1), 2) as pct_from_high,
        round(100 * (hl.close / hl.low_52w - 1), 2) as pct_from_low
    from high_low as hl
    inner join newest as n
        on n.symbol = hl.symbol
        and n.trade_date = hl.trade_date
)

select * from positioned
order by pct_from_high desc, symbol
