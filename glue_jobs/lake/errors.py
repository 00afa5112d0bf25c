"""Failures the CLI turns into exit codes. Each message says what failed, where
(symbol, file, row, stage) and what to do about it."""
from __future__ import annotations

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_AUDIT_BLOCKED = 3
EXIT_NOTHING_FETCHED = 4
EXIT_LOCK_HELD = 5
EXIT_DOCTOR_PROBLEMS = 6  # tickerlake doctor: problems remain (after --repair: what it could not repair)
EXIT_SERVING_MISMATCH = 7  # tickerlake serve verify: the serving table differs from the published table (each difference named)
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


class PipelineError(RuntimeError):
    exit_code = EXIT_UNEXPECTED


class ConfigError(PipelineError):
    """Bad flags, environment or configuration files."""

    exit_code = EXIT_USAGE
    kind: str | None = "configuration error"  # how the CLI introduces it; None: the message says


class AuditBlocked(PipelineError):
    """A batch rule failed: nothing was published and prod is untouched."""

    exit_code = EXIT_AUDIT_BLOCKED


class NothingFetched(PipelineError):
    """No symbol produced usable data (all failed, rejected, or the quota is spent)."""

    exit_code = EXIT_NOTHING_FETCHED


class LockHeld(PipelineError):
    """Another run holds the lake's lock: try again when it has finished."""

    exit_code = EXIT_LOCK_HELD
