-- The benchmark's analysis-view query (tickerlake bench): one symbol's whole history from a
-- view of sql/views/, as an analysis of one stock reads it.
-- Parameters: view (an identifier), symbol.
select *
from {{view}}
where symbol = {{symbol}}
order by trade_date
