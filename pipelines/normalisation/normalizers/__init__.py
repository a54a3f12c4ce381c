"""One normaliser per table, each keeping only what is its own: its checks, the selection
of its columns and its duplicate order (the skeleton is ``normalize.normalize_table``).

A table's fingerprint hashes its own module here, never another table's
(``pipelines/normalisation/tables.py``).
"""

from pipelines.normalisation.normalizers import gebiete, leistungen, onlinedienste, verfuegbarkeit

__all__ = ["gebiete", "leistungen", "onlinedienste", "verfuegbarkeit"]
