"""Storage and catalog for the operator commands (janitor, rollback, set-aside, requeue),
which need no engine: a local directory with its JSON catalog, or S3 with the Glue catalog."""
from __future__ import annotations

import os

from glue_jobs.adapters.catalog import Catalog
from glue_jobs.adapters.storage import Storage


def open_lake(lake: str) -> tuple[Storage, Catalog]:
    """(storage, catalog) for `lake`: s3://bucket[/prefix] (boto3 credentials from the
    environment) or a local directory, which must exist."""
    if lake.startswith("s3://"):
        from glue_jobs.adapters.glue_catalog import GlueCatalog
        from glue_jobs.adapters.s3_storage import S3Storage

        storage = S3Storage.from_uri(lake)
        return storage, GlueCatalog(storage.root)
    from glue_jobs.adapters.local_catalog import LocalCatalog
    from glue_jobs.adapters.storage import LocalStorage
    from glue_jobs.errors import ConfigError

    if not os.path.isdir(lake):
        raise ConfigError(f"no lake at {lake}: run `tickerlake run` first, or pass --lake DIR")
    storage = LocalStorage(lake)
    return storage, LocalCatalog(storage)
