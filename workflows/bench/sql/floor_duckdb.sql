-- The backfill's physical floor (tickerlake bench), in DuckDB's own dialect: the engine reads
-- the raw CSV bodies with their known types (the symbol from the path), and writes year
-- partitions sorted by symbol and date. No parsing checks, no audit, no merge: what any
-- pipeline that loads the raw zone into the published layout must at least do.
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
        year("timestamp") as trade_year
    from read_csv(
        {{raw_glob}},
        header = true,
        hive_partitioning = true,
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
) to {{out_dir}} (format parquet, partition_by (trade_year))
