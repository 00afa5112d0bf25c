"""The processor's one-time costs (the holiday calendar, the Parquet writer's import) are paid
when it is opened, at `stream consume`'s start-up and the Lambda's init, not by the first
batch of a drain; and the warm-up of a processor that leaves the history to Firehose does not
need pyarrow, which the Kinesis consumer Lambda does not carry."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

DRAIN_AFTER_OPEN = """
import os, sys
from glue_jobs.intraday import Consumer
from glue_jobs.runtime import open_runtime
from workflows.intraday import open_processor
runtime = open_runtime(sys.argv[1])
consumer = Consumer(runtime.stream, open_processor(runtime, env=os.environ), runtime.queue_factory("intraday-failures"))
before = set(sys.modules)
result = consumer.drain()
assert result.accepted == 30, result.to_dict()
print(sorted(set(sys.modules) - before))
"""

WARM_WITHOUT_PYARROW = """
import sys
sys.modules["pyarrow"] = None  # the Kinesis consumer Lambda's bundle has no pyarrow
from glue_jobs.intraday import Processor
Processor(storage=None, quotes=None, notifier=None, sent=None, thresholds=None, history=None).warm()
print("warm")
"""


def _run(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=str(ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_a_drain_after_the_processor_is_opened_imports_nothing(tmp_path):
    lake = tmp_path / "lake"
    _run("import sys; from workflows.cli.main import main; sys.exit(main(sys.argv[1:]))",
         "stream", "produce", "--source", "synthetic", "--symbols", "AAA,BBB,CCC", "--records", "30",
         "--interval", "1s", "--lake", str(lake))
    assert _run(DRAIN_AFTER_OPEN, str(lake)) == "[]"


def test_warming_a_processor_without_a_history_writer_does_not_need_pyarrow():
    assert _run(WARM_WITHOUT_PYARROW) == "warm"
