"""In-process fakes of external systems, for tests and benchmarks."""
