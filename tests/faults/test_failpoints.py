"""The failpoints themselves: armed only by name, fire on the chosen hit, cost nothing when
off, and the documented list matches the points in the code."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from glue_jobs.lake import failpoints
from glue_jobs.lake.failpoints import InjectedFault

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def disarm_after():
    yield
    failpoints.reset({})


def arm(name: str, action: str = "raise", hit: int = 1, match: str = "") -> None:
    failpoints.reset({failpoints.ENV_POINT: name, failpoints.ENV_ACTION: action,
                      failpoints.ENV_HIT: str(hit), failpoints.ENV_MATCH: match})


def test_only_the_armed_point_fires_and_only_on_the_chosen_matching_hit():
    arm("publish.after_data_write", hit=2, match="daily_prices/")
    failpoints.hit("publish.before_switch", "daily_prices")
    failpoints.hit("publish.after_data_write", "daily_prices_quarantine/trade_year=2024")  # no match
    failpoints.hit("publish.after_data_write", "daily_prices/trade_year=2023")  # first match
    with pytest.raises(InjectedFault, match=r"publish.after_data_write \[daily_prices/trade_year=2024\]"):
        failpoints.hit("publish.after_data_write", "daily_prices/trade_year=2024")
    failpoints.hit("publish.after_data_write", "daily_prices/trade_year=2025")  # fired once, done


def test_sleep_holds_the_caller():
    arm("runner.before_ingest", "sleep:0.2")
    started = time.monotonic()
    failpoints.hit("runner.before_ingest")
    assert time.monotonic() - started >= 0.2


def test_a_bad_action_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match="TICKERLAKE_FAILPOINT_ACTION='explode'"):
        arm("x", "explode")
    with pytest.raises(ValueError, match=r"TICKERLAKE_FAILPOINT_ACTION='sleep:soon': sleep:N needs N in seconds"):
        arm("x", "sleep:soon")


def test_kill_ends_the_process_with_sigkill_and_says_where():
    code = "from glue_jobs.lake import failpoints; failpoints.hit('ledger.after_data_write', 'x'); print('survived')"
    env = {"PATH": "/usr/bin:/bin", failpoints.ENV_POINT: "ledger.after_data_write"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO)
    assert done.returncode == -9 and "survived" not in done.stdout
    assert "failpoint ledger.after_data_write [x]: kill" in done.stderr


def test_a_disarmed_point_reads_nothing_and_does_nothing(monkeypatch):
    # what keeps a disarmed hit cheap: the environment is read once, not at every point reached
    failpoints.reset({})
    monkeypatch.setenv(failpoints.ENV_POINT, "publish.after_data_write")
    monkeypatch.setenv(failpoints.ENV_ACTION, "raise")
    reads = []
    monkeypatch.setattr(failpoints, "reset", lambda env=None: reads.append(env))
    for _ in range(1000):
        failpoints.hit("publish.after_data_write", "daily_prices/trade_year=2024")
    assert reads == []


def _documented() -> set[str]:
    doc = failpoints.__doc__ or ""
    names = re.findall(r"^    ([a-z_]+(?:\.[a-z_<>]+)+)\s", doc, re.MULTILINE)
    return {n for n in names if not n.startswith("TICKERLAKE")}


def _in_code() -> set[str]:
    found = set()
    for folder in ("glue_jobs", "ingestion", "workflows"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text()
            found.update(re.findall(r'failpoints\.hit\("([a-z_.]+)"', text))
            # a helper that hits the point its caller names (sqlite_files.BackgroundCheckpoint)
            found.update(re.findall(r'\bfailpoint="([a-z_.]+)"', text))
            found.update(f"runner.{m}_<stage>" for m in re.findall(r'failpoints\.hit\(f"runner\.(before|after)_\{', text))
    return found


def test_every_documented_point_is_in_the_code_and_every_point_is_documented():
    assert _documented() == _in_code()
