-- The newest session's intraday quotes in the time range, per selected symbol: the price, and
-- the price again in `anomaly` where the quote is beyond the anomaly threshold (drawn as marks).
-- The threshold is the alerts' daily_move.percent, the one the consumer flags with: the local
-- page binds anomaly_percent from the alerts configuration, the Grafana dashboard holds it as
-- a constant of the shipped sql/alerts/alerts.yml (workflows/dashboards/constants.py).
with

quotes as (
    select
        symbol,
        event_time_ms,
        price,
        change_percent,
        latest_trading_day
    from stocks.intraday_quotes
    where symbol in (${symbol:singlequote})
        -- dt is the UTC arrival day, the partition: Athena reads only the days in range
        and dt between date_format($__timeFrom(), '%Y-%m-%d') and date_format($__timeTo(), '%Y-%m-%d')
),

newest_session as (
    select max(latest_trading_day) as session
    from quotes
),

marked as (
    select
        q.symbol as symbol,
        -- event time in UTC (from_unixtime types a zone the local engine does not yet)
        date_add('millisecond', q.event_time_ms, timestamp '1970-01-01 00:00:00') as quote_time,
        q.price as price,
        case when abs(q.change_percent) > ${anomaly_percent:raw} then q.price end as anomaly
    from quotes as q
    inner join newest_session as s
        on q.latest_trading_day = s.session
)

select * from marked
order by quote_time, symbol
