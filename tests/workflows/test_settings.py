import datetime as dt

import pytest

from glue_jobs.lake import trading_calendar
from glue_jobs.lake.errors import ConfigError
from workflows.settings import DEFAULT_SYMBOLS, build_settings, parse_symbols

FIXED_ENV: dict[str, str] = {}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "yahoo"}, r"--source 'yahoo' is unknown: choose one of synthetic, alphavantage"),
        ({"date": "2026-13-01"}, r"--date '2026-13-01' is not a date: expected YYYY-MM-DD"),
        ({"date": "2026-11-22"}, r"2026-11-22 \(Sunday\) is not an NYSE session; the session before it is 2026-11-20"),
        ({"date": "2026-11-26"}, r"2026-11-26 \(Thursday\) is not an NYSE session"),
        ({"date": "2099-01-02"}, r"has not closed yet"),
        ({"date": "2026-11-20", "start": "2026-11-23"}, r"--start 2026-11-23 is after the as-of date 2026-11-20"),
        ({"symbols": "AAPL,MS FT$"}, r"'FT\$' is not a ticker symbol"),
        ({"symbols": "AAPL", "symbols_file": "x.txt"}, r"not both"),
        ({"symbols_file": "/nonexistent/symbols.txt"}, r"--symbols-file /nonexistent/symbols.txt: no such file"),
        ({"calls_per_minute": "0"}, r"--calls-per-minute must be at least 1"),
        ({"calls_per_day": "many"}, r"--calls-per-day 'many' is not a whole number"),
        ({"env": {"TICKERLAKE_CALLS_PER_DAY": "-3"}}, r"TICKERLAKE_CALLS_PER_DAY must be at least 1, got -3"),
        ({"symbols": " , "}, r"no symbols given"),
    ],
)
def test_bad_configuration_is_refused_with_a_message_naming_the_flag(kwargs, message):
    kwargs = {"env": FIXED_ENV, **kwargs}
    with pytest.raises(ConfigError, match=message):
        build_settings(**kwargs)


@pytest.mark.parametrize("now, session", [
    (dt.datetime(2026, 11, 18, 21, 5, tzinfo=dt.timezone.utc), dt.date(2026, 11, 18)),  # Wed, 16:05 in New York
    (dt.datetime(2026, 11, 18, 20, 55, tzinfo=dt.timezone.utc), dt.date(2026, 11, 17)),  # Wed, before the close
    (dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc), dt.date(2026, 11, 20)),  # Sunday: Friday's
])
def test_defaults_leave_limits_to_the_source_and_take_the_latest_closed_session(monkeypatch, now, session):
    real = trading_calendar.latest_completed_session
    monkeypatch.setattr(trading_calendar, "latest_completed_session", lambda at=None: real(at or now))
    s = build_settings(env=FIXED_ENV)
    assert s.lake == "lake" and s.source == "synthetic"
    assert s.symbols == list(DEFAULT_SYMBOLS)
    assert (s.calls_per_minute, s.calls_per_day) == (None, None)
    assert s.as_of == session


def test_flags_win_over_environment():
    env = {"TICKERLAKE_LAKE": "/tmp/envlake", "TICKERLAKE_SYMBOLS": "IBM", "TICKERLAKE_CALLS_PER_DAY": "500"}
    from_env = build_settings(env=env)
    assert (from_env.lake, from_env.symbols, from_env.calls_per_day) == ("/tmp/envlake", ["IBM"], 500)
    flagged = build_settings(env=env, lake="mine", symbols="msft,aapl", calls_per_day=30)
    assert (flagged.lake, flagged.symbols, flagged.calls_per_day) == ("mine", ["MSFT", "AAPL"], 30)


def test_symbols_file_with_comments_and_a_bad_line_named(tmp_path):
    good = tmp_path / "symbols.txt"
    good.write_text("# my watchlist\nAAPL, msft\nBRK-B  # class B\nSHOP.TRT\nAAPL\n")
    assert build_settings(env=FIXED_ENV, symbols_file=str(good)).symbols == ["AAPL", "MSFT", "BRK-B", "SHOP.TRT"]
    bad = tmp_path / "bad.txt"
    bad.write_text("AAPL\nMSFT\nno/pe\n")
    with pytest.raises(ConfigError, match=r"bad.txt line 3: 'no/pe' is not a ticker symbol"):
        build_settings(env=FIXED_ENV, symbols_file=str(bad))


def test_parse_symbols_deduplicates_and_uppercases():
    assert parse_symbols("ibm IBM,aapl", "--symbols") == ["IBM", "AAPL"]


def test_workgroup_and_topic_come_from_flags_or_the_environment():
    env = {"TICKERLAKE_WORKGROUP": "from-env", "TICKERLAKE_TOPIC_ARN": "arn:aws:sns:us-east-1:1:t"}
    assert build_settings(env=env).workgroup == "from-env"
    assert build_settings(workgroup="from-flag", env=env).workgroup == "from-flag"
    assert build_settings(env=env).topic_arn == "arn:aws:sns:us-east-1:1:t"
    assert (build_settings(env={}).workgroup, build_settings(env={}).topic_arn) == (None, None)


@pytest.mark.parametrize("value", ["20261120", "2026-W47-5", "2026-11-20T00:00", "2026-11-20 ", "+2026-11-20"])
def test_dates_are_exactly_yyyy_mm_dd(value):
    with pytest.raises(ConfigError, match="expected YYYY-MM-DD"):
        build_settings(env=FIXED_ENV, date=value.replace(" ", "x"))


def test_a_backdated_alphavantage_date_warns_that_compact_is_the_last_100_sessions():
    s = build_settings(env={"ALPHAVANTAGE_API_KEY": "k"}, source="alphavantage", date="2026-06-01", ingests=True)
    assert any("last 100 sessions" in w and "--date 2026-06-01" in w for w in s.warnings)
    assert build_settings(env={}, date="2026-06-01", ingests=True).warnings == []  # synthetic: no warning


def test_unknown_names_warn_with_the_closest_known_one():
    s = build_settings(env={"TICKERLAKE_CALLS_PER_DAYS": "5", "TICKERLAKE_AUDIT_MIN_ROW": "1"})
    assert any("did you mean TICKERLAKE_CALLS_PER_DAY?" in w for w in s.warnings)
    assert any("did you mean TICKERLAKE_AUDIT_MIN_ROWS?" in w for w in s.warnings)


def test_a_missing_api_key_is_refused_only_for_commands_that_fetch():
    with pytest.raises(ConfigError, match="needs an API key"):
        build_settings(env={}, source="alphavantage", ingests=True)
    assert build_settings(env={}, source="alphavantage").source == "alphavantage"  # e.g. query, runs
