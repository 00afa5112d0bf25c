"""What `make package` ships: the Lambda zip carries our code and its few dependencies, is
reproducible, and the handler imports without the heavy libraries only Glue gets."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("tickerlake_package", ROOT / "infra" / "package.py")
package = importlib.util.module_from_spec(spec)
spec.loader.exec_module(package)


def fake_deps(tmp_path: Path) -> Path:
    deps = tmp_path / "deps"
    (deps / "requests").mkdir(parents=True)
    (deps / "requests" / "__init__.py").write_text("# requests\n")
    (deps / "requests-2.32.0.dist-info").mkdir()
    (deps / "requests-2.32.0.dist-info" / "RECORD").write_text("")
    (deps / "requests" / "__pycache__").mkdir()
    (deps / "requests" / "__pycache__" / "x.cpython-312.pyc").write_bytes(b"\0")
    return deps


def test_the_lambda_zip_holds_our_packages_and_its_dependencies_and_nothing_stale(tmp_path):
    bundle = package.lambda_zip(fake_deps(tmp_path), tmp_path / "out")
    names = zipfile.ZipFile(bundle).namelist()
    assert "workflows/entry/lambda_handler.py" in names
    assert "glue_jobs/lake/run_log.py" in names and "workflows/settings.py" in names
    assert "requests/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n or ".dist-info" in n or n.endswith(".pyc")]


def test_the_lambda_zip_is_named_by_its_content_and_rebuilds_identically(tmp_path):
    deps = fake_deps(tmp_path)
    first = package.lambda_zip(deps, tmp_path / "a")
    second = package.lambda_zip(deps, tmp_path / "b")
    assert first.name == second.name and first.read_bytes() == second.read_bytes()
    (deps / "requests" / "__init__.py").write_text("# requests, patched\n")
    assert package.lambda_zip(deps, tmp_path / "c").name != first.name


BLOCK_HEAVY = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'pyarrow', 'pandas', 'duckdb', 'great_expectations', 'sqlglot', 'numpy'}:
            raise ImportError(name + ' is not in the Lambda bundle')
sys.meta_path.insert(0, Block())
import workflows.entry.lambda_handler as h
assert callable(h.handler)
"""


def test_the_handler_imports_without_the_libraries_only_glue_jobs_get():
    result = subprocess.run([sys.executable, "-c", BLOCK_HEAVY], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
