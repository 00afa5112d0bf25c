"""Build what `make deploy` uploads: the Glue wheel, the Glue entry script and the Lambda zip.

    python infra/package.py build      # -> dist/ and dist/artifacts.json
    python infra/package.py uploads    # "<local file> <artifact key>" per line, for `aws s3 cp`
    python infra/package.py keys       # LambdaZipKey=... ServeLambdaZipKey=... GlueWheelKey=... GluePythonModules=...
    python infra/package.py glue-lock  # rewrite infra/glue-requirements.lock (needs PyPI)

Artifact keys carry a hash of their content, so CloudFormation sees a new key (and updates
the function or job) exactly when the code changed, and an old deploy's artifacts stay intact.
There are two Lambda zips (BUNDLES). Both hold our packages plus the dependencies pinned in
infra/lambda-requirements.txt (requests, holidays, tzdata, and boto3/botocore themselves: see
LAMBDA_REQUIREMENTS); the serve bundle adds what infra/lambda-serve-requirements.txt pins
(pyarrow, for the serve loader). All as wheels for Lambda's python3.12 on x86_64, each with its
*.dist-info (package metadata some read at import time). The wheels are kept in
.cache/lambda-wheels/, so a rebuild downloads nothing.

    python infra/package.py lock       # re-resolve LAMBDA_REQUIREMENTS and SERVE_REQUIREMENTS into the locks
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
MANIFEST = DIST / "artifacts.json"
KEY_PREFIX = "tickerlake"
LAMBDA_PACKAGES = ("ingestion", "glue_jobs", "workflows")
LEFT_OUT = ("workflows/bench",)  # only a checkout runs the bench
# What the handler's closure imports, loosely; `package.py lock` resolves it into LAMBDA_LOCK.
# boto3/botocore are bundled rather than taken from the runtime: the lake lock's create-only
# write (S3 PutObject IfNoneMatch, glue_jobs/adapters/aws/s3_storage.py) needs a botocore whose
# S3 model has IfNoneMatch (first in 1.35.2, checked in the wheels; issue 12 says 1.35.10), and
# the runtime's copy changes under us when Lambda updates it. Lambda searches /var/task (the zip)
# before the runtime's libraries ("Dependency search path", AWS Lambda Developer Guide), and
# bundling the whole SDK with its urllib3 avoids the half-bundled mismatch that guide warns of.
# PyYAML: the intraday consumer reads sql/alerts/alerts.yml's thresholds, as the batch alerts do.
LAMBDA_REQUIREMENTS = ("requests>=2.31", "holidays>=0.60", "tzdata", "boto3>=1.35.10", "botocore>=1.35.10",
                       "pyyaml>=6")
LAMBDA_LOCK = ROOT / "infra" / "lambda-requirements.txt"
# The serve loader reads the published Parquet files (glue_jobs.lake.parquet): pyarrow, 140 MB
# unzipped. Only that function gets it (the serve bundle, 172 MB unzipped): the ingestion
# function and the HTTP reader never import pyarrow, and their cold starts load a 32 MB bundle
# instead (infra/README.md, "Lambda bundles"). The pinned pyarrow requires no numpy (its wheel
# lists no runtime dependency; the real-bundle test runs the loader without one).
SERVE_REQUIREMENTS = ("pyarrow>=14",)  # as pyproject.toml
SERVE_LOCK = ROOT / "infra" / "lambda-serve-requirements.txt"


class Bundle(NamedTuple):  # not a dataclass: the tests load this file without registering a module
    name: str  # the zip is <name>-<content hash>.zip
    locks: tuple[Path, ...]  # installed together; a package pinned twice must agree


# The template's code parameter (a function's Code.S3Key: !Ref <parameter>) -> its bundle.
# tests/infra/test_packaging.py imports every handler of the template against its bundle's locks.
BUNDLES = {
    "LambdaZipKey": Bundle("ingest", (LAMBDA_LOCK,)),
    "ServeLambdaZipKey": Bundle("serve", (LAMBDA_LOCK, SERVE_LOCK)),
}
# Must match every function in infra/template.yaml (Runtime python3.12, no Architectures: x86_64);
# tests/infra/test_packaging.py checks that they agree.
LAMBDA_PYTHON = "3.12"
LAMBDA_ARCH = "x86_64"
_WHEEL_ARCH = {"x86_64": "x86_64", "arm64": "aarch64"}[LAMBDA_ARCH]  # Lambda's name -> the wheel tag's
LAMBDA_PLATFORM = ("--platform", f"manylinux2014_{_WHEEL_ARCH}", "--python-version", LAMBDA_PYTHON,
                   "--implementation", "cp", "--only-binary=:all:")
# Downloaded wheels, kept between builds (ignored by git): a warm build needs no network.
WHEEL_CACHE = ROOT / ".cache" / "lambda-wheels"
GLUE_SCRIPT = ROOT / "workflows" / "entry" / "glue_stage.py"
GLUE_LOCK = ROOT / "infra" / "glue-requirements.lock"
# What Glue Python shell 3.9 preinstalls with `--library-set analytics` (the table "Supported
# libraries for Python shell jobs", https://docs.aws.amazon.com/glue/latest/dg/add-job-python.html).
# pyarrow is not in that table, so the lock pins it. The lock holds only what this set lacks or
# holds too old for the wheel's requirements (pandas 1.4.2 < 2.0, botocore 1.24.21 has no
# IfNoneMatch); the rest of the set is a constraint of the resolution, so it is used as is.
GLUE_ANALYTICS_SET = {
    "avro": "1.11.0", "awscli": "1.23.5", "awswrangler": "2.15.1", "botocore": "1.24.21", "boto3": "1.21.21",
    "elasticsearch": "8.2.0", "numpy": "1.22.3", "pandas": "1.4.2", "psycopg2": "2.9.3", "pyathena": "2.5.3",
    "pymysql": "1.0.2", "pyodbc": "4.0.32", "pyorc": "0.6.0", "redshift-connector": "2.0.907",
    "requests": "2.27.1", "scikit-learn": "1.0.2", "scipy": "1.8.0", "sqlalchemy": "1.4.36", "s3fs": "2022.3.0",
}
# Set packages the wheel's requirements outgrow (and their companions): the lock upgrades them.
GLUE_UPGRADED = ("pandas", "numpy", "boto3", "botocore")
GLUE_PLATFORM = ("--platform", "manylinux2014_x86_64", "--python-version", "3.9", "--implementation", "cp",
                 "--only-binary=:all:")
# A fixed timestamp makes the zip's bytes, and so its key, depend on content alone.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _source_files(package_root: Path, packages: tuple[str, ...]) -> list[tuple[Path, str]]:
    files = []
    for package in packages:
        for path in sorted((package_root / package).rglob("*")):
            name = path.relative_to(package_root).as_posix()
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo") \
                    and not name.startswith(LEFT_OUT):
                files.append((path, name))
    return files


def write_zip(target: Path, files: list[tuple[Path, str]]) -> None:
    """A deterministic zip: entries sorted, fixed timestamps and permissions."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, name in sorted(files, key=lambda f: f[1]):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())


def lambda_zip(deps_dir: Path, out_dir: Path, package_root: Path = ROOT, name: str = "ingest") -> Path:
    """Our packages plus everything installed in deps_dir, as out_dir/<name>-<hash>.zip.
    The *.dist-info folders stay: holidays (and importlib.metadata users generally) read their
    own version from them at import time, and without them the handler fails to import."""
    files = _source_files(package_root, LAMBDA_PACKAGES)
    for path in sorted(deps_dir.rglob("*")):
        rel = path.relative_to(deps_dir)
        # bin/ holds console scripts whose shebang names the build machine's python
        if path.is_file() and "__pycache__" not in rel.parts and path.suffix not in (".pyc", ".pyo") \
                and rel.parts[0] != "bin":
            files.append((path, rel.as_posix()))
    staging = out_dir / f"{name}.zip"
    write_zip(staging, files)
    final = out_dir / f"{name}-{digest(staging)}.zip"
    staging.replace(final)
    return final


def _normalize(name: str) -> str:
    # PEP 503 names: "Charset_Normalizer" and "charset-normalizer" are one project
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(lock: Path = LAMBDA_LOCK) -> dict[str, str]:
    """{normalized name: version} of the lock; every requirement must be pinned with ==."""
    if not lock.is_file():
        raise SystemExit(f"{lock} is missing: run `python infra/package.py lock` to create it")
    pins = {}
    for number, line in enumerate(lock.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip().rstrip("\\").strip()
        if not line or line.startswith("--hash"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)(\s+--hash=\S+)*", line)
        if not match:
            raise SystemExit(f"{lock}:{number}: {line!r} is not pinned as name==version; "
                             "run `python infra/package.py lock` to regenerate the file")
        pins[_normalize(match.group(1))] = match.group(2)
    return pins


def read_locks(locks: tuple[Path, ...]) -> dict[str, str]:
    """{normalized name: version} of a bundle's locks together; a package pinned to two versions
    is refused (pip would refuse it later, with less to say)."""
    pins: dict[str, str] = {}
    for lock in locks:
        for name, version in read_lock(lock).items():
            if pins.setdefault(name, version) != version:
                raise SystemExit(f"{lock} pins {name}=={version} but an earlier lock of the bundle pins "
                                 f"{name}=={pins[name]}; run `python infra/package.py lock` to regenerate them")
    return pins


def _wheel_dir(cache: Path) -> Path:
    return cache / f"cp{LAMBDA_PYTHON.replace('.', '')}-manylinux2014_{_WHEEL_ARCH}"


def _cached_wheels(wheels: Path) -> set[tuple[str, str]]:
    return {(_normalize(w.name.split("-")[0]), w.name.split("-")[1]) for w in wheels.glob("*.whl")}


def fetch_lambda_wheels(cache: Path = WHEEL_CACHE, lock: Path = LAMBDA_LOCK) -> Path:
    """The lock's wheels for the Lambda platform in a cache folder; downloads only what is missing."""
    wheels = _wheel_dir(cache)
    if set(read_lock(lock).items()) - _cached_wheels(wheels):
        wheels.mkdir(parents=True, exist_ok=True)
        _pip("download", "--no-deps", "--dest", str(wheels), *LAMBDA_PLATFORM, "-r", str(lock),
             what=f"downloading the Lambda's dependencies ({lock.name}) from the package index")
    return wheels


def install_lambda_deps(target: Path, cache: Path = WHEEL_CACHE, locks: tuple[Path, ...] = (LAMBDA_LOCK,)) -> None:
    """Install exactly the locks into target, from the wheel cache (no index), and check that
    nothing outside them came along (a lock missing a dependency fails here, not on AWS)."""
    pins = read_locks(locks)
    for lock in locks:
        wheels = fetch_lambda_wheels(cache, lock)
    names = " and ".join(lock.name for lock in locks)
    _pip("install", "--no-index", "--find-links", str(wheels), "--no-compile", "--target", str(target),
         *LAMBDA_PLATFORM, *(arg for lock in locks for arg in ("-r", str(lock))),
         what=f"installing {names} into the Lambda bundle")
    installed = {}
    for meta in target.glob("*.dist-info"):
        name, version = meta.name[: -len(".dist-info")].rsplit("-", 1)
        installed[_normalize(name)] = version
    if installed != pins:
        extra = sorted(f"{n}=={v}" for n, v in installed.items() if pins.get(n) != v)
        missing = sorted(f"{n}=={v}" for n, v in pins.items() if installed.get(n) != v)
        raise SystemExit(f"the Lambda bundle's packages differ from {names}: not in the lock {extra}, "
                         f"not installed {missing}; run `python infra/package.py lock` to regenerate it")


def _pip(*args: str, what: str) -> None:
    cmd = [sys.executable, "-m", "pip", *args[:1], "--quiet", "--disable-pip-version-check", *args[1:]]
    if subprocess.run(cmd).returncode != 0:
        raise SystemExit(f"{what} failed (pip's message above): {' '.join(cmd)}")


def _resolve(requirements: tuple[str, ...], constraints: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(normalized name, version, wheel sha256) of what pip resolves for the Lambda platform."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        constrain = []
        if constraints:
            (Path(tmp) / "constraints.txt").write_text("".join(f"{n}=={v}\n" for n, v in constraints.items()))
            constrain = ["-c", str(Path(tmp) / "constraints.txt")]
        _pip("install", "--dry-run", "--ignore-installed", "--report", str(report), "--target", str(Path(tmp) / "t"),
             *LAMBDA_PLATFORM, *constrain, *requirements, what="resolving the Lambda's dependencies")
        chosen = json.loads(report.read_text(encoding="utf-8"))["install"]
    return sorted((_normalize(i["metadata"]["name"]), i["metadata"]["version"],
                   i["download_info"]["archive_info"]["hashes"]["sha256"]) for i in chosen)


def _write_pins(lock: Path, header: list[str], pins: list[tuple[str, str, str]]) -> dict[str, str]:
    lines = header + [f"{name}=={version} --hash=sha256:{sha}" for name, version, sha in pins]
    lock.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_lock(lock)


def write_lock(lock: Path = LAMBDA_LOCK) -> dict[str, str]:
    """Resolve LAMBDA_REQUIREMENTS for the Lambda platform into lock, pinned with wheel hashes."""
    return _write_pins(lock, [
        "# The Lambda bundle's dependencies, every one pinned, with the hash of its wheel for",
        f"# CPython {LAMBDA_PYTHON} on manylinux2014_{_WHEEL_ARCH}. Generated by `python infra/package.py lock` from",
        "# LAMBDA_REQUIREMENTS in infra/package.py; edit those, not this file.",
    ], _resolve(LAMBDA_REQUIREMENTS))


def write_serve_lock(lock: Path = SERVE_LOCK, base: Path = LAMBDA_LOCK) -> dict[str, str]:
    """What the serve bundle adds to `base`: SERVE_REQUIREMENTS resolved together with
    LAMBDA_REQUIREMENTS, `base`'s pins held fixed, less what `base` pins already."""
    fixed = read_lock(base)
    added = [pin for pin in _resolve(LAMBDA_REQUIREMENTS + SERVE_REQUIREMENTS, fixed) if pin[0] not in fixed]
    return _write_pins(lock, [
        f"# What the serve bundle adds to {base.name}, which it also installs: every package",
        f"# pinned, with the hash of its wheel for CPython {LAMBDA_PYTHON} on manylinux2014_{_WHEEL_ARCH}.",
        "# Generated by `python infra/package.py lock` from SERVE_REQUIREMENTS in infra/package.py,",
        f"# {base.name}'s pins held fixed; edit those, not this file.",
    ], added)


def build_wheel(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("tickerlake-*.whl"):
        old.unlink()
    # SOURCE_DATE_EPOCH pins the timestamps inside the wheel, so unchanged code keeps its key.
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1577836800"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--wheel-dir", str(out_dir), str(ROOT)], check=True, env=env)
    (wheel,) = out_dir.glob("tickerlake-*.whl")
    return wheel


def build() -> dict:
    """Build every artifact into dist/ and record their keys in dist/artifacts.json."""
    if DIST.exists():
        shutil.rmtree(DIST)
    wheel = build_wheel(DIST / "glue")
    script = DIST / "glue" / GLUE_SCRIPT.name
    shutil.copyfile(GLUE_SCRIPT, script)
    artifacts = {}
    for parameter, bundle in BUNDLES.items():
        with tempfile.TemporaryDirectory() as deps:
            install_lambda_deps(Path(deps), locks=bundle.locks)
            zipped = lambda_zip(Path(deps), DIST / "lambda", name=bundle.name)
        artifacts[parameter] = (zipped, f"{KEY_PREFIX}/lambda/{zipped.name}")
    # The wheel keeps its own file name (pip needs it); a content folder makes its key unique.
    artifacts.update({
        "GlueWheelKey": (wheel, f"{KEY_PREFIX}/glue/{digest(wheel)}/{wheel.name}"),
        "GlueScriptKey": (script, f"{KEY_PREFIX}/glue/{digest(script)}/{script.name}"),
    })
    doc = {name: {"file": str(path.relative_to(ROOT)), "key": key} for name, (path, key) in artifacts.items()}
    MANIFEST.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return doc


def canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def wheel_requirements() -> list[str]:
    """The wheel's own requirements: pyproject's [project].dependencies."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(doc["project"]["dependencies"])


def glue_lock_pins(path: Path = GLUE_LOCK) -> dict[str, str]:
    """{package: version} from the lock (name==version lines; # comments)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonical(name)] = version.strip()
    return pins


def glue_python_modules(path: Path = GLUE_LOCK) -> str:
    """The job argument --additional-python-modules: every lock pin, comma-separated. Glue's pip
    installs exactly these at job start; the lock is closed (tests/infra/test_glue_wheel.py), so
    pip finds every dependency among them or in the analytics set and downloads nothing else."""
    return ",".join(f"{name}=={version}" for name, version in sorted(glue_lock_pins(path).items()))


def resolve_glue_lock(path: Path = GLUE_LOCK) -> dict[str, str]:
    """Resolve the wheel's requirements for CPython 3.9 on manylinux2014 x86_64 against the
    analytics set (binary wheels only) and write what the set lacks to the lock."""
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "analytics.txt"
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in GLUE_ANALYTICS_SET.items() if n not in GLUE_UPGRADED))
        report = Path(tmp) / "report.json"
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--dry-run",
                        "--ignore-installed", "--target", str(Path(tmp) / "t"), "--report", str(report),
                        "-c", str(constraints), *GLUE_PLATFORM, *wheel_requirements()], check=True)
        resolved = {canonical(item["metadata"]["name"]): item["metadata"]["version"]
                    for item in json.loads(report.read_text())["install"]}
    lock = {n: v for n, v in sorted(resolved.items()) if GLUE_ANALYTICS_SET.get(n) != v}
    path.write_text(
        "# The Glue jobs' --additional-python-modules: what Glue Python shell 3.9's analytics library set\n"
        "# lacks for the wheel's requirements, every package pinned (CPython 3.9, manylinux2014_x86_64,\n"
        "# binary wheels only). Generated by `python infra/package.py glue-lock`; do not edit by hand.\n"
        + "".join(f"{n}=={v}\n" for n, v in lock.items()),
        encoding="utf-8",
    )
    return lock


def _load() -> dict:
    if not MANIFEST.is_file():
        raise SystemExit(f"{MANIFEST} is missing: run `make package` first")
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("build", "uploads", "keys", "lock", "glue-lock"))
    args = parser.parse_args(argv)
    if args.command == "lock":
        for write, lock in ((write_lock, LAMBDA_LOCK), (write_serve_lock, SERVE_LOCK)):
            for name, version in write().items():
                print(f"{name}=={version}")
            print(f"-> {lock.relative_to(ROOT)}")
    elif args.command == "build":
        for name, item in build().items():
            print(f"{name:14} {item['file']}  ->  {item['key']}")
    elif args.command == "uploads":
        for item in _load().values():
            print(f"{ROOT / item['file']} {item['key']}")
    elif args.command == "glue-lock":
        lock = resolve_glue_lock()
        print(f"{GLUE_LOCK.relative_to(ROOT)}: {len(lock)} packages")
    else:
        keys = [f"{name}={item['key']}" for name, item in _load().items()]
        print(" ".join([*keys, f"GluePythonModules={glue_python_modules()}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
