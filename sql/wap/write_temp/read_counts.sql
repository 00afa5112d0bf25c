-- Raw data rows per ingest run and symbol, as the engine read them: stocks.tmp_daily_prices
-- as wap/write_temp/write_temp.sql first wrote it (every row read, none dropped yet). For the run log's
-- reconciliation, the comparison with the manifests and the audit's row-count rule.
with

read_rows as (
    select
        ingest_run_id,
        symbol
    from stocks.tmp_daily_prices
),

per_fetch as (
    select
        ingest_run_id,
        symbol,
        count(*) as raw_rows
    from read_rows
    group by ingest_run_id, symbol
)

select * from per_fetch
order by ingest_run_id, symbol
