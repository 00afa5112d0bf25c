"""The Glue jobs run from our wheel on Glue Python shell 3.9, far from this checkout: the wheel
must carry every SQL file, its requirements must be met by the analytics library set plus the
pinned lock (so a job start installs a known set and downloads nothing else), and every pin must
exist as a binary wheel for CPython 3.9 on manylinux2014 x86_64."""
from __future__ import annotations

import email.parser
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cfnlint.decode import decode
from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("tickerlake_package_glue", ROOT / "infra" / "package.py")
package = importlib.util.module_from_spec(spec)
spec.loader.exec_module(package)

# Where the slow test keeps the downloaded wheels between runs (git-ignored).
WHEEL_CACHE = ROOT / ".cache" / "glue-wheels"
# Markers evaluated as on Glue Python shell 3.9 (Linux x86_64, CPython).
GLUE_ENV = {**default_environment(), "python_version": "3.9", "python_full_version": "3.9.20",
            "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
            "implementation_name": "cpython", "platform_python_implementation": "CPython", "os_name": "posix"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )
    (built,) = out.glob("tickerlake-*.whl")
    return built


@pytest.fixture(scope="module")
def glue_jobs() -> dict[str, dict]:
    parsed, errors = decode(str(ROOT / "infra" / "template.yaml"))
    assert not errors, errors
    jobs = {name: r["Properties"] for name, r in parsed["Resources"].items() if r["Type"] == "AWS::Glue::Job"}
    assert len(jobs) == 5
    return jobs


def requires_dist(metadata: str, extras: tuple[str, ...] = ("",)) -> list[Requirement]:
    """The requirements a wheel's METADATA declares that apply on Glue (no extras asked for)."""
    reqs = []
    for line in email.parser.Parser().parsestr(metadata).get_all("Requires-Dist") or []:
        req = Requirement(line)
        if req.marker is None or any(req.marker.evaluate({**GLUE_ENV, "extra": e}) for e in extras):
            reqs.append(req)
    return reqs


def unmet(reqs: list[Requirement], available: dict[str, str]) -> list[str]:
    return [f"{req} (available: {available.get(package.canonical(req.name), 'none')})"
            for req in reqs
            if package.canonical(req.name) not in available
            or not req.specifier.contains(available[package.canonical(req.name)], prereleases=True)]


def on_glue() -> dict[str, str]:
    """What a job has once --additional-python-modules is installed: the lock over the set."""
    return {**{package.canonical(n): v for n, v in package.GLUE_ANALYTICS_SET.items()}, **package.glue_lock_pins()}


def test_the_wheel_carries_every_sql_and_rule_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        "glue_jobs/sql/" + p.relative_to(ROOT / "sql").as_posix()
        for p in (ROOT / "sql").rglob("*")
        if p.is_file() and p.suffix in (".sql", ".yml", ".json")
    }
    assert len(wanted) > 20
    assert wanted - names == set()
    assert {"workflows/cli/main.py", "ingestion/run_ingest.py", "workflows/entry/glue_stage.py"} <= names


def test_the_wheels_requirements_are_met_by_the_analytics_set_and_the_lock(wheel):
    # Were one unmet, pip would fetch an unpinned version from PyPI at every job start.
    with zipfile.ZipFile(wheel) as zf:
        (meta,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        reqs = requires_dist(zf.read(meta).decode())
    assert reqs, "the wheel declares no requirement: pyproject's dependencies were not read"
    assert unmet(reqs, on_glue()) == []


def test_the_wheel_does_not_require_what_no_glue_stage_imports(wheel):
    with zipfile.ZipFile(wheel) as zf:
        (meta,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        names = {package.canonical(r.name) for r in requires_dist(zf.read(meta).decode())}
    assert not names & {"duckdb", "requests"}
    assert not set(package.glue_lock_pins()) & {"duckdb", "requests"}


def test_glue_stages_run_without_duckdb_and_requests():
    """The wheel leaves them out, so no module a Glue job imports may need them: import the
    entry script, the AWS adapters and every stage's module with both made unimportable."""
    code = (
        "import sys\n"
        "sys.modules['duckdb'] = None; sys.modules['requests'] = None\n"
        "import importlib, workflows.entry.glue_stage\n"
        "from workflows import graph\n"
        "for m in ['glue_jobs.adapters.aws.athena_engine', 'glue_jobs.adapters.aws.glue_catalog',\n"
        "          'glue_jobs.adapters.aws.s3_storage', 'glue_jobs.adapters.aws.sns_notifier',\n"
        "          *[s.module for s in graph.STAGES if s.name != 'ingest']]:\n"
        "    importlib.import_module(m)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_glue_job_is_python_shell_3_9_on_glue_3_with_the_analytics_set(glue_jobs):
    for name, job in glue_jobs.items():
        assert job["Command"]["Name"] == "pythonshell", name
        assert job["Command"]["PythonVersion"] == "3.9", name
        assert job.get("GlueVersion") == "3.0", f"{name}: Python shell 3.9 is documented on Glue 3.0"
        assert job["DefaultArguments"]["--library-set"] == "analytics", name


def test_the_wheel_goes_in_extra_py_files_and_the_lock_in_additional_python_modules(glue_jobs):
    # Python shell's --additional-python-modules takes PyPI names only, no S3 path.
    for name, job in glue_jobs.items():
        args = job["DefaultArguments"]
        assert args.get("--extra-py-files") == {"Fn::Sub": "s3://${ArtifactsBucket}/${GlueWheelKey}"}, name
        assert args.get("--additional-python-modules") == {"Ref": "GluePythonModules"}, name


def test_make_deploy_passes_every_lock_pin_as_the_jobs_modules(tmp_path, monkeypatch, capsys):
    manifest = tmp_path / "artifacts.json"
    manifest.write_text(json.dumps({"GlueWheelKey": {"file": "dist/glue/x.whl", "key": "tickerlake/glue/a/x.whl"}}))
    monkeypatch.setattr(package, "MANIFEST", manifest)
    assert package.main(["keys"]) == 0
    words = capsys.readouterr().out.split()
    (modules,) = [w.split("=", 1)[1] for w in words if w.startswith("GluePythonModules=")]
    pins = modules.split(",")
    assert len(pins) == len(package.glue_lock_pins()) > 10
    assert all("==" in p and "s3://" not in p for p in pins)
    assert "great-expectations==" + package.glue_lock_pins()["great-expectations"] in pins


@pytest.mark.slow
def test_every_pinned_package_is_a_cp39_manylinux2014_wheel_and_the_lock_is_closed():
    """pip download of every pin, binary only, for Glue's interpreter and platform (the wheels
    are cached in .cache/glue-wheels); then every downloaded wheel's own requirements are met by
    the lock and the analytics set, so Glue's pip has nothing left to fetch."""
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--only-binary", ":all:", "--python-version", "3.9", "--implementation", "cp",
         "--platform", "manylinux2014_x86_64", "-r", str(package.GLUE_LOCK), "-d", str(WHEEL_CACHE)],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    available = on_glue()
    wheels = {}
    for path in WHEEL_CACHE.glob("*.whl"):
        name, version = path.name.split("-")[:2]
        if available.get(package.canonical(name)) == version:
            wheels[package.canonical(name)] = path
    assert set(wheels) == set(package.glue_lock_pins())
    problems = []
    for name, path in sorted(wheels.items()):
        with zipfile.ZipFile(path) as zf:
            (meta,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
            problems += [f"{name}: {p}" for p in unmet(requires_dist(zf.read(meta).decode()), available)]
    assert problems == []
