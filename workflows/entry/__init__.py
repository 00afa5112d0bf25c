"""Glue job entry points: parse Glue's arguments, build the AWS runtime, run one stage."""
