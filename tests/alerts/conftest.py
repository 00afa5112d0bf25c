from __future__ import annotations

import sys
from pathlib import Path

# the in-memory DuckDB lake of the dashboard tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboards"))
