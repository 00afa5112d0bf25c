"""The real Lambda bundle, as `make package` builds it (the locked wheels for the Lambda's
platform, not stand-ins), imported by a clean Python 3.12 that sees only the bundle and the
standard library, as Lambda's python3.12 runtime sees /var/task first (AWS Lambda Developer
Guide, "Dependency search path"). moto and the fake-dependency tests in test_packaging.py
cannot see a missing metadata folder, a wheel for the wrong Python or an SDK too old for the
calls the code makes; this test does.

Slow: the first run downloads the wheels (about 20 MB) into .cache/lambda-wheels/, later runs
build from that cache (see infra/README.md for the timings)."""
from __future__ import annotations

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
from cfnlint.decode import decode

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


def template_handler() -> tuple[str, str]:
    parsed, errors = decode(str(ROOT / "infra" / "template.yaml"))
    assert not errors, errors
    module, _, function = parsed["Resources"]["IngestFunction"]["Properties"]["Handler"].rpartition(".")
    return module, function


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
def test_the_real_lambda_bundle_imports_and_answers_in_a_clean_python_of_the_lambda_runtime(tmp_path):
    python = lambda_python()
    if python is None:
        pytest.skip(f"no CPython {package.LAMBDA_PYTHON} here (the Lambda's runtime): set TICKERLAKE_LAMBDA_PYTHON "
                    f"to one, or `pip install uv && uv python install {package.LAMBDA_PYTHON}`")
    deps = tmp_path / "deps"
    package.install_lambda_deps(deps)
    bundle = package.lambda_zip(deps, tmp_path / "out")
    with zipfile.ZipFile(bundle) as zf:
        assert sum(info.file_size for info in zf.infolist()) < UNZIPPED_LIMIT
        task = tmp_path / "task"
        zf.extractall(task)
    module, function = template_handler()
    env = {  # nothing of this machine's AWS setup, and no way to reach AWS
        "PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true", "TICKERLAKE_LAKE": "s3://tickerlake-lake",
    }
    result = subprocess.run([python, "-I", "-S", "-c", PROBE, str(task), module, function],
                            cwd=task, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    facts = json.loads(result.stdout.strip().splitlines()[-1])

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
