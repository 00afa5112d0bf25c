-- The trade years of the rows this run fetched (stocks.tmp_daily_prices_fetched): the
-- partitions of stocks.daily_prices that wap/write_temp/changed_rows.sql reads, and only those.
select distinct trade_year
from stocks.tmp_daily_prices_fetched
order by trade_year
