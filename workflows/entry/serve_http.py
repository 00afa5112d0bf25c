"""The serving table's HTTP reader on AWS: a Lambda behind a function URL (AuthType AWS_IAM:
only signed requests reach it). GET /bars/{symbol}?from=&to=&last= answers a JSON array of
bars; errors are JSON with 400, 404 or 405. Parsing and rendering are
glue_jobs/serve/http_api.py's, the same as `tickerlake serve get` and `tickerlake serve http`.

Configuration from the environment the stack sets: TICKERLAKE_SERVING_TABLE (the DynamoDB
table) and TICKERLAKE_LAKE (s3://bucket/prefix). The table is opened once per container."""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from glue_jobs.lake.errors import ConfigError
from glue_jobs.runtime import open_runtime
from glue_jobs.serve import http_api

log = logging.getLogger("tickerlake.serve_http")

_runtime: Any = None


def _serving(env: Mapping[str, str]):
    global _runtime
    if _runtime is None:
        lake = env.get("TICKERLAKE_LAKE")
        if not lake:
            raise ConfigError("TICKERLAKE_LAKE is not set: the stack sets it to s3://bucket/prefix")
        _runtime = open_runtime(lake, env=env)
    return _runtime.serving


def _response(resp: http_api.Response) -> dict[str, Any]:
    return {"statusCode": resp.status, "headers": {"content-type": resp.content_type,
                                                   "cache-control": "no-store"},
            "body": resp.body, "isBase64Encoded": False}


def handler(event: Mapping[str, Any], context: Any = None, *, serving: Any = None,
            env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A function URL event (payload format 2.0) answered; `serving` and `env` are for tests."""
    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method") or event.get("httpMethod") or "GET")
    path = str(event.get("rawPath") or http.get("path") or "/")
    query = str(event.get("rawQueryString") or "")
    try:
        table = serving if serving is not None else _serving(os.environ if env is None else env)
        resp = http_api.handle(table, method, path, query)
    except ConfigError as exc:
        log.error("serve_http misconfigured: %s", exc)
        resp = http_api.error_response(500, f"the reader is misconfigured: {exc}")
    except Exception:  # answer JSON, keep the traceback in the log, never in the response
        log.exception("serve_http failed on %s %s", method, path)
        resp = http_api.error_response(500, "internal error reading the serving table; see the function's log")
    log.info("%s %s?%s -> %s", method, path, query, resp.status)
    return _response(resp)
