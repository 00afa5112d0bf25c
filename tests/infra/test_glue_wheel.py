"""The Glue jobs run from our wheel, far from this checkout: it must carry every SQL file."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_carries_every_sql_and_rule_file(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("tickerlake-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        "glue_jobs/sql/" + p.relative_to(ROOT / "sql").as_posix()
        for p in (ROOT / "sql").rglob("*")
        if p.is_file() and p.suffix in (".sql", ".yml", ".json")
    }
    assert len(wanted) > 20
    assert wanted - names == set()
    assert {"workflows/cli/main.py", "ingestion/run_ingest.py", "workflows/entry/glue_stage.py"} <= names
