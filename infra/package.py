"""Build what `make deploy` uploads: the Glue wheel, the Glue entry script and the Lambda zip.

    python infra/package.py build      # -> dist/ and dist/artifacts.json
    python infra/package.py uploads    # "<local file> <artifact key>" per line, for `aws s3 cp`
    python infra/package.py keys       # LambdaZipKey=... GlueWheelKey=... GlueScriptKey=...

Artifact keys carry a hash of their content, so CloudFormation sees a new key (and updates
the function or job) exactly when the code changed, and an old deploy's artifacts stay intact.
The Lambda zip holds our packages plus requests, holidays and tzdata built for Lambda's
python3.12 on x86_64; boto3 comes with the Lambda runtime.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
MANIFEST = DIST / "artifacts.json"
KEY_PREFIX = "tickerlake"
LAMBDA_PACKAGES = ("ingestion", "glue_jobs", "workflows")
LEFT_OUT = ("workflows/bench",)  # only a checkout runs the bench
# Imported by the handler's closure; pinned loosely like pyproject. boto3 is the runtime's.
LAMBDA_REQUIREMENTS = ("requests>=2.31", "holidays>=0.60", "tzdata")
LAMBDA_PLATFORM = ("--platform", "manylinux2014_x86_64", "--python-version", "3.12", "--implementation", "cp",
                   "--only-binary=:all:")
GLUE_SCRIPT = ROOT / "workflows" / "entry" / "glue_stage.py"
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


def lambda_zip(deps_dir: Path, out_dir: Path, package_root: Path = ROOT) -> Path:
    """Our packages plus everything installed in deps_dir, as out_dir/ingest-<hash>.zip."""
    files = _source_files(package_root, LAMBDA_PACKAGES)
    for path in sorted(deps_dir.rglob("*")):
        rel = path.relative_to(deps_dir)
        if path.is_file() and "__pycache__" not in rel.parts and not rel.parts[0].endswith(".dist-info") \
                and rel.parts[0] != "bin":
            files.append((path, rel.as_posix()))
    staging = out_dir / "ingest.zip"
    write_zip(staging, files)
    final = out_dir / f"ingest-{digest(staging)}.zip"
    staging.replace(final)
    return final


def install_lambda_deps(target: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(target),
           *LAMBDA_PLATFORM, *LAMBDA_REQUIREMENTS]
    subprocess.run(cmd, check=True)


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
    with tempfile.TemporaryDirectory() as deps:
        install_lambda_deps(Path(deps))
        bundle = lambda_zip(Path(deps), DIST / "lambda")
    # The wheel keeps its own file name (pip needs it); a content folder makes its key unique.
    artifacts = {
        "LambdaZipKey": (bundle, f"{KEY_PREFIX}/lambda/{bundle.name}"),
        "GlueWheelKey": (wheel, f"{KEY_PREFIX}/glue/{digest(wheel)}/{wheel.name}"),
        "GlueScriptKey": (script, f"{KEY_PREFIX}/glue/{digest(script)}/{script.name}"),
    }
    doc = {name: {"file": str(path.relative_to(ROOT)), "key": key} for name, (path, key) in artifacts.items()}
    MANIFEST.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return doc


def _load() -> dict:
    if not MANIFEST.is_file():
        raise SystemExit(f"{MANIFEST} is missing: run `make package` first")
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("build", "uploads", "keys"))
    args = parser.parse_args(argv)
    if args.command == "build":
        for name, item in build().items():
            print(f"{name:14} {item['file']}  ->  {item['key']}")
    elif args.command == "uploads":
        for item in _load().values():
            print(f"{ROOT / item['file']} {item['key']}")
    else:
        print(" ".join(f"{name}={item['key']}" for name, item in _load().items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
