"""File drops: a CSV a user hands the lake (`tickerlake load`, or a file put under inbox/ on S3)
lands in the raw zone as an ingest run of its own, then takes the audited path like any fetch.

    parse.py   pure: which format, which symbols, header and row checks naming row and column
    land.py    the raw zone: bodies, the drop's ingest manifest, its create-only marker, rejected/
"""
