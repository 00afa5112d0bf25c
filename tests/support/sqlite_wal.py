"""What a WAL-mode SQLite file holds without its WAL: the rows its checkpoints copied in."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path


def rows_in_the_file_alone(path: Path, scratch: Path, table: str) -> int:
    """Rows of `table` in the database file `path` read without its WAL (a copy of the file
    alone, made in the folder `scratch`): 0 when not even the table's creation reached it."""
    copy = scratch / "file-alone.sqlite"
    shutil.copyfile(path, copy)
    con = sqlite3.connect(copy)
    try:
        if not con.execute("select 1 from sqlite_master where name = ?", (table,)).fetchone():
            return 0
        return con.execute(f'select count(*) from "{table}"').fetchone()[0]
    finally:
        con.close()
