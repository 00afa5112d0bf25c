-- The lake's first and newest session: the local page's default time range.
select
    min(trade_date) as first_date,
    max(trade_date) as last_date
from stocks.daily_prices
