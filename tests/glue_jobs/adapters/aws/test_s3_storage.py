from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from glue_jobs.adapters.aws.s3_storage import S3Storage, split_s3_uri
from glue_jobs.ports.storage import AlreadyExists, NotFound, StorageError
from glue_jobs.runtime import open_runtime

BUCKET = "tickerlake-test-lake"  # made by the s3 fixture


def test_open_runtime_gives_an_s3_lake_rooted_at_the_prefix(s3):
    storage = open_runtime(f"s3://{BUCKET}/team/lake").storage
    assert isinstance(storage, S3Storage)
    storage.put_bytes("raw/daily/a.csv", b"x")
    assert s3.get_object(Bucket=BUCKET, Key="team/lake/raw/daily/a.csv")["Body"].read() == b"x"
    assert storage.uri("raw/daily/a.csv") == f"s3://{BUCKET}/team/lake/raw/daily/a.csv"
    assert storage.root == f"s3://{BUCKET}/team/lake"


@pytest.mark.parametrize(
    "uri, expected",
    [("s3://b", ("b", "")), ("s3://b/", ("b", "")), ("s3://b/p/q/", ("b", "p/q/")), ("s3://b/p", ("b", "p/"))],
)
def test_split_s3_uri(uri, expected):
    assert split_s3_uri(uri) == expected


@pytest.mark.parametrize("uri, message", [
    ("s3://", "'s3://' names no bucket: expected s3://BUCKET"),
    ("/tmp/lake", "'/tmp/lake' is not an s3:// URI"),
    ("s3:///prefix", "'s3:///prefix' names no bucket: expected s3://BUCKET"),
])
def test_split_s3_uri_rejects_what_names_no_bucket(uri, message):
    with pytest.raises(StorageError, match=re.escape(message)):
        split_s3_uri(uri)


def test_create_only_write_has_one_winner_and_keeps_the_first_bytes(s3):
    storage = S3Storage(BUCKET, client=s3)
    storage.put_bytes("locks/pipeline.lock", b"run-1", create_only=True)
    with pytest.raises(AlreadyExists, match="locks/pipeline.lock"):
        storage.put_bytes("locks/pipeline.lock", b"run-2", create_only=True)
    assert storage.get_bytes("locks/pipeline.lock") == b"run-1"
    storage.put_bytes("locks/pipeline.lock", b"run-3")  # a plain write replaces
    assert storage.get_bytes("locks/pipeline.lock") == b"run-3"


def test_missing_key_is_not_found_and_does_not_exist(s3):
    storage = S3Storage(BUCKET, "lake", client=s3)
    assert not storage.exists("state/ingestion.json")
    with pytest.raises(NotFound, match="state/ingestion.json"):
        storage.get_bytes("state/ingestion.json")


def test_list_keys_pages_through_everything_below_a_prefix_relative_to_the_root(s3):
    storage = S3Storage(BUCKET, "lake", client=s3)
    keys = [f"tmp/t/run_id=r/part-{i:04d}.parquet" for i in range(1005)]  # more than one page
    for key in keys:
        storage.put_bytes(key, b"")
    storage.put_bytes("tmp/other/x", b"")
    s3.put_object(Bucket=BUCKET, Key="outside/tmp/t/y", Body=b"")
    assert storage.list_keys("tmp/t/") == sorted(keys)
    assert storage.list_keys("nothing/") == []


def test_delete_removes_more_than_one_batch_and_ignores_missing_keys(s3):
    storage = S3Storage(BUCKET, client=s3)
    keys = [f"tmp/t/{i}" for i in range(1203)]
    for key in keys:
        storage.put_bytes(key, b"1")
    storage.put_bytes("keep/me", b"1")
    storage.delete(keys + ["tmp/never-there"])
    assert storage.list_keys("tmp/") == []
    assert storage.exists("keep/me")


def test_keys_cannot_escape_the_lake(s3):
    storage = S3Storage(BUCKET, "lake", client=s3)
    with pytest.raises(StorageError, match="outside the lake"):
        storage.put_bytes("../secrets", b"")


def test_a_write_not_asked_to_be_durable_is_stored_at_once_and_flush_has_nothing_to_do(s3):
    # an acknowledged PUT is durable: the landing's one flush before its manifest costs no call
    storage = S3Storage(BUCKET, client=s3)
    storage.put_bytes("raw/daily/a/body.csv", b"a", durable=False)
    assert s3.get_object(Bucket=BUCKET, Key="raw/daily/a/body.csv")["Body"].read() == b"a"
    calls = []
    s3.meta.events.register("before-call.s3", lambda **kw: calls.append(kw["event_name"]))
    storage.flush()
    assert calls == []


def test_carry_copies_an_object_server_side_and_the_copy_outlives_its_source(s3):
    storage = S3Storage(BUCKET, "lake", client=s3)
    old = "warehouse/daily_prices/trade_year=2024/v=r1/seg-20240101-20241031-00000.parquet"
    new = old.replace("v=r1", "v=r2")
    storage.put_bytes(old, b"settled rows")
    storage.carry(old, new)
    storage.delete([old])  # the janitor removing the old version
    assert storage.get_bytes(new) == b"settled rows"
    with pytest.raises(NotFound, match="v=r1"):
        storage.carry(old, old.replace("v=r1", "v=r3"))


class _ConditionalCopies:
    """moto's S3 with S3's rule for CopyObject's If-None-Match, which moto does not enforce:
    with IfNoneMatch="*" a copy onto an existing key fails with 412 PreconditionFailed."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def copy_object(self, **kwargs):
        if kwargs.get("IfNoneMatch") == "*":
            try:
                self._client.head_object(Bucket=kwargs["Bucket"], Key=kwargs["Key"])
            except ClientError:
                pass  # absent: the copy goes ahead
            else:
                raise ClientError({"Error": {"Code": "PreconditionFailed", "Message": "At least one of the "
                                             "pre-conditions you specified did not hold"}}, "CopyObject")
        return self._client.copy_object(**kwargs)


def test_carry_never_replaces_an_object_that_is_there(s3):
    """As a local hard link refuses an existing name: a version's file is never overwritten."""
    storage = S3Storage(BUCKET, "lake", client=_ConditionalCopies(s3))
    source, dest = "warehouse/v=r1/seg-a.parquet", "warehouse/v=r2/seg-a.parquet"
    storage.put_bytes(source, b"new rows")
    storage.put_bytes(dest, b"published rows")
    with pytest.raises(AlreadyExists, match="v=r2"):
        storage.carry(source, dest)
    assert storage.get_bytes(dest) == b"published rows"


def _three_parquet_files(storage) -> list[str]:
    import pyarrow as pa

    from glue_jobs.lake import parquet

    keys = [f"warehouse/t/part-{n}.parquet" for n in range(3)]
    for n, key in enumerate(keys):
        parquet.write_table(storage, key, pa.table({"n": [n, n + 10]}))
    return keys


class _ArrowS3:
    """pyarrow's S3 client as the adapter sees it: opens answer from `objects`, or fail."""

    def __init__(self, objects: dict[str, bytes] | None):
        self.objects, self.opened = objects, []

    def open_input_file(self, path: str):
        import pyarrow as pa

        self.opened.append(path)
        if self.objects is None:
            raise OSError("AWS Error NETWORK_CONNECTION during HeadObject operation")
        if path not in self.objects:
            raise FileNotFoundError(f"Path does not exist '{path}'")
        return pa.BufferReader(self.objects[path])


def test_parquet_is_read_in_ranges_through_pyarrows_client_made_once_for_the_bucket(s3, monkeypatch):
    from glue_jobs.adapters.aws import s3_storage
    from glue_jobs.lake import parquet

    storage = S3Storage(BUCKET, "lake", client=s3)
    keys = _three_parquet_files(storage)
    arrow = _ArrowS3({f"{BUCKET}/lake/{k}": storage.get_bytes(k) for k in keys})
    made = []
    monkeypatch.setattr(s3_storage, "_arrow_clients", {})
    monkeypatch.setattr(s3_storage, "_arrow_client", lambda *where: made.append(where) or arrow)
    read_whole = []
    monkeypatch.setattr(storage, "get_bytes", lambda key: read_whole.append(key))

    table = parquet.read_table(storage, "warehouse/t/")
    assert sorted(table.column("n").to_pylist()) == [0, 1, 2, 10, 11, 12]
    assert arrow.opened == [f"{BUCKET}/lake/{k}" for k in keys] and not read_whole
    # the boto3 client's region (moto's), asked once; a new storage of the bucket reuses it
    assert parquet.row_count(S3Storage(BUCKET, "lake", client=s3), "warehouse/t/") == 6
    assert made == [("us-east-1", s3.meta.endpoint_url)]


def test_where_pyarrows_client_cannot_reach_the_bucket_files_are_read_whole_and_it_is_not_tried_again(s3, monkeypatch):
    from glue_jobs.adapters.aws import s3_storage
    from glue_jobs.lake import parquet

    storage = S3Storage(BUCKET, "lake", client=s3)
    _three_parquet_files(storage)
    unreachable = _ArrowS3(None)
    monkeypatch.setattr(s3_storage, "_arrow_clients", {})
    monkeypatch.setattr(s3_storage, "_arrow_client", lambda *where: unreachable)

    table = parquet.read_table(storage, "warehouse/t/")
    assert sorted(table.column("n").to_pylist()) == [0, 1, 2, 10, 11, 12]
    assert parquet.row_count(S3Storage(BUCKET, "lake", client=s3), "warehouse/t/") == 6
    assert len(unreachable.opened) == 1  # one failed try in this process, not one per file


def test_pyarrows_client_uses_the_endpoint_boto3_is_given_and_aws_own_by_default():
    from pyarrow import fs

    from glue_jobs.adapters.aws.s3_storage import _arrow_client

    aws = _arrow_client("eu-west-1", "https://s3.eu-west-1.amazonaws.com")
    assert isinstance(aws, fs.S3FileSystem) and aws.region == "eu-west-1" and "amazonaws" not in repr(aws.__reduce__())
    local = _arrow_client("us-east-1", "http://127.0.0.1:9000")
    assert isinstance(local, fs.S3FileSystem) and "127.0.0.1:9000" in repr(local.__reduce__())


def test_a_missing_object_is_not_found_and_pyarrows_client_stays_in_use(s3, monkeypatch):
    from glue_jobs.adapters.aws import s3_storage
    from glue_jobs.lake import parquet

    storage = S3Storage(BUCKET, "lake", client=s3)
    keys = _three_parquet_files(storage)
    arrow = _ArrowS3({f"{BUCKET}/lake/{k}": storage.get_bytes(k) for k in keys})
    monkeypatch.setattr(s3_storage, "_arrow_clients", {})
    monkeypatch.setattr(s3_storage, "_arrow_client", lambda *where: arrow)

    with pytest.raises(NotFound, match="warehouse/t/gone.parquet"):
        parquet.open_file(storage, "warehouse/t/gone.parquet")  # the janitor took it meanwhile
    assert parquet.row_count(storage, "warehouse/t/") == 6
    assert arrow.opened[1:] == [f"{BUCKET}/lake/{k}" for k in keys]
