"""Paths of the real files embedded in the sample (see ``data/ATTRIBUTION.md``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

DATA_DIR = Path(__file__).parent / "data"
GV100AD_TXT = DATA_DIR / "GV100AD_30112025.txt"
GV100AD_HINWEISE = DATA_DIR / "Hinweise_GV100AD_30112025.txt"
PVOG_BUND_CSV = DATA_DIR / "servicedescriptions_csv_ars_000000000000_2025-01-20.csv"
PVOG_BUND_ARS = "000000000000"


@cache
def gv100ad_frame() -> pl.DataFrame:
    """The real GV100AD 30.11.2025, parsed (all of Germany, one row per record)."""
    from sources.destatis import parse_gv100ad

    return parse_gv100ad(GV100AD_TXT.read_text(encoding="utf-8"))
