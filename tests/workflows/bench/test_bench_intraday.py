"""The intraday consumer's bench rows (issue 14's targets) judged from made-up figures, and
`tickerlake bench --intraday` run small end to end."""
from __future__ import annotations

import pytest

from workflows.bench import report
from workflows.bench.intraday_report import intraday_rows
from workflows.cli.main import main


def figures(**over):
    r = {"consumed": 20_000, "consume_seconds": 0.8, "consume_cpu_seconds": 0.7, "history_rows": 20_000,
         "consume_core_wait_seconds": 0.05, "startup_seconds": 0.4,
         "served": 20_100, "load_before": 0.5, "load_after": 0.7, "latency_records": 5000, "latency_rate": 1000,
         "latency_poll_seconds": 0.05, "latency_median_ms": 31.0, "latency_p99_ms": 120.0, "latency_max_ms": 150.0,
         "producer": producer()}
    return {"intraday": dict(r, **over)}


def producer(**over):
    p = {"label": "75/min key, 15 symbols, 3 simulated minutes", "interval_s": 12.0, "allowance": 75,
         "calls_per_window": [75, 74, 75], "calls": 224, "put": 224, "limit_bodies": 0}
    return dict(p, **over)


def test_figures_that_meet_the_targets_pass_and_cpu_and_p99_are_shown():
    rows = intraday_rows(figures())
    assert [r.verdict for r in rows] == [report.PASS, report.INFO, report.INFO, report.PASS, report.INFO,
                                         report.PASS, report.PASS]
    assert rows[0].value == "25,000 records/s (0.80 s)" and "load 0.5 before" in rows[0].measure
    assert rows[1].value.startswith("28,571 records/s")
    assert rows[2].value == "0.05 s / 0.40 s"
    assert rows[4].value == "120.0 ms / 150.0 ms"
    assert rows[5].value.startswith("98.7% (74 of 75 calls")  # the emptiest minute, not the mean


def test_a_kernel_that_does_not_say_the_core_wait_shows_not_measured():
    assert intraday_rows(figures(consume_core_wait_seconds=None))[2].value == "not measured / 0.40 s"


@pytest.mark.parametrize(("over", "failed"), [
    ({"consume_seconds": 1.01}, 0),  # 19,802 records/s
    ({"latency_median_ms": 200.0}, 3),
    ({"producer": producer(calls_per_window=[75, 73, 75])}, 5),  # 97.3 %
    ({"producer": producer(limit_bodies=1)}, 6),
])
def test_a_missed_target_fails_alone(over, failed):
    assert [i for i, r in enumerate(intraday_rows(figures(**over))) if r.verdict == report.FAIL] == [failed]


def test_figures_not_measured_fail():
    assert [r.verdict for r in intraday_rows({})] == [report.FAIL]


def test_bench_intraday_measures_both_and_prints_the_verdicts(tmp_path, capsys):
    assert main(["bench", "--intraday", "--workdir", str(tmp_path), "--intraday-records", "400",
                 "--intraday-rate", "200", "--intraday-seconds", "1"]) == 0
    out = capsys.readouterr().out
    assert "Intraday consumer, end to end (400 records" in out
    assert "(200 records put at 200/s" in out
    assert "waiting for a core" in out and "not measured" not in out
    assert out.count("PASS |") + out.count("FAIL |") == 4
    # the producer against the fake Alpha Vantage: the whole minute allowance, no limit body
    assert "use of the key's allowance (75/min key" in out and "| 100.0% (75 of 75 calls" in out
    assert not (tmp_path / "intraday").exists()  # the bench's lakes are removed
