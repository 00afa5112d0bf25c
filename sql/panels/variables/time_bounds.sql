-- The lake's first and newest session: the local page's default time range (from
-- stocks.symbol_years, each symbol's first and newest bar per year, not from every bar).
select
    min(first_date) as first_date,
    max(newest_date) as last_date
from stocks.symbol_years
