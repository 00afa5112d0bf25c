-- The bench's serving figures (tickerlake bench): the bars published for one session, the
-- day the bench takes out of the serving table and serves again.
-- Parameters: day (a date).
select symbol, trade_date
from stocks.daily_prices
where trade_date = {{day}}
