"""Which mutants `make mutate` runs and which tests may kill each module's mutants.

mutmut's first pass records every selected test that reaches a function, and a mutant then runs
all of them: an end-to-end WAP test reaches the rollback plan and the lake lock too, so a mutant
that survives there paid for ten seconds of unrelated pipeline. MODULE_TESTS narrows each module
to its own tests (tests/mutation/pytest_plugin.py applies it inside each mutant's run); the
end-to-end tests stay only for the stages they are the tests of (write_temp, publish, the audit's
row and series checks, which only run against a lake).
"""
from __future__ import annotations

MODULE_TESTS: dict[str, tuple[str, ...]] = {
    "glue_jobs.audit.rules": ("tests/glue_jobs/audit/", "tests/glue_jobs/wap/test_wap_end_to_end.py"),
    "glue_jobs.audit.row_checks": ("tests/glue_jobs/audit/", "tests/glue_jobs/wap/test_wap_end_to_end.py"),
    "glue_jobs.audit.series_rules": ("tests/glue_jobs/audit/", "tests/glue_jobs/wap/test_unchanged_bars.py",
                                     "tests/glue_jobs/wap/test_wap_end_to_end.py"),
    "glue_jobs.wap.write_temp": ("tests/glue_jobs/wap/test_write_temp.py",
                                 "tests/glue_jobs/wap/test_write_temp_unparsed_duplicates.py",
                                 "tests/glue_jobs/wap/test_write_temp_changed_rows.py",
                                 "tests/glue_jobs/wap/test_write_temp_dedupe_keys.py",
                                 "tests/glue_jobs/wap/test_write_temp_empty_fields.py",
                                 "tests/glue_jobs/wap/test_write_temp_raw_reads.py",
                                 "tests/glue_jobs/wap/test_quarantined_text.py",
                                 "tests/glue_jobs/wap/test_unchanged_bars.py",
                                 "tests/glue_jobs/wap/test_wap_end_to_end.py"),
    "glue_jobs.wap.publish": ("tests/glue_jobs/wap/test_publish_corrections_and_retries.py",
                              "tests/glue_jobs/wap/test_publish_damage.py",
                              "tests/glue_jobs/wap/test_publish_fresh_years.py",
                              "tests/glue_jobs/wap/test_publish_segments.py",
                              "tests/glue_jobs/wap/test_quarantine_record.py",
                              "tests/glue_jobs/wap/test_quarantined_text.py",
                              "tests/glue_jobs/wap/test_unchanged_bars.py",
                              "tests/glue_jobs/wap/test_wap_end_to_end.py",
                              "tests/glue_jobs/wap/test_backfill_chunking.py"),
    "glue_jobs.lake.merge_plan": ("tests/glue_jobs/lake/test_merge_plan.py",
                                  "tests/glue_jobs/lake/test_merge_plan_edges.py"),
    "glue_jobs.ops.rollback_plan": ("tests/glue_jobs/ops/test_rollback_plan.py",
                                    "tests/glue_jobs/ops/test_rollback_plan_edges.py",
                                    "tests/glue_jobs/ops/test_rollback_three_runs.py"),
    "ingestion.rate_limit": ("tests/ingestion/test_rate_planner.py", "tests/ingestion/test_rate_planner_edges.py"),
    "ingestion.alphavantage.classify": ("tests/ingestion/test_alphavantage_classify.py",
                                        "tests/ingestion/test_alphavantage_classify_messages.py",
                                        "tests/ingestion/test_redact_rejected_bodies.py"),
    "ingestion.alphavantage.redact": ("tests/ingestion/test_redact.py", "tests/ingestion/test_redact_edges.py",
                                      "tests/ingestion/test_redact_rejected_bodies.py",
                                      "tests/ingestion/test_alphavantage_classify.py"),
    "glue_jobs.lake.lock": ("tests/glue_jobs/lake/test_lake_lock.py",),
    "glue_jobs.lake.segments": ("tests/glue_jobs/lake/test_segments.py",
                                "tests/glue_jobs/wap/test_publish_segments.py"),
    "glue_jobs.adapters.local.duckdb_engine": ("tests/glue_jobs/adapters/local/test_duckdb_pruning.py",
                                               "tests/glue_jobs/adapters/local/test_duckdb_engine.py"),
    "glue_jobs.adapters.local.athena_sql.translate": ("tests/glue_jobs/adapters/local/athena_sql/",
                                                      "tests/glue_jobs/adapters/local/test_duckdb_engine.py",
                                                      "tests/glue_jobs/adapters/local/test_duckdb_pruning.py"),
}

# Of the engine only its partition pruning (the rest of duckdb_engine.py is I/O that the
# end-to-end tests cover). Of the translation layer only the functions that turn a statement into
# DuckDB's and name and type its columns; its refusal messages (_check_tables, _resolution_error,
# _first_line) and the printing cache (Translation.duckdb, _printed) are left out: about 100
# mutants, each of which runs the whole conformance set when it survives.
ENGINE = "glue_jobs.adapters.local.duckdb_engine"
TRANSLATE = "glue_jobs.adapters.local.athena_sql.translate"
ENGINE_CORE = ("_prune_plan", "_partition_filters", "_partition_segments", "xǁDuckDBEngineǁ_prunable")
TRANSLATE_CORE = ("translate", "_statement", "_query", "_rewrite", "_unaliased_expressions", "_first_select",
                  "_is_star", "_result", "_hide_path_column")
_NARROWED = {ENGINE: ENGINE_CORE, TRANSLATE: TRANSLATE_CORE}
# The mutated modules whose functions' results the project keeps in its lru_caches (the
# translation of a statement and its parse; the engine's tables read by a statement): a mutant's
# run of these starts with the caches empty. Every other cache (SQL files read, the calendar)
# holds what no mutated module computes.
BEHIND_CACHES = frozenset({ENGINE, TRANSLATE})


def _function_pattern(module: str, name: str) -> str:
    """mutmut names a function's mutants `module.x_name__mutmut_N`, a method's `module.xǁClassǁname__mutmut_N`."""
    return f"{module}.{name if name.startswith('x') else 'x_' + name}__mutmut_*"


CORE: list[str] = [f"{module}.*" for module in MODULE_TESTS if module not in _NARROWED] + [
    _function_pattern(module, name) for module, names in _NARROWED.items() for name in names]


def module_of(mutant: str) -> str:
    """glue_jobs.lake.lock.xǁLakeLockǁacquire__mutmut_3 -> glue_jobs.lake.lock"""
    return mutant.split(".x_")[0].split(".xǁ")[0]


def tests_for(mutant: str) -> tuple[str, ...]:
    return MODULE_TESTS.get(module_of(mutant), ())


def in_core(mutant: str) -> bool:
    import fnmatch

    return any(fnmatch.fnmatch(mutant, pattern) for pattern in CORE)


# The SQL behind write_temp and publish (tests/mutation/sql_mutate.py mutates it; mutmut only
# mutates Python): a file's mutants run its stage's tests, the same as that stage's Python.
# publish's fresh years are fresh_year.sql's own subject, so publish's SQL runs that test too;
# the changes publish records for the serving table's loader are changes.sql's.
SQL_TESTS: dict[str, tuple[str, ...]] = {
    "wap/write_temp/": MODULE_TESTS["glue_jobs.wap.write_temp"],
    "wap/publish/": MODULE_TESTS["glue_jobs.wap.publish"] + ("tests/glue_jobs/wap/test_publish_fresh_years.py",
                                                             "tests/glue_jobs/serve/test_published_changes.py"),
}


def sql_tests(name: str) -> tuple[str, ...]:
    """wap/publish/merge.sql -> the tests that may kill its mutants (none for another folder)."""
    return next((tests for folder, tests in SQL_TESTS.items() if name.startswith(folder)), ())
