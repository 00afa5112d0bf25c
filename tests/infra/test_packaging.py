"""What `make package` ships: the Lambda zip carries our code and its few dependencies with their
metadata, is reproducible, its dependencies are pinned for the platform the template runs, and
the handler imports without the heavy libraries only Glue gets. The real bundle, built from the
real wheels and imported by Python 3.12, is tests/infra/test_lambda_bundle_real.py."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cfnlint.decode import decode

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
    assert "requests-2.32.0.dist-info/RECORD" in names  # metadata stays: see the next test
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


SELF_VERSIONED = """
from importlib.metadata import version
__version__ = version("selfversioned")  # as holidays does in holidays/version.py
"""


def test_a_dependency_that_reads_its_own_metadata_imports_from_the_bundle(tmp_path):
    # holidays reads its version from its *.dist-info at import: a bundle without the metadata
    # fails every invocation with Runtime.ImportModuleError (issue 12, finding 1).
    deps = fake_deps(tmp_path)
    (deps / "selfversioned").mkdir()
    (deps / "selfversioned" / "__init__.py").write_text(SELF_VERSIONED)
    (deps / "selfversioned-1.2.3.dist-info").mkdir()
    (deps / "selfversioned-1.2.3.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: selfversioned\nVersion: 1.2.3\n")
    bundle = package.lambda_zip(deps, tmp_path / "out")
    task = tmp_path / "task"
    zipfile.ZipFile(bundle).extractall(task)
    # -I -S: nothing of this venv, only the bundle (Lambda's /var/task) and the standard library
    code = f"import sys; sys.path.insert(0, {str(task)!r}); import selfversioned; print(selfversioned.__version__)"
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], cwd=task, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "1.2.3"


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


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3])


def test_the_lambda_lock_pins_every_package_with_its_hash_and_an_sdk_with_conditional_writes():
    pins = package.read_lock()
    lines = [ln for ln in package.LAMBDA_LOCK.read_text().splitlines() if ln and not ln.startswith("#")]
    assert len(lines) == len(pins) and all(" --hash=sha256:" in ln for ln in lines)
    # the bundle brings its own SDK: the runtime's boto3 is whatever Lambda last installed
    assert {"boto3", "botocore", "s3transfer", "urllib3", "holidays", "requests", "tzdata"} <= set(pins)
    # S3 PutObject IfNoneMatch (the lake lock's create-only write): botocore 1.35.10 or later
    assert _version(pins["botocore"]) >= (1, 35, 10), pins["botocore"]


def test_an_unpinned_lock_line_is_refused_naming_the_line_and_the_fix(tmp_path):
    lock = tmp_path / "lambda-requirements.txt"
    lock.write_text("# pinned\nrequests==2.32.0 --hash=sha256:ab\nholidays>=0.60\n")
    with pytest.raises(SystemExit) as refused:
        package.read_lock(lock)
    assert "lambda-requirements.txt:3" in str(refused.value) and "holidays>=0.60" in str(refused.value)
    assert "python infra/package.py lock" in str(refused.value)


def test_the_lambda_dependencies_are_built_for_the_runtime_and_architecture_the_template_runs():
    parsed, errors = decode(str(ROOT / "infra" / "template.yaml"))
    assert not errors, errors
    function = parsed["Resources"]["IngestFunction"]["Properties"]
    assert function["Runtime"] == f"python{package.LAMBDA_PYTHON}"
    # Lambda's default architecture is x86_64; an arm64 function needs aarch64 wheels
    assert function.get("Architectures", ["x86_64"]) == [package.LAMBDA_ARCH]
    wheel_arch = {"x86_64": "x86_64", "arm64": "aarch64"}[package.LAMBDA_ARCH]
    assert f"manylinux2014_{wheel_arch}" in package.LAMBDA_PLATFORM


def test_a_warm_build_takes_the_locked_wheels_from_the_cache_without_the_index(tmp_path, monkeypatch):
    lock = tmp_path / "lambda-requirements.txt"
    lock.write_text("requests==2.32.0 --hash=sha256:ab\ncharset-normalizer==3.4.0 --hash=sha256:cd\n")
    calls = []
    monkeypatch.setattr(package, "_pip", lambda *args, what: calls.append(args))
    wheels = package.fetch_lambda_wheels(tmp_path / "cache", lock)
    assert len(calls) == 1 and calls[0][0] == "download"  # cold: asks the index once
    (wheels / "requests-2.32.0-py3-none-any.whl").write_bytes(b"")
    (wheels / "charset_normalizer-3.4.0-cp312-cp312-manylinux_2_17_x86_64.whl").write_bytes(b"")
    assert package.fetch_lambda_wheels(tmp_path / "cache", lock) == wheels and len(calls) == 1  # warm: nothing
    lock.write_text("requests==2.32.3 --hash=sha256:ef\ncharset-normalizer==3.4.0 --hash=sha256:cd\n")
    package.fetch_lambda_wheels(tmp_path / "cache", lock)
    assert len(calls) == 2  # a new pin is fetched, not served by the stale wheel


def test_the_wheel_lists_every_package_so_glue_jobs_can_import_every_stage_they_run():
    # setuptools ships only the packages pyproject lists: a package missing there imports in a
    # checkout and fails in Glue (the serve stage runs inside the publish job).
    import tomllib

    from workflows import graph

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    in_tree = {init.parent.relative_to(ROOT).as_posix().replace("/", ".")
               for top in ("ingestion", "glue_jobs", "workflows") for init in (ROOT / top).rglob("__init__.py")}
    left_out_on_purpose = {p for p in in_tree if p == "workflows.bench" or p.startswith("workflows.bench.")}
    assert sorted(in_tree - left_out_on_purpose - listed) == []
    for stage in graph.STAGES:
        package = stage.module.rsplit(".", 1)[0]
        assert package in listed, f"stage {stage.name} ({stage.module}) is not in the wheel"
