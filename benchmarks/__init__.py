"""Benchmarks of the pipeline (``make bench``; never part of ``make test``).

* ``pipeline_benchmark``: end-to-end ``ozg run`` timings per stage, peak RSS, the no-change
  rerun, the scaling curves, the side-by-side normalisation and the TARGET lines; writes
  ``BENCHMARKS.md``.
* ``normalize_benchmark``: throughput of each table's normalisation and validation in one
  process (older, finer-grained).

The other modules are its parts: ``procfs`` (RSS from /proc), ``stages`` (stage times from
the Dagster event log), ``engines`` (the normalisation three ways), ``report`` (tables and
TARGET lines), ``ozg_run`` (``ozg run`` with the last N sample snapshots).
"""
