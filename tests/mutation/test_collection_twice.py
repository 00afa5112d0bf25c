"""mutmut collects the tests more than once in one process: its fork server collects the
selection to warm up, then each clean or mutant run collects again and runs the node ids mutmut
recorded in its first pass. pytest keeps a parametrize mark's escaped ids on the mark, and a
second collection escapes them again, so an id with a backslash or a non-ASCII character changes
between the two and mutmut's run stops with pytest's exit code 4 ("not found")."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_TWICE = textwrap.dedent("""
    import json, sys, tomllib
    import pytest

    selection = tomllib.load(open("pyproject.toml", "rb"))["tool"]["mutmut"]["pytest_add_cli_args_test_selection"]
    runs = []
    for _ in range(2):
        class Ids:
            def pytest_collection_modifyitems(self, items):
                runs.append([item.nodeid for item in items])
        code = pytest.main(["--collect-only", "-qqq", "-p", "no:cacheprovider", *selection], plugins=[Ids()])
        if code != 0:
            sys.exit(f"collection exited {code}")
    print(json.dumps(runs))
""")


def test_every_test_mutmut_selects_keeps_its_id_in_a_second_collection():
    done = subprocess.run([sys.executable, "-c", _TWICE], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    first, second = json.loads(done.stdout.strip().splitlines()[-1])
    assert first, "the selection collected no tests"
    changed = sorted(set(first) - set(second))
    assert not changed, f"{len(changed)} test ids change in a second collection, e.g. {changed[0]}"
