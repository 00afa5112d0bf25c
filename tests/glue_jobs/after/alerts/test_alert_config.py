from __future__ import annotations

import pytest

from glue_jobs.after.alerts.config import PriceLevel, load_config, parse_config
from glue_jobs.lake.errors import ConfigError


def test_shipped_defaults_load():
    cfg = load_config({}, env={})
    assert cfg.daily_move_percent > 0 and cfg.volume_ratio >= 1 and cfg.lookback_sessions >= 1


def test_levels_as_a_list_watch_both_ways_and_as_a_mapping_one_way():
    cfg = parse_config({"price_levels": {"aapl": [200, 250.5], "MSFT": {"up": 400, "down": [300]}}})
    assert cfg.price_levels["AAPL"] == (PriceLevel(200.0), PriceLevel(250.5))
    assert cfg.price_levels["MSFT"] == (PriceLevel(400.0, ("up",)), PriceLevel(300.0, ("down",)))


def test_file_then_settings_override_the_defaults(tmp_path):
    override = tmp_path / "alerts.yml"
    override.write_text("daily_move:\n  percent: 8\nprice_levels:\n  IBM: [150]\n")
    cfg = load_config({"alerts": {"volume_spike": {"ratio": 4}}}, env={"TICKERLAKE_ALERTS_FILE": str(override)})
    assert cfg.daily_move_percent == 8.0
    assert cfg.volume_ratio == 4.0
    assert cfg.volume_min_sessions == load_config({}, env={}).volume_min_sessions
    assert set(cfg.price_levels) == {"IBM"}


@pytest.mark.parametrize("doc, message", [
    ({"daily_move": {"percent": "five"}}, r"daily_move.percent must be a number"),
    ({"volume_spike": {"ratio": 0.5}}, r"volume_spike.ratio must be at least 1"),
    ({"lookback_sessions": 2.5}, r"lookback_sessions must be a whole number"),
    ({"price_levels": {"AAPL": {"sideways": [1]}}}, r"price_levels.AAPL has sideways"),
    ({"price_levels": {"AAPL": "high"}}, r"price_levels.AAPL must be a list"),
    ({"dayly_move": {}}, r"unknown setting\(s\) dayly_move"),
])
def test_mistakes_name_the_setting(doc, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(doc)


def test_a_missing_override_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"TICKERLAKE_ALERTS_FILE: .*nope.yml does not exist"):
        load_config({}, env={"TICKERLAKE_ALERTS_FILE": str(tmp_path / "nope.yml")})
