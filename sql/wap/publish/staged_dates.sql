-- The trade dates of the rows this run staged for stocks.daily_prices, per trade_year: publish
-- merges the segments of a year these dates fall in and carries the others as they are
-- (glue_jobs/lake/segments.py). A row the audit quarantined still counts: its segment is
-- merged again, which changes nothing but the time it takes.
select
    trade_year,
    trade_date
from stocks.tmp_daily_prices
group by trade_year, trade_date
order by trade_year, trade_date
