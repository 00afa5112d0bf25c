-- What one publish changed in a partition (trade_year) of stocks.daily_prices, read right after
-- the catalog switched it: its rows at the keys this run staged (stocks.tmp_daily_prices). The
-- serving table's loader writes these instead of comparing the partition's two versions.
--
-- Every row the switch can have changed is here: merge.sql keeps each current row not contested
-- by a staged one as it was, so a row that differs from the previous version has a staged key;
-- and it drops no key, so nothing is deleted. A staged key whose published row won its ranking
-- comes back unchanged: written again at the new version, the same values.
-- Parameters: trade_year.
select
    d.symbol,
    d.trade_date,
    d.open,
    d.high,
    d.low,
    d.close,
    d.volume,
    d.ingest_run_id
from stocks.daily_prices as d
where d.trade_year = {{trade_year}}
    and exists (
        select 1
        from stocks.tmp_daily_prices as t
        where t.trade_year = {{trade_year}}
            and t.symbol = d.symbol
            and t.trade_date = d.trade_date
    )
order by d.symbol, d.trade_date
