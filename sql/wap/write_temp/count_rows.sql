-- How many rows a table holds. Parameters: table (an identifier).
select count(*) as row_count
from {{table}}
