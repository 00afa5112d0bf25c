from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.lake.errors import ConfigError
from workflows.entry.glue_args import parse_glue_args, run_identity, stage_args


def test_glue_style_arguments_parse_with_glues_own_ones_mixed_in():
    argv = ["--JOB_ID", "j_1", "--stage", "audit", "--lake=s3://b", "--workgroup", "tl",
            "--WORKFLOW_NAME", "tl-wap", "--WORKFLOW_RUN_ID", "wr_9", "--enable-x", "--job-bookmark-option",
            "job-bookmark-disable"]
    assert parse_glue_args(argv) == {
        "JOB_ID": "j_1", "stage": "audit", "lake": "s3://b", "workgroup": "tl", "WORKFLOW_NAME": "tl-wap",
        "WORKFLOW_RUN_ID": "wr_9", "enable-x": "true", "job-bookmark-option": "job-bookmark-disable",
    }


@pytest.mark.parametrize("argv", [["audit"], ["--stage", "audit", "stray"], ["--"]])
def test_words_that_are_not_key_value_pairs_are_refused(argv):
    with pytest.raises(ConfigError, match="--KEY value"):
        parse_glue_args(argv)


BASE = {"stage": "publish", "lake": "s3://b", "workgroup": "tl"}


@pytest.mark.parametrize(
    "args, message",
    [
        ({**BASE, "stage": "ingest"}, r"--stage 'ingest' is not a Glue job stage"),
        ({**BASE, "stage": "crawl"}, r"--stage 'crawl' is not a Glue job stage"),
        ({**BASE, "lake": ""}, "--lake is missing"),
        ({k: v for k, v in BASE.items() if k != "workgroup"}, "--workgroup is missing"),
        (BASE, "pass --run_id and --as_of"),
        ({**BASE, "run_id": "r", "as_of": "20261120"}, "--as_of '20261120' is not a date"),
    ],
)
def test_invalid_stage_arguments_say_what_to_fix(args, message):
    with pytest.raises(ConfigError, match=message):
        stage_args(args)


def test_a_hand_run_gives_run_id_and_as_of_directly():
    parsed = stage_args({**BASE, "run_id": "20261120T220001Z-abc123", "as_of": "2026-11-20"})
    assert (parsed.run_id, parsed.as_of, parsed.workflow_name) == ("20261120T220001Z-abc123", dt.date(2026, 11, 20), None)


def test_run_identity_comes_from_the_workflow_run_properties():
    assert run_identity({"run_id": "r1", "as_of": "2026-11-20"}, "tl-wap") == ("r1", dt.date(2026, 11, 20))
    with pytest.raises(ConfigError, match="started without the run properties"):
        run_identity({"as_of": "2026-11-20"}, "tl-wap")
