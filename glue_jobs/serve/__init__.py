"""The serving table's stages and tools: what feeds it from what publish published (the serve
stage, the loader), and what reads and checks it (compare, rebuild, the HTTP API).

    loader.py   one batch of queue messages (published-manifest events) -> serving table writes
    sync.py     locally: announce new manifests on the local queue (as S3 -> EventBridge -> SQS
                would) and drain it through the loader; `tickerlake serve sync` calls sync()
    stage.py    the pipeline stage after publish (workflows/graph.py)

The package imports none of them: the HTTP reader Lambda imports http_api from the ingestion
bundle, which has no pyarrow, and the loader (through sync) needs it. Import the module you use,
e.g. `from glue_jobs.serve.sync import sync`.
"""
