-- The floor in the published files' format (tickerlake bench), in DuckDB's own dialect: the
-- floor's read and sort (floor_duckdb.sql), written as publish writes a year of
-- stocks.daily_prices: with the ingest run and the fetch time beside each bar (the fetch time
-- is taken from the run's id here, which names when it ran) and zstd-compressed. What the
-- published layout costs before any check: the part of the 2x target that the table's own
-- format takes.
-- Parameters: raw_glob, out_dir (literals).
copy (
    select
        symbol,
        "timestamp" as trade_date,
        open,
        high,
        low,
        close,
        volume,
        strptime(left(run_id, 16), '%Y%m%dT%H%M%SZ') as fetched_at,
        run_id as ingest_run_id,
        year("timestamp") as trade_year
    from read_csv(
        {{raw_glob}},
        header = true,
        hive_partitioning = true,
        hive_types = {'ingest_date': 'VARCHAR', 'symbol': 'VARCHAR', 'run_id': 'VARCHAR'},
        columns = {
            'timestamp': 'DATE',
            'open': 'DOUBLE',
            'high': 'DOUBLE',
            'low': 'DOUBLE',
            'close': 'DOUBLE',
            'volume': 'BIGINT'
        }
    )
    order by symbol, trade_date
) to {{out_dir}} (format parquet, compression zstd, partition_by (trade_year))
