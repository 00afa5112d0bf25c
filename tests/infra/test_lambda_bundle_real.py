"""The real Lambda bundles, as `make package` builds them (the locked wheels for the Lambda's
platform, not stand-ins), imported by a clean Python 3.12 that sees only the bundle and the
standard library, as Lambda's python3.12 runtime sees /var/task first (AWS Lambda Developer
Guide, "Dependency search path"). Every handler the template names is imported from the bundle
the template gives it (Code.S3Key -> infra/package.py BUNDLES), and the serve loader runs once
on a published manifest and its Parquet partition. moto and the fake-dependency tests in
test_packaging.py cannot see a missing metadata folder, a wheel for the wrong Python, an SDK too
old for the calls the code makes, or a library left out of a bundle; this test does.

Slow: the first run downloads the wheels (about 20 MB, and 42 MB of pyarrow for the serve
bundle) into .cache/lambda-wheels/, later runs build from that cache (see infra/README.md)."""
from __future__ import annotations

import datetime as dt
import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from glue_jobs.lake import layout, published_manifest
from tests.support.lambda_functions import template_functions

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("tickerlake_package_real", ROOT / "infra" / "package.py")
package = importlib.util.module_from_spec(spec)
spec.loader.exec_module(package)

# Lambda's CodeSizeUnzipped quota (GetAccountSettings): the function's code and layers, extracted.
UNZIPPED_LIMIT = 262_144_000


def lambda_python() -> str | None:
    """A CPython of the Lambda's version: $TICKERLAKE_LAMBDA_PYTHON, this interpreter, a pyenv
    install, python3.12 on PATH, or uv's. pyenv's shim is skipped: it refuses a version that is
    not selected, so the real binary under versions/ is asked for instead."""
    wanted = package.LAMBDA_PYTHON
    candidates = [os.environ.get("TICKERLAKE_LAMBDA_PYTHON")]
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == wanted:
        candidates.append(sys.executable)
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{wanted}.*/bin/python{wanted}"), reverse=True)
    candidates.append(shutil.which(f"python{wanted}"))
    if shutil.which("uv"):
        found = subprocess.run(["uv", "python", "find", wanted], capture_output=True, text=True)
        candidates.append(found.stdout.strip() if found.returncode == 0 else None)
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == wanted:
            return candidate
    return None


FUNCTIONS = {f.logical_id: f for f in template_functions()}


@pytest.fixture(scope="module")
def python() -> str:
    found = lambda_python()
    if found is None:
        pytest.skip(f"no CPython {package.LAMBDA_PYTHON} here (the Lambda's runtime): set TICKERLAKE_LAMBDA_PYTHON "
                    f"to one, or `pip install uv && uv python install {package.LAMBDA_PYTHON}`")
    return found


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, Path]:
    """{code parameter: the extracted bundle (Lambda's /var/task)} for every bundle package.py builds."""
    out = {}
    for parameter, bundle in package.BUNDLES.items():
        tmp = tmp_path_factory.mktemp(bundle.name)
        package.install_lambda_deps(tmp / "deps", locks=bundle.locks)
        zipped = package.lambda_zip(tmp / "deps", tmp / "out", name=bundle.name)
        with zipfile.ZipFile(zipped) as zf:
            # Lambda's CodeSizeUnzipped quota counts the function's code extracted
            assert sum(info.file_size for info in zf.infolist()) < UNZIPPED_LIMIT, bundle.name
            zf.extractall(tmp / "task")
        out[parameter] = tmp / "task"
    return out


def clean_env(tmp_path: Path) -> dict[str, str]:
    """Nothing of this machine's AWS setup, and no way to reach AWS."""
    return {
        "PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true", "TICKERLAKE_LAKE": "s3://tickerlake-lake",
    }


def run_probe(python: str, probe: str, task: Path, tmp_path: Path, *args: str) -> dict:
    result = subprocess.run([python, "-I", "-S", "-c", probe, str(task), *args],
                            cwd=task, env=clean_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# Run by the bundle's own interpreter: facts out as JSON, the assertions stay in the test.
PROBE = """
import datetime as dt, importlib, json, sys, sysconfig, zoneinfo
task, module_name, function_name = sys.argv[1:4]
sys.path.insert(0, task)  # Lambda's /var/task; -I -S left only the standard library besides
# the bundled tzdata must answer on its own, whatever zoneinfo the image has
zoneinfo.reset_tzpath(to=[])
facts = {}
handler = getattr(importlib.import_module(module_name), function_name)
facts["imported"] = True

import botocore, botocore.session, boto3, holidays, requests
from botocore.stub import Stubber
# every module loaded comes from the bundle or the standard library, nothing else
stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
facts["outside_bundle"] = sorted(name for name, mod in sys.modules.items() if getattr(mod, "__file__", None)
                                 and not mod.__file__.startswith((task,) + stdlib))
facts["botocore"] = [botocore.__version__, botocore.__file__.startswith(task)]
facts["boto3"] = [boto3.__version__, boto3.__file__.startswith(task)]
put = botocore.session.get_session().get_service_model("s3").operation_model("PutObject")
facts["put_object_if_none_match"] = "IfNoneMatch" in put.input_shape.members

from glue_jobs.lake import trading_calendar
facts["thanksgiving_2026_is_session"] = trading_calendar.is_session(dt.date(2026, 11, 26))
facts["day_after_is_session"] = trading_calendar.is_session(dt.date(2026, 11, 27))

def refusal(call):
    try:
        call()
    except Exception as exc:
        return [type(exc).__name__, str(exc)]
    return None

# the function's own entry, as Lambda calls it, with the stack's workflow variable missing
facts["handler_without_workflow"] = refusal(lambda: handler({}, None))

# the key's secret as the stack creates it, with no value yet: Secrets Manager answers
# ResourceNotFoundException for the AWSCURRENT stage; the bundled botocore raises it
from ingestion.alphavantage.api_key import resolve_api_key
client = boto3.client("secretsmanager", region_name="us-east-1")
stub = Stubber(client)
stub.add_client_error("get_secret_value", service_error_code="ResourceNotFoundException", http_status_code=400,
                      service_message="Secrets Manager can't find the specified secret value for staging label: AWSCURRENT")
stub.activate()
secret_id = "arn:aws:secretsmanager:us-east-1:123456789012:secret:tickerlake-key-AbCdEf"
facts["empty_secret"] = refusal(lambda: resolve_api_key({"ALPHAVANTAGE_SECRET_ID": secret_id}, secrets_client=client))
print(json.dumps(facts))
"""


@pytest.mark.slow
def test_the_real_ingest_bundle_imports_and_answers_in_a_clean_python_of_the_lambda_runtime(python, bundles, tmp_path):
    ingest = FUNCTIONS["IngestFunction"]
    facts = run_probe(python, PROBE, bundles[ingest.code_parameter], tmp_path, ingest.module, ingest.attribute)

    assert facts["imported"] and facts["outside_bundle"] == []
    pins = package.read_lock()
    # the SDK is the bundle's own, pinned, and knows the lake lock's create-only write
    assert facts["botocore"] == [pins["botocore"], True] and facts["boto3"] == [pins["boto3"], True]
    assert facts["put_object_if_none_match"]
    # holidays' calendar and tzdata work from the bundle: Thanksgiving closed, the day after open
    assert facts["thanksgiving_2026_is_session"] is False and facts["day_after_is_session"] is True
    # the entry refuses a missing setting in words, not a stack trace from a missing module
    kind, message = facts["handler_without_workflow"]
    assert kind == "ConfigError" and "TICKERLAKE_WORKFLOW_NAME" in message
    # a secret with no value yet: a ConfigError naming the secret, never a bare botocore error
    kind, message = facts["empty_secret"]
    assert kind == "ConfigError" and "tickerlake-key-AbCdEf" in message


# Any handler from its bundle: it imports, the AWS runtime the handlers open opens (its adapters
# are imported when chosen; no call leaves the process), and everything loaded came from the
# bundle or the standard library (a module found elsewhere would not be there on AWS).
IMPORT_PROBE = """
import importlib, json, sys, sysconfig
task, module_name, function_name = sys.argv[1:4]
sys.path.insert(0, task)
handler = getattr(importlib.import_module(module_name), function_name)
from glue_jobs.runtime import open_runtime
open_runtime("s3://tickerlake-lake", env={"TICKERLAKE_SERVING_TABLE": "tickerlake-serving"}).serving
stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
print(json.dumps({"callable": callable(handler),
                  "outside_bundle": sorted(name for name, mod in sys.modules.items() if getattr(mod, "__file__", None)
                                           and not mod.__file__.startswith((task,) + stdlib)),
                  "pyarrow": "pyarrow" in sys.modules}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_every_handler_of_the_template_imports_from_the_bundle_the_template_gives_it(
        python, bundles, tmp_path, logical_id):
    function = FUNCTIONS[logical_id]
    facts = run_probe(python, IMPORT_PROBE, bundles[function.code_parameter], tmp_path,
                      function.module, function.attribute)
    assert facts["callable"] and facts["outside_bundle"] == []
    # only the loader reads Parquet: the others load no pyarrow on their cold starts
    assert facts["pyarrow"] is (function.logical_id == "ServeLoaderFunction")


# The serve loader's handler, from its bundle, on a published manifest of a local lake: the
# handler's own path (records -> loader -> batchItemFailures) with the runtime it is given (local
# storage and the SQLite serving table, both standard library) instead of S3 and DynamoDB, which
# this clean interpreter cannot reach. The Parquet partition is read by the bundle's pyarrow.
LOADER_PROBE = """
import json, sys, sysconfig
task, lake, published, missing = sys.argv[1:5]
sys.path.insert(0, task)
from types import SimpleNamespace
from workflows.entry.serve_loader import handler
from glue_jobs.adapters.local.serving_sqlite import SqliteServingTable
from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.serve import loader
serving = SqliteServingTable(lake + "/serving/bars.sqlite")
runtime = SimpleNamespace(storage=LocalStorage(lake), serving=serving)
event = {"Records": [{"messageId": "m-published", "body": loader.event_body("local-lake", published)},
                     {"messageId": "m-missing", "body": loader.event_body("local-lake", missing)}]}
facts = {"response": handler(event, None, runtime=runtime)}
facts["served"] = sorted([b.symbol, b.trade_date, str(b.close), b.volume, b.ingest_run_id, b.version]
                         for b in serving.scan())
import pyarrow
facts["pyarrow"] = [pyarrow.__version__, pyarrow.__file__.startswith(task)]
stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
facts["outside_bundle"] = sorted(name for name, mod in sys.modules.items() if getattr(mod, "__file__", None)
                                 and not mod.__file__.startswith((task, lake) + stdlib))
facts["numpy"] = "numpy" in sys.modules
print(json.dumps(facts))
"""

RUN = "20240105T230000Z-served"


def published_lake(root: Path) -> str:
    """A lake holding one published manifest switching trade_year=2024 to a fresh Parquet partition."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    location = layout.partition_version_prefix(published_manifest.TABLE, {"trade_year": "2024"}, RUN)
    (root / location).mkdir(parents=True)
    pq.write_table(pa.table({
        "symbol": ["IBM", "IBM", "AAPL"],
        "trade_date": pa.array([dt.date(2024, 1, 4), dt.date(2024, 1, 5), dt.date(2024, 1, 5)], pa.date32()),
        "open": [160.0, 161.5, 181.0], "high": [162.0, 163.25, 182.5], "low": [159.5, 160.75, 180.0],
        "close": [161.1, 162.9, 181.18],
        "volume": pa.array([4_000_000, 5_250_000, 62_000_000], pa.int64()),
        "ingest_run_id": ["20240105T220000Z-ingest"] * 3,
    }), root / location / "part-00000.parquet")
    key = layout.published_manifest_key(RUN)
    (root / key).parent.mkdir(parents=True)
    (root / key).write_bytes(published_manifest.to_bytes(published_manifest.build(RUN, {"2024": (location, None)})))
    return key


@pytest.mark.slow
def test_the_serve_loader_loads_a_published_partition_from_its_real_bundle(python, bundles, tmp_path):
    loader_function = FUNCTIONS["ServeLoaderFunction"]
    lake = tmp_path / "lake"
    key = published_lake(lake)
    missing = layout.published_manifest_key("20240106T230000Z-nothere")
    facts = run_probe(python, LOADER_PROBE, bundles[loader_function.code_parameter], tmp_path, str(lake), key, missing)

    # the published manifest's rows are in the serving table at its version; the message whose
    # manifest does not exist alone goes back to the queue
    assert facts["response"] == {"batchItemFailures": [{"itemIdentifier": "m-missing"}]}
    assert facts["served"] == [
        ["AAPL", "2024-01-05", "181.18", 62_000_000, "20240105T220000Z-ingest", RUN],
        ["IBM", "2024-01-04", "161.1", 4_000_000, "20240105T220000Z-ingest", RUN],
        ["IBM", "2024-01-05", "162.9", 5_250_000, "20240105T220000Z-ingest", RUN],
    ]
    # read by the bundle's own pinned pyarrow, which needs no numpy (the bundle has none)
    pins = package.read_locks(package.BUNDLES[loader_function.code_parameter].locks)
    assert facts["pyarrow"] == [pins["pyarrow"], True]
    assert facts["outside_bundle"] == [] and facts["numpy"] is False
