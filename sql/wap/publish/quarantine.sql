-- One partition (trade_year) of stocks.daily_prices_quarantine after this run: the rows
-- quarantined so far plus the rows this run's audit held back. The table accumulates: a row
-- is kept once per ingest run and raw line, with the first audit that quarantined it, so
-- auditing the same ingest run again adds nothing.
-- Parameters: trade_year.
with

current_rows as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        fetched_at,
        ingest_run_id,
        ingest_date,
        source_file,
        raw_line,
        rule,
        reason,
        run_id
    from stocks.daily_prices_quarantine
    where trade_year = {{trade_year}}
),

new_rows as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        fetched_at,
        ingest_run_id,
        ingest_date,
        source_file,
        raw_line,
        rule,
        reason,
        run_id
    from stocks.tmp_daily_prices_quarantine
    where trade_year = {{trade_year}}
),

candidates as (
    select * from current_rows
    union all
    select * from new_rows
),

first_seen as (
    select
        *,
        row_number() over (
            partition by ingest_run_id, symbol, raw_line
            order by run_id
        ) as seen
    from candidates
),

accumulated as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        fetched_at,
        ingest_run_id,
        ingest_date,
        source_file,
        raw_line,
        rule,
        reason,
        run_id
    from first_seen
    where seen = 1
)

select * from accumulated
order by symbol, trade_date, ingest_run_id, raw_line
