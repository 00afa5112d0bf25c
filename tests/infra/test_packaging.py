"""What `make package` ships: the Lambda zips carry our code and their few dependencies with their
metadata, are reproducible, their dependencies are pinned for the platform the template runs,
and every handler of the template imports with only its bundle's locked distributions. The real
bundles, built from the real wheels and imported by Python 3.12, are
tests/infra/test_lambda_bundle_real.py's."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cfnlint.decode import decode

from tests.support.lambda_functions import template_functions

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
    functions = template_functions()
    assert {f.logical_id for f in functions} >= {"IngestFunction", "ServeLoaderFunction", "ServeReaderFunction"}
    for function in functions:
        assert function.runtime == f"python{package.LAMBDA_PYTHON}", function.logical_id
        # Lambda's default architecture is x86_64; an arm64 function needs aarch64 wheels
        assert function.architectures == [package.LAMBDA_ARCH], function.logical_id
    wheel_arch = {"x86_64": "x86_64", "arm64": "aarch64"}[package.LAMBDA_ARCH]
    assert f"manylinux2014_{wheel_arch}" in package.LAMBDA_PLATFORM


def test_every_function_runs_a_bundle_make_deploy_builds_and_passes_as_a_parameter():
    parameters = decode(str(ROOT / "infra" / "template.yaml"))[0]["Parameters"]
    for function in template_functions():
        # a plain !Ref to one of package.py's bundles: `package.py keys` sets exactly those
        assert function.code_parameter in package.BUNDLES, (function.logical_id, function.code_parameter)
    # every bundle `package.py keys` passes is a parameter (deploy refuses an unknown one)
    assert set(package.BUNDLES) <= set(parameters)
    for bundle in package.BUNDLES.values():
        assert bundle.locks[0] == package.LAMBDA_LOCK and all(lock.is_file() for lock in bundle.locks)


# Run by this venv's interpreter from the checkout, seeing only what the function's bundle
# holds: our packages, the standard library and the distributions its locks pin. Anything else
# is refused as it would be on AWS, so an optional import (pyarrow's of numpy) falls back as it
# would there and a required one fails. Then the AWS runtime the handlers open, whose adapters
# are imported only when chosen.
IMPORTS_WITH_THE_BUNDLE_ONLY = """
import importlib, json, re, sys, sysconfig
from importlib.machinery import PathFinder
from importlib.metadata import packages_distributions
module_name, attribute, ours, pinned = sys.argv[1], sys.argv[2], set(sys.argv[3].split(",")), set(sys.argv[4].split(","))
stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
providers = packages_distributions()
refused = set()

class OnlyTheBundle:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        found = PathFinder.find_spec(top) if top not in ours else None
        origin = (found.origin or "") if found else ""
        if not found or (origin.startswith(stdlib) and "site-packages" not in origin):
            return None  # ours, builtin, the standard library, or nowhere (the import fails anyway)
        if not {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(top, [])} & pinned:
            refused.add(top)
            raise ModuleNotFoundError(f"No module named {top!r} (not in the bundle)", name=top)
        return None

sys.meta_path.insert(0, OnlyTheBundle())
error = None
try:
    assert callable(getattr(importlib.import_module(module_name), attribute))
    from glue_jobs.runtime import open_runtime
    open_runtime("s3://tickerlake-lake").serving
except ImportError as exc:
    error = f"{type(exc).__name__}: {exc}"
print(json.dumps({"error": error, "refused": sorted(refused)}))
"""


def _import_with_the_bundle_only(function, pins: dict[str, str]) -> dict:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "TICKERLAKE_SERVING_TABLE": "tickerlake-serving"}
    result = subprocess.run([sys.executable, "-c", IMPORTS_WITH_THE_BUNDLE_ONLY, function.module, function.attribute,
                             ",".join(package.LAMBDA_PACKAGES), ",".join(pins)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("function", template_functions(), ids=lambda f: f.logical_id)
def test_every_module_a_handler_imports_is_ours_or_pinned_in_its_bundles_locks(function):
    # On AWS the function sees only its bundle: a module it imports from a distribution its locks
    # do not pin is an ImportError on every invocation (the serve loader's pyarrow was one).
    bundle = package.BUNDLES[function.code_parameter]
    found = _import_with_the_bundle_only(function, package.read_locks(bundle.locks))
    locks = " + ".join(lock.name for lock in bundle.locks)
    assert found["error"] is None, (f"{function.logical_id} ({function.module}) does not import with its bundle "
                                    f"{bundle.name!r} ({locks}): {found['error']}; refused: {found['refused']}")
