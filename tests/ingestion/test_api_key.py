from __future__ import annotations

import json
import pickle

import boto3
import pytest
from moto import mock_aws

from glue_jobs.lake.errors import ConfigError
from ingestion.alphavantage.api_key import ApiKey, resolve_api_key

KEY = "SECRETKEY9Q2W8E"


def test_environment_variable_wins():
    assert resolve_api_key({"ALPHAVANTAGE_API_KEY": f"  {KEY} \n"}).reveal() == KEY


@pytest.mark.parametrize("env", [{}, {"ALPHAVANTAGE_API_KEY": ""}, {"ALPHAVANTAGE_API_KEY": "   "}])
def test_a_missing_key_fails_fast_naming_the_settings(env):
    with pytest.raises(ConfigError, match="ALPHAVANTAGE_API_KEY.*ALPHAVANTAGE_SECRET_ID"):
        resolve_api_key(env)


def test_the_key_never_prints_itself():
    key = ApiKey(KEY)
    shown = [repr(key), str(key), f"{key}", "%s" % key, repr([key]), repr({"k": key})]  # noqa: UP031 (as logging does)
    assert all(KEY not in text for text in shown)
    with pytest.raises(TypeError, match="ApiKey cannot be pickled") as caught:
        pickle.dumps(key)
    assert KEY not in str(caught.value)


@pytest.mark.parametrize("stored", [KEY, json.dumps({"apikey": KEY}), json.dumps({"ALPHAVANTAGE_API_KEY": KEY})])
def test_secrets_manager_plain_or_json(stored):
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name="tickerlake/alphavantage", SecretString=stored)
        key = resolve_api_key({"ALPHAVANTAGE_SECRET_ID": "tickerlake/alphavantage"}, secrets_client=client)
    assert key.reveal() == KEY


class CountingSecrets:
    def __init__(self, value=None, error=None):
        self.value, self.error, self.calls = value, error, 0

    def get_secret_value(self, SecretId):  # noqa: N803 (boto3's name)
        self.calls += 1
        if self.error:
            raise self.error
        return {"SecretString": self.value}


def test_the_secret_is_read_once_per_process():
    client = CountingSecrets(KEY)
    env = {"ALPHAVANTAGE_SECRET_ID": "av"}
    assert resolve_api_key(env, secrets_client=client) == resolve_api_key(env, secrets_client=client)
    assert client.calls == 1


@pytest.mark.parametrize(
    "client, match",
    [
        (CountingSecrets(error=RuntimeError("AccessDenied")), "could not read .*GetSecretValue"),
        (CountingSecrets(json.dumps({"user": "x"})), "without an 'apikey' field"),
        (CountingSecrets("{not json"), "does not parse"),
        (CountingSecrets(""), "no SecretString"),
    ],
)
def test_unusable_secrets_say_what_to_fix(client, match):
    with pytest.raises(ConfigError, match=match):
        resolve_api_key({"ALPHAVANTAGE_SECRET_ID": "av"}, secrets_client=client)
