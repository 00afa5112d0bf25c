"""Constants of the Alpha Vantage TIME_SERIES_DAILY endpoint and of our use of it.

Limits (checked against public reports, see tests/fixtures/alphavantage/SOURCES.md):
a free key gets 25 requests a day and answers bursts faster than about one request a
second with an `Information` body; premium plans are counted per minute (75 and up).
Our defaults are the free key's: 25 a day, at most 5 a minute and at least 1.2 s
between calls. 5 a minute is the old documented free rate, well under the burst
limit, and costs nothing that matters: 25 calls take five minutes, inside a Lambda's
15. Premium users raise TICKERLAKE_CALLS_PER_MINUTE / TICKERLAKE_CALLS_PER_DAY.
"""
from __future__ import annotations

DEFAULT_BASE_URL = "https://www.alphavantage.co/query"
FUNCTION = "TIME_SERIES_DAILY"

# JSON body layout.
META_KEY = "Meta Data"
SERIES_KEY = "Time Series (Daily)"
META_SYMBOL = "2. Symbol"
META_LAST_REFRESHED = "3. Last Refreshed"
META_OUTPUT_SIZE = "4. Output Size"
META_TIME_ZONE = "5. Time Zone"
BAR_FIELDS = ("1. open", "2. high", "3. low", "4. close", "5. volume")
# Every problem comes back as HTTP 200 with one of these keys instead of the data.
MESSAGE_KEYS = ("Note", "Information", "Error Message")

# CSV body layout (also the raw zone's layout, whatever the source).
CSV_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")

OUTPUTSIZE_COMPACT = "compact"  # the latest 100 sessions; the only size a free key gets
OUTPUTSIZE_FULL = "full"  # 20+ years; premium only on this endpoint
COMPACT_BARS = 100

DATATYPE_CSV = "csv"
DATATYPE_JSON = "json"
DATATYPES = (DATATYPE_CSV, DATATYPE_JSON)
# CSV by default: Athena and the Glue crawler read line-oriented CSV natively, while the
# JSON body is pretty-printed with dates as object keys, which Athena's JSON SerDe cannot read.
DEFAULT_DATATYPE = DATATYPE_CSV

FREE_CALLS_PER_DAY = 25
DEFAULT_CALLS_PER_MINUTE = 5
DEFAULT_MIN_INTERVAL_S = 1.2

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_ATTEMPTS = 4  # HTTP attempts per call for transport errors and 5xx
DEFAULT_BACKOFF_BASE_S = 2.0
DEFAULT_BACKOFF_MAX_S = 60.0

# Configuration names (environment variables; the CLI flags mirror them).
ENV_API_KEY = "ALPHAVANTAGE_API_KEY"
ENV_BASE_URL = "ALPHAVANTAGE_BASE_URL"
ENV_SECRET_ID = "ALPHAVANTAGE_SECRET_ID"  # Secrets Manager secret holding the key, on AWS
ENV_CALLS_PER_MINUTE = "TICKERLAKE_CALLS_PER_MINUTE"
ENV_CALLS_PER_DAY = "TICKERLAKE_CALLS_PER_DAY"
ENV_MIN_INTERVAL_S = "TICKERLAKE_MIN_INTERVAL_S"
