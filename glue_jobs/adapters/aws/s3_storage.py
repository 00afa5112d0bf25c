"""The lake in an S3 bucket (optionally under a prefix). Same contract as LocalStorage:
keys are relative to the lake root; a PUT is atomic per object; create-only writes use S3
conditional writes (If-None-Match: *), so a lock or a "published" marker has one winner."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from glue_jobs.ports.storage import AlreadyExists, NotFound, ObjectInfo, StorageError

# DeleteObjects takes at most 1000 keys per call.
DELETE_BATCH = 1000


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix/"); the prefix is "" or ends in '/'."""
    if not uri.startswith("s3://"):
        raise StorageError(f"{uri!r} is not an s3:// URI")
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    if not bucket:
        raise StorageError(f"{uri!r} names no bucket: expected s3://BUCKET[/PREFIX]")
    prefix = prefix.strip("/")
    return bucket, (prefix + "/" if prefix else "")


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


# pyarrow's S3 client per (bucket, region, endpoint), or False where it could not read the bucket
_arrow_clients: dict[tuple[str, str, str], Any] = {}


def _arrow_client(region: str, endpoint: str) -> Any:
    try:
        from pyarrow import fs

        return fs.S3FileSystem(region=region,
                               endpoint_override=None if endpoint.endswith(".amazonaws.com") else endpoint or None)
    except (ImportError, OSError):
        return False


class S3Storage:
    """A lake rooted at s3://bucket/prefix. Pass `client` to use a given boto3 S3 client
    (tests inject a moto-backed one); by default one is made from the environment."""

    def __init__(self, bucket: str, prefix: str = "", *, client: Any = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.root = f"s3://{bucket}/{self.prefix}".rstrip("/")
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client = client

    @classmethod
    def from_uri(cls, uri: str, *, client: Any = None) -> S3Storage:
        bucket, prefix = split_s3_uri(uri)
        return cls(bucket, prefix, client=client)

    def _key(self, key: str) -> str:
        key = key.lstrip("/")
        if ".." in key.split("/"):
            raise StorageError(f"refusing key outside the lake: {key!r}")
        return self.prefix + key

    def _relative(self, s3_key: str) -> str:
        return s3_key[len(self.prefix):]

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def put_bytes(self, key: str, data: bytes, *, create_only: bool = False, durable: bool = True) -> None:
        """Write one object. With create_only the write is conditional on the key being absent,
        decided by S3 itself, so two writers racing for the same key cannot both win. An object
        S3 acknowledged is durable, so `durable` changes nothing here."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key), "Body": data}
        if create_only:
            kwargs["IfNoneMatch"] = "*"
        try:
            self.client.put_object(**kwargs)
        except Exception as exc:
            code = _error_code(exc)
            # 409 ConditionalRequestConflict: another create-only write of this key is in flight.
            if create_only and code in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                raise AlreadyExists(f"{self.uri(key)} already exists") from exc
            if code:
                raise StorageError(f"writing {self.uri(key)} failed: {code}: {exc}") from exc
            raise

    def flush(self) -> None:
        """Nothing to do: every acknowledged put is durable."""

    def get_bytes(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            code = _error_code(exc)
            if code in ("NoSuchKey", "404", "NotFound"):
                raise NotFound(f"{key} not found in lake {self.root}") from exc
            if code:
                raise StorageError(f"reading {self.uri(key)} failed: {code}: {exc}") from exc
            raise
        return response["Body"].read()

    def input_file(self, key: str) -> Any:
        """The object as a file pyarrow reads in ranges, through pyarrow's own S3 client: one
        per process for this bucket, in the boto3 client's region and endpoint (pyarrow's URI
        form asks S3 for the bucket's region at every file: a HeadBucket, retried for 6 s where
        S3 cannot be reached). Where pyarrow's client cannot read the bucket (an endpoint or
        credentials only boto3 is given, a mocked S3) the object is read whole through boto3,
        and so are the bucket's later files in this process: each try costs a second of retries."""
        import pyarrow as pa

        where = (self.bucket, getattr(self.client.meta, "region_name", None) or "us-east-1",
                 getattr(self.client.meta, "endpoint_url", None) or "")
        s3 = _arrow_clients.get(where)
        if s3 is None:
            s3 = _arrow_clients[where] = _arrow_client(*where[1:])
        if s3 is not False:
            try:
                return s3.open_input_file(f"{self.bucket}/{self._key(key)}")
            except FileNotFoundError:
                pass  # the bucket was read: get_bytes says the object is not there (NotFound)
            except (pa.ArrowException, OSError):
                _arrow_clients[where] = False
        return pa.BufferReader(self.get_bytes(key))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def list_keys(self, prefix: str) -> list[str]:
        """Every key below prefix, recursively, sorted (all pages of ListObjectsV2)."""
        paginator = self.client.get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            keys.extend(self._relative(obj["Key"]) for obj in page.get("Contents", []))
        return sorted(keys)

    def list_objects(self, prefix: str) -> list[ObjectInfo]:
        """Every object below prefix with its size and LastModified (UTC), sorted by key."""
        paginator = self.client.get_paginator("list_objects_v2")
        out: list[ObjectInfo] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            for obj in page.get("Contents", []):
                modified = obj.get("LastModified")
                if modified is not None and modified.tzinfo is None:
                    modified = modified.replace(tzinfo=dt.timezone.utc)
                out.append(ObjectInfo(self._relative(obj["Key"]), int(obj.get("Size", 0)), modified))
        return sorted(out, key=lambda o: o.key)

    def carry(self, source: str, dest: str) -> None:
        """CopyObject: S3 copies the bytes itself, none pass through here, and the copy is an
        object of its own (deleting the source later leaves it). One CopyObject takes up to
        5 GB; a published segment file is a few tens of MB. Conditional on `dest` being absent,
        as the port asks and create-only put_bytes does: S3 decides it, as a local link does."""
        try:
            self.client.copy_object(Bucket=self.bucket, Key=self._key(dest), IfNoneMatch="*",
                                    CopySource={"Bucket": self.bucket, "Key": self._key(source)})
        except Exception as exc:
            code = _error_code(exc)
            if code in ("NoSuchKey", "404", "NotFound"):
                raise NotFound(f"{source} not found in lake {self.root}") from exc
            if code in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                raise AlreadyExists(f"{self.uri(dest)} already exists") from exc
            if code:
                raise StorageError(f"copying {self.uri(source)} to {self.uri(dest)} failed: {code}: {exc}") from exc
            raise

    def delete(self, keys: Iterable[str]) -> None:
        """Delete keys in batches of 1000; missing keys are ignored (S3 reports them deleted).
        On a versioned bucket this adds delete markers; lifecycle expires the old versions."""
        batch: list[str] = []
        for key in keys:
            batch.append(self._key(key))
            if len(batch) == DELETE_BATCH:
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)

    def _delete_batch(self, s3_keys: list[str]) -> None:
        response = self.client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": k} for k in s3_keys], "Quiet": True},
        )
        errors = [e for e in response.get("Errors", []) if e.get("Code") != "NoSuchKey"]
        if errors:
            shown = ", ".join(f"{e.get('Key')} ({e.get('Code')})" for e in errors[:5])
            more = f" and {len(errors) - 5} more" if len(errors) > 5 else ""
            raise StorageError(f"deleting from s3://{self.bucket} failed for {shown}{more}")
