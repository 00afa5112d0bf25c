"""S3 object events as our queues carry them (pure): the bucket and decoded key each event names,
the event a local queue carries for a key, and a key relative to the lake. The serving loader
and the drop loader read the same bodies, locally and on AWS."""
from __future__ import annotations

import json
from urllib.parse import unquote_plus

from glue_jobs.ports.storage import Storage


class MessageError(ValueError):
    """A message that cannot be used, with why (the message fails; its batch goes on)."""


def object_keys(body: str) -> list[tuple[str, str]]:
    """(bucket, decoded key) of each object an event body names. S3 URL-encodes keys in its
    events (`=` arrives as `%3D`, a space as `+`)."""
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise MessageError(f"the message body is not JSON ({exc})") from None
    if not isinstance(event, dict):
        raise MessageError("the message body is not a JSON object")
    if isinstance(event.get("detail"), dict):  # EventBridge
        detail = event["detail"]
        try:
            return [(str(detail["bucket"]["name"]), unquote_plus(str(detail["object"]["key"])))]
        except (KeyError, TypeError):
            raise MessageError("the EventBridge event has no detail.bucket.name / detail.object.key") from None
    if isinstance(event.get("Records"), list):  # an S3 notification
        try:
            return [(str(r["s3"]["bucket"]["name"]), unquote_plus(str(r["s3"]["object"]["key"])))
                    for r in event["Records"]]
        except (KeyError, TypeError):
            raise MessageError("the S3 notification has a record without s3.bucket.name / s3.object.key") from None
    if event.get("Event") == "s3:TestEvent":
        return []
    raise MessageError(f"not an S3 object event (keys: {', '.join(sorted(event)) or 'none'})")


def event_body(bucket: str, key: str) -> str:
    """The EventBridge "Object Created" event S3 sends for `key` (URL-encoded, as S3 does): what
    the local queue carries, so the loader reads the same bodies locally and on AWS."""
    from urllib.parse import quote_plus

    return json.dumps({
        "version": "0", "source": "aws.s3", "detail-type": "Object Created",
        "detail": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key, safe="/")}},
    }, sort_keys=True)


def lake_key(storage: Storage, bucket: str, key: str) -> str:
    """The key relative to the lake's root. An S3 lake may sit under a prefix of its bucket;
    a local lake's events name the key relative to the lake already."""
    root = storage.uri("")
    if not root.startswith("s3://"):
        return key
    bucket_root = f"s3://{bucket}/"
    if not root.startswith(bucket_root):
        raise MessageError(f"the event is for bucket {bucket}, but the lake is {root}")
    prefix = root[len(bucket_root):]
    if not key.startswith(prefix):
        raise MessageError(f"object {key} is outside the lake {root}")
    return key[len(prefix):]
