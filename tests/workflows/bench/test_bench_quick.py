"""`tickerlake bench --quick` end to end, so the benchmark keeps working (figures vary with the
machine; only what does not depend on timing is asserted)."""
from __future__ import annotations

import json

import pytest

from workflows.cli.main import main


@pytest.mark.slow
def test_quick_bench_measures_every_phase_and_writes_the_table(tmp_path, capsys):
    assert main(["bench", "--quick", "--workdir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    table = (tmp_path / "bench.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and line.endswith(("PASS |", "FAIL |"))]
    assert len(rows) == 20, table  # one line per target of issues 6 and 15, 3 of the serving table, 4 intraday (consumer, latency, producer allowance and limit bodies)
    assert "Audit share of the backfill" in table and "Naive / backfill" in table

    m = json.loads((tmp_path / "bench.json").read_text())
    symbols, history_rows = m["scale"]["symbols"], m["land_full"]["rows"]
    assert m["backfill"]["rows"] == history_rows == m["floor"]["rows"] == m["naive"]["rows"]
    assert m["audited_floor"]["rows"] == history_rows  # every well-formed line passes its check
    assert m["format_floor"]["rows"] == history_rows
    assert m["backfill"]["published_rows"] == history_rows
    # a real day: compact bodies of 100 sessions, one new per symbol, plus the restated bars of
    # every 50th symbol (2 revised that day, 2 put back from the day before after the first)
    restated = len(range(0, symbols, 50))
    assert m["day_full"]["rows"] == m["day_small"]["rows"] == symbols * 100
    assert m["first_day_full"]["published_rows"] == symbols + 2 * restated
    for n in (1, 2, 3):
        day = m[f"day_full_{n}"]
        assert day["published_rows"] == symbols + 4 * restated
        assert day["unchanged_rows"] == day["rows"] - day["published_rows"]
    # the day shown is the median of three measured days, each on the history before it
    runs = m["day_full"]["runs"]
    assert len(runs) == 3 and m["day_full"]["wap_seconds"] == sorted(runs)[1]
    assert [m[f"day_full_{n}"]["history_rows"] for n in (1, 2, 3)] == [
        history_rows + symbols * n for n in (1, 2, 3)]
    assert m["page"]["seconds"] > 0
    assert m["land_small"]["rows"] * 8 < history_rows  # the small history is about a tenth
    assert not m["queries"]["errors"] and all(m["queries"]["panels"].values())
    # the simulated clock makes the ingestion figures exact: the quota used, no limit answered
    for key in ("free", "premium"):
        k = m["ingestion"][key]
        assert k["limit_bodies"] == 0 and sum(k["calls_per_window"]) >= 0.98 * k["allowance"] * len(k["calls_per_window"])
    assert "Ingestion, free key" in printed and "limit bodies received | 0 | 0 | PASS" in printed
    # the serving figures: the newest day's bars served again, a rebuild of every published row
    serving = m["serving"]
    assert serving["day_bars"] == serving["day_written"] == symbols
    assert serving["rebuild_rows"] == serving["rebuild_written"] == history_rows + symbols * 4
    assert serving["get_samples"] == min(200, symbols) and "A day into the serving table" in table
    # the lakes are removed unless --keep, the table and logs stay
    assert not (tmp_path / "lake_full").exists() and (tmp_path / "logs" / "backfill_full.log").exists()
