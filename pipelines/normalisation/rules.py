"""Normalisation rules, each a small polars expression or function with a reason code.

Every rule either repairs a value (and says so) or rejects the row with a reason
code; rejected rows go to quarantine with a readable message, never silently away.

Reason codes:

- ``ars_invalid``: an ARS must be 12 digits. An 11-digit value whose restored Land code
  is 01–09 gets its lost leading zero back, and so does a 1-digit Land code 1–9; a
  2-digit Land code or a 5-digit Kreis key is padded with zeros (all unambiguous);
  anything else is rejected.
- ``ars_not_in_gebietsstand``: a well-formed ARS must exist in the Gemeindeverzeichnis
  edition the run matches against (or be the Bund ARS). Territorial reforms make this a
  matter of the edition, not of bad data (Hanau is kreisfrei with ARS ``064150000000``
  since 2026-01-01, the edition of 30.11.2025 does not know it), so these rows have their
  own code, are counted apart in ``mart_datenqualitaet`` and named in the run summary with
  the remedy: a newer edition (``OZG_GV100AD_EDITION``).
- ``leika_invalid``: a LeiKa key must match ``^99\\d{12}$`` after trimming, with ASCII digits
  (``\\d`` alone would take ``٠`` or ``０``); it is never padded (which digit was lost is
  ambiguous).
- ``enum_invalid``: enum values are trimmed, NFC-normalised, case-folded and mapped to
  a closed set; unknown values are rejected.
- ``date_invalid``: dates are read only in the explicit formats ``YYYY-MM-DD``,
  ``DD.MM.YYYY`` and ISO date-time; the year must have four digits.
- ``duplicate``: of rows equal on the table's grain the first is kept (for
  availability, a row with ``online_status = ok`` beats one without, then the first
  received by raw file and record index); the others are quarantined.
- ``missing_key``: a key column is empty.
- ``test_record``: a PVOG row whose ID-LB marks a test record (``TEST``, any case; demo
  instances carry them): kept out of every metric, with its own reason.

Text (names, URLs) is NFC-normalised and whitespace-collapsed; this is a repair, not
a rejection.
"""

from __future__ import annotations

import unicodedata

import polars as pl

BUND_ARS = "000000000000"
ARS_NOT_IN_GEBIETSSTAND = "ars_not_in_gebietsstand"
TEST_RECORD = "test_record"
LEIKA_PATTERN = r"^99[0-9]{12}$"  # ASCII digits: \d is Unicode-aware in polars

ONLINE_STATUS = {"ok": "ok", "nicht ok": "nicht ok", "nicht_ok": "nicht ok", "nichtok": "nicht ok"}
AKTIV = {"ja": True, "nein": False, "true": True, "false": False}
FLAECHENDECKUNG = {
    "bundesweit flächendeckend": "bundesweit flächendeckend",
    "landesweit flächendeckend": "landesweit flächendeckend",
    "kreisweit flächendeckend": "kreisweit flächendeckend",
    "in mind. einer kommune verfügbar": "in mind. einer Kommune verfügbar",
    "nicht in auswertung berücksichtigt": "nicht in Auswertung berücksichtigt",
}
# (format, shape): the shape guard stops chrono's %Y from reading "28.10.26" as year 26.
DATE_FORMATS = (
    ("%Y-%m-%d", r"^\d{4}-\d{1,2}-\d{1,2}$"),
    ("%d.%m.%Y", r"^\d{1,2}\.\d{1,2}\.\d{4}$"),
)


def clean_text(expr: pl.Expr) -> pl.Expr:
    """NFC, collapse runs of whitespace, trim; empty becomes null."""
    cleaned = expr.str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(cleaned == "").then(None).otherwise(cleaned)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def repair_ars(expr: pl.Expr) -> pl.Expr:
    """The 12-digit ARS, or null when no unambiguous repair exists."""
    raw = expr.str.strip_chars()
    digits = raw.str.contains(r"^[0-9]+$")  # ASCII digits only (\d takes ٠ or ０)
    length = raw.str.len_chars()
    return (
        pl.when(digits.not_())
        .then(None)
        .when(length == 12)
        .then(raw)
        # A lost leading zero (Land 01–09 read as a number): 11 digits starting 1–9.
        .when((length == 11) & raw.str.contains(r"^[1-9]"))
        .then(pl.lit("0") + raw)
        # The same loss on a bare Land code: "6" is Land 06.
        .when((length == 1) & (raw != "0"))
        .then(pl.lit("0") + raw + pl.lit("0" * 10))
        .when(length == 2)
        .then(raw + pl.lit("0" * 10))
        .when(length == 5)
        .then(raw + pl.lit("0" * 7))
        .otherwise(None)
    )


def ags_from_ars(expr: pl.Expr) -> pl.Expr:
    """AGS (8) of a Gemeinde ARS: Land, RB, Kreis + Gemeinde (the Verband is dropped)."""
    return expr.str.slice(0, 5) + expr.str.slice(9, 3)


def ars_ebene(expr: pl.Expr) -> pl.Expr:
    """Level an ARS names, from its zero pattern (Bund, Land, Regierungsbezirk, Kreis,
    Gemeindeverband, Gemeinde). Kreisfreie Städte read as Kreis (their Kreis ARS)."""
    return (
        pl.when(expr == BUND_ARS)
        .then(pl.lit("Bund"))
        .when(expr.str.slice(2) == "0" * 10)
        .then(pl.lit("Land"))
        .when(expr.str.slice(3) == "0" * 9)
        .then(pl.lit("Regierungsbezirk"))
        .when(expr.str.slice(5) == "0" * 7)
        .then(pl.lit("Kreis"))
        .when(expr.str.slice(9) == "000")
        .then(pl.lit("Gemeindeverband"))
        .otherwise(pl.lit("Gemeinde"))
    )


def map_enum(expr: pl.Expr, mapping: dict[str, object]) -> pl.Expr:
    """Trim, NFC, case-fold and map to the closed set; unknown values become null."""
    key = (
        expr.str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase()
    )
    return key.replace_strict(mapping, default=None)


def parse_date(expr: pl.Expr) -> pl.Expr:
    """A date from one of the explicit formats, else null."""
    text = expr.str.strip_chars()
    candidates = [
        pl.when(text.str.contains(shape)).then(text.str.strptime(pl.Date, fmt, strict=False))
        for fmt, shape in DATE_FORMATS
    ]
    iso_datetime = text.str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    is_iso_datetime = text.str.contains(
        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
    )
    return pl.coalesce(*candidates, pl.when(is_iso_datetime).then(iso_datetime))
