"""The audit's row rules as a Great Expectations suite: built once per run, validated on many
pandas frames. Built in the audit's own process on Glue, and in the local runtime's worker
process (glue_jobs/audit/ge_worker.py), which imports GE while the run's earlier stages run."""
from __future__ import annotations

import logging
import os
from typing import Any

from glue_jobs.audit import rules as audit_rules
from glue_jobs.lake.errors import PipelineError

SUITE_NAME = "daily_prices_audit"


def _expectation_class(gxe: Any, snake: str) -> Any:
    name = "".join(part.capitalize() for part in snake.split("_"))
    try:
        return getattr(gxe, name)
    except AttributeError:
        raise PipelineError(f"{audit_rules.RULES_FILE}: Great Expectations has no expectation {snake!r}") from None


def _quiet_ge() -> None:
    # One of GE's modules sets its own logger to INFO on import, hence the second call.
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)


class Suite:
    """The row rules (all of the book's, or those given) as a GE suite on an ephemeral context
    with a pandas data source: built once per run, validated on many frames."""

    def __init__(self, book: audit_rules.RuleBook, rules: list[audit_rules.RowRule] | None = None):
        # GE stays quiet and local: no progress bars, no analytics, no temporary docs site,
        # nothing below warnings in the logs.
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        _quiet_ge()
        import great_expectations as gx
        import great_expectations.expectations as gxe
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        _quiet_ge()
        self.book = book
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        asset = context.data_sources.add_pandas("tickerlake").add_dataframe_asset("tmp_daily_prices_chunk")
        self.batch_definition = asset.add_batch_definition_whole_dataframe("chunk")
        suite = gx.ExpectationSuite(name=SUITE_NAME)
        for rule in book.row_rules if rules is None else rules:
            expectation = _expectation_class(gxe, rule.expectation)(**rule.kwargs, meta={"rule": rule.name})
            suite.add_expectation(expectation)
        self.suite = context.suites.add(suite)

    def failing_positions(self, frame) -> dict[str, list[int]]:
        """Row positions (the frame has a fresh RangeIndex) failing each rule."""
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(self.suite, result_format={"result_format": "COMPLETE"})
        out: dict[str, list[int]] = {}
        for item in result.results:
            rule = (item.expectation_config.meta or {}).get("rule")
            if item.exception_info and item.exception_info.get("raised_exception"):
                raise PipelineError(
                    f"audit rule {rule}: Great Expectations could not evaluate it: "
                    f"{item.exception_info.get('exception_message')}"
                )
            if not item.success:
                out[rule] = [int(i) for i in item.result.get("unexpected_index_list") or []]
        return out




def warm_up() -> None:
    """Import GE and build the whole rule book's suite once: the first context of a process sets
    up GE's registries, which would otherwise be the first audit's cost."""
    Suite(audit_rules.load_rules())
