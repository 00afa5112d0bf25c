"""Athena's varbinary functions (functions/binary): the local engine has none of them yet, and
says so naming the function the user called. sha256 and sha512 are one node in the parser,
whose length argument says which; the refusal once named neither ('shanull', as a function
Athena does not have) and the parser warned on stderr beside it."""
from __future__ import annotations

import logging

import pytest
from athena_harness import case_ids

NOT_YET = [
    ("select to_utf8('IBM')", "to_utf8"),
    ("select from_utf8(to_utf8('IBM'))", "from_utf8"),
    ("select to_hex(md5(to_utf8('IBM')))", "to_hex"),
    ("select md5(to_utf8('IBM'))", "md5"),
    ("select sha1(to_utf8('IBM'))", "sha1"),
    ("select sha256(to_utf8('IBM'))", "sha256"),
    ("select sha512(to_utf8('IBM'))", "sha512"),
    ("select to_base64(to_utf8('IBM'))", "to_base64"),
    ("select from_hex('4942')", "from_hex"),
    ("select xxhash64(to_utf8('IBM'))", "xxhash64"),
]


@pytest.mark.parametrize("sql, function", NOT_YET, ids=case_ids(NOT_YET))
def test_a_varbinary_function_is_refused_by_its_own_name_without_noise(athena, caplog, sql, function):
    with caplog.at_level(logging.WARNING):
        text = athena.refusal(sql)
    assert f"valid Athena SQL that the local engine does not support yet: {function}" in text
    assert "shanull" not in text.lower() and "DuckDB" not in text
    assert [r.getMessage() for r in caplog.records if r.name.startswith("sqlglot")] == []
