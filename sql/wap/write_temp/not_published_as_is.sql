-- The rows this run audits and publishes, on a day wap/write_temp/published_as_is.sql marked
-- the fetched rows (stocks.tmp_daily_prices_fetched) against every published year they fall
-- in and no symbol and date came twice: the rows not marked. The same rows as
-- wap/write_temp/changed_rows.sql, without joining the published year a second time.
with

changed_rows as (
    select
        symbol,
        trade_date,
        open,
        high,
        low,
        close,
        volume,
        fetched_at,
        forming_date,
        ingest_run_id,
        ingest_date,
        source_file,
        raw_line,
        parse_error,
        trade_year
    from stocks.tmp_daily_prices_fetched
    where not published_as_is
)

select * from changed_rows
