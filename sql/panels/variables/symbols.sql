-- The values of the dashboard's symbol variable: every symbol in the lake (from each symbol's
-- years in stocks.symbol_years, not from its bars).
select distinct symbol
from stocks.symbol_years
order by symbol
