"""The SQL mutator (tests/mutation/sql_mutants.py): each operator makes the one change it names,
in place in the original text, and the ids stay the same from run to run so equivalent.md can
name a mutant. No pytest run, no engine: text in, mutants out."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from glue_jobs.lake import sql_files
from tests.mutation import equivalents, selection
from tests.mutation.sql_mutants import OPERATORS, mutants

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "mutation"))
import sql_mutate  # noqa: E402

QUERY = """-- the latest bar per symbol
with ranked as (
    select
        p.symbol,
        coalesce(p.close, 0) as close,
        row_number() over (partition by p.symbol, p.trade_date order by p.fetched_at desc) as recency
    from stocks.prices as p
    inner join stocks.symbols as s
        on s.symbol = p.symbol and s.exchange = p.exchange
    where p.trade_year = {{trade_year}}
        and (p.volume > 0 or p.close is not null)
        and not p.halted
        and p.open is null
        and p.low < p.high
)
select distinct symbol, close from ranked where recency <= 1
union all
select symbol, close from ranked group by symbol, close
order by symbol asc, close
"""


def _changes(operator: str) -> list[tuple[str, str]]:
    """(description, the changed line) of every mutant of QUERY by that operator."""
    out = []
    for m in mutants("q.sql", QUERY, (operator,)):
        original, changed = QUERY.splitlines(), m.text.splitlines()
        assert len(changed) == len(original), f"{m.id} changes more than a line's text: {m.text}"
        differing = [i for i, (a, b) in enumerate(zip(original, changed)) if a != b]
        assert len(differing) == 1 and differing[0] + 1 == m.line, m.text
        out.append((m.description, changed[differing[0]].strip()))
    return out


def _lines(operator: str) -> set[str]:
    return {line for _, line in _changes(operator)}


def test_comparisons_swap_to_their_neighbour():
    assert _lines("comparison") == {
        "on s.symbol <> p.symbol and s.exchange = p.exchange", "on s.symbol = p.symbol and s.exchange <> p.exchange",
        "where p.trade_year <> {{trade_year}}",
        "and (p.volume >= 0 or p.close is not null)", "and p.low <= p.high",
        "select distinct symbol, close from ranked where recency < 1"}


def test_a_condition_loses_one_term_and_the_others_stay():
    # _changes checks that each mutant changes one line: one term gone, never two, and a
    # parenthesised OR inside the AND chain keeps its parentheses
    assert _lines("drop_condition") == {
        "on s.exchange = p.exchange",  # one join key of two: a join on too few columns
        "on s.symbol = p.symbol",
        "and (p.close is not null)",  # a lost OR branch
        "and (p.volume > 0)",
        "",  # one of the WHERE's conjuncts (its other terms are alone on their lines)
    }
    assert len(_changes("drop_condition")) == 8


def test_and_or_not_and_null_tests():
    assert "on s.symbol = p.symbol OR s.exchange = p.exchange" in _lines("and_or")
    assert "and p.halted" in _lines("drop_not")
    assert "and (p.volume > 0 or p.close is null)" in _lines("drop_not")
    assert _changes("is_null") == [("`NOT` added", "and p.open is NOT null")]


def test_clauses_lose_one_column_and_orders_flip():
    assert _lines("partition_by") == {
        "row_number() over (partition by p.trade_date order by p.fetched_at desc) as recency",
        "row_number() over (partition by p.symbol order by p.fetched_at desc) as recency"}
    assert _lines("group_by") == {"select symbol, close from ranked group by close",
                                                   "select symbol, close from ranked group by symbol"}
    # a window's ORDER BY decides which row wins; the final one only lays rows out
    assert _lines("order_by") == set()
    assert _lines("asc_desc") == {
        "row_number() over (partition by p.symbol, p.trade_date order by p.fetched_at ASC) as recency"}
    assert _changes("distinct") == [("`distinct` removed", "select symbol, close from ranked where recency <= 1")]
    assert _changes("union") == [("`all` removed", "union")]


def test_joins_coalesce_and_numbers():
    assert _changes("join") == [("`inner` -> `LEFT`", "LEFT join stocks.symbols as s")]
    # the fallback is lost, never the value itself
    assert _changes("coalesce") == [("`, 0` removed", "coalesce(p.close) as close,")]
    # bounds only: `coalesce(p.close, 0)` keeps its 0
    assert _lines("number") == {"and (p.volume > 1 or p.close is not null)",
                                "select distinct symbol, close from ranked where recency <= 2",
                                "select distinct symbol, close from ranked where recency <= 0"}


def test_ids_are_stable_unique_and_name_the_file():
    first, second = mutants("q.sql", QUERY), mutants("q.sql", QUERY)
    assert [m.id for m in first] == [m.id for m in second]
    assert len({m.id for m in first}) == len(first)
    assert all(m.id.startswith("q.sql:") and m.id.split(":")[1] in OPERATORS for m in first)
    # an edit elsewhere in the file leaves the other mutants' ids alone
    edited = {m.id for m in mutants("q.sql", QUERY.replace("-- the latest bar per symbol", "-- latest\n-- bars"))}
    assert {m.id for m in first} == edited


def test_no_mutant_is_the_original_or_loses_a_placeholder():
    found = mutants("q.sql", QUERY)
    assert found and all(m.text != QUERY for m in found)
    # `where p.trade_year = {{trade_year}}` is never dropped: the parameter would go unused
    assert all("{{trade_year}}" in m.text for m in found)


@pytest.mark.parametrize("name", sql_mutate.sql_files())
def test_every_mutant_of_the_project_sql_still_loads_with_its_parameters(name):
    """A mutant must fail a test by what it computes, not because rendering refused it."""
    text = (ROOT / "sql" / name).read_text()
    wanted = sql_files.placeholders(text)
    for m in mutants(name, text):
        rendered = sql_files.render_text(m.text, {p: 2024 for p in wanted}, origin=m.id)
        assert "{{" not in rendered


def test_each_sql_file_has_its_stages_tests():
    assert set(selection.SQL_TESTS) == {"wap/write_temp/", "wap/publish/"}
    assert selection.sql_tests("wap/publish/merge.sql") >= selection.MODULE_TESTS["glue_jobs.wap.publish"]
    assert selection.sql_tests("wap/write_temp/dedupe.sql") == selection.MODULE_TESTS["glue_jobs.wap.write_temp"]
    assert selection.sql_tests("views/daily_returns.sql") == ()
    for tests in selection.SQL_TESTS.values():
        assert all((ROOT / t).exists() for t in tests)


def test_a_second_run_skips_the_killed_and_the_equivalent():
    found = mutants("q.sql", QUERY)[:3]
    results = {found[0].id: {"status": "killed"}, found[1].id: {"status": "survived"}}
    assert [m.id for m in sql_mutate.to_test(found, results, set(), False)] == [found[1].id, found[2].id]
    # a listed equivalent whose diff is unchanged (the caller judged it): skipped, even with --all
    assert [m.id for m in sql_mutate.to_test(found, results, {found[1].id}, False)] == [found[2].id]
    assert len(sql_mutate.to_test(found, results, set(), True)) == 3
    assert len(sql_mutate.to_test(found, results, {found[1].id}, True)) == 2
    # after new tests: only what a run let live, not what no run has reached yet
    assert [m.id for m in sql_mutate.to_test(found, results, set(), False, survivors_only=True)] == [found[1].id]
    assert [sql_mutate.status_of(c) for c in (0, 1, 2, 5, None)] == ["survived", "killed", "error", "no tests", "timeout"]


def test_the_report_counts_per_file_and_marks_the_equivalent():
    found = mutants("q.sql", QUERY)[:4]
    results = {found[0].id: {"status": "killed"}, found[1].id: {"status": "survived"},
               found[2].id: {"status": "survived"}}
    entries = {found[2].id: equivalents.Entry(found[2].id, None, "no one can tell")}
    text, summary = sql_mutate.report(found, {"q.sql": QUERY}, results, entries)
    assert summary.startswith("SQL: 4 mutants, 3 run: 1 killed (33.3%), 1 equivalent, 1 left: 50.0%")
    assert "| sql/q.sql | 4 | 1 | 1 | 1 | 0 | 1 |" in text
    assert f"### {found[2].id} (line {found[2].line}, survived; equivalent: no one can tell)" in text
    assert f"### {found[0].id}" not in text


def test_a_mutants_run_keeps_the_tests_that_read_its_file_fastest_first():
    from tests.mutation import sql_pytest_plugin

    recorded = {"seconds": {"t::slow": 9.0, "t::fast": 0.1, "t::other": 0.01},
                "reads": {"t::slow": ["wap/publish/merge.sql"], "t::fast": ["wap/publish/merge.sql", "x.sql"],
                          "t::other": ["wap/write_temp/dedupe.sql"]}}
    ids = ["t::slow", "t::other", "t::fast"]
    assert sql_pytest_plugin.kept(ids, recorded, "wap/publish/merge.sql") == ["t::fast", "t::slow"]
    assert sql_pytest_plugin.kept(ids, recorded, "wap/publish/changes.sql") == []
    # nothing recorded about reads (an older clean run): every test, fastest first
    assert sql_pytest_plugin.kept(ids, {"seconds": recorded["seconds"]}, "x.sql") == ["t::other", "t::fast", "t::slow"]


def test_a_scratch_copy_keeps_the_code_and_leaves_the_checkouts_own_lake_out():
    """glue_jobs/lake/ is code: a copy without it ran the tests against another checkout's SQL and
    every mutant survived."""
    top = sql_mutate._not_copied(str(sql_mutate.ROOT), ["lake", "glue_jobs", ".venv", "mutants", "test-artifacts", "sql"])
    assert top == {"lake", ".venv", "mutants", "test-artifacts"}
    assert sql_mutate._not_copied(str(sql_mutate.ROOT / "glue_jobs"), ["lake", "wap", "__pycache__"]) == {"__pycache__"}
