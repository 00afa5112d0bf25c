"""moto-backed AWS for the adapter, Lambda and entry tests: in-process, no network."""
from __future__ import annotations

import boto3
import pytest

REGION = "us-east-1"
BUCKET = "tickerlake-test-lake"


@pytest.fixture
def aws(monkeypatch):
    """Fake credentials and a moto mock around the test: nothing reaches AWS."""
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def glue(aws):
    client = boto3.client("glue", region_name=REGION)
    client.create_database(DatabaseInput={"Name": "stocks"})
    return client


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "checkov: scans infra/ with checkov, installed on first use into .venv-checkov (its pins clash with ours)",
    )
