-- The values of the dashboard's symbol variable: every symbol in the lake.
select distinct symbol
from stocks.daily_prices
order by symbol
