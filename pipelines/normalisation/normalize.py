"""Raw landing → the four normalised tables, as plain polars functions.

Each ``normalize_*`` returns ``Normalized(table, quarantine)``: the good rows in the
table's declared schema (with lineage: source, raw file sha256, sample flag) and
the rejected rows with a reason code, a readable message and a reference to the
raw file and record. The rules are documented in ``pipelines/normalisation/rules.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.normalisation import rules
from sources import contract, dashboard, pvog

REFERENCE_DIR = Path(__file__).parent / "reference"

GEBIETE_SCHEMA = pl.Schema(
    {
        "snapshot": pl.Date,
        "ars": pl.String,
        "ags": pl.String,
        "name": pl.String,
        "ebene": pl.String,
        "gebietstyp": pl.String,
        "textkennzeichen": pl.String,
        "verband_ars": pl.String,
        "kreis_ars": pl.String,
        "regierungsbezirk_ars": pl.String,
        "land_ars": pl.String,
        "land": pl.String,
        "bevoelkerung": pl.Int64,
        "flaeche_ha": pl.Int64,
        "plz": pl.String,
        "gebietsstand": pl.Date,
        "source": pl.String,
        "raw_sha256": pl.String,
        "sample": pl.Boolean,
    }
)
LEISTUNGEN_SCHEMA = pl.Schema(
    {
        "snapshot": pl.Date,
        "leika_key": pl.String,
        "leika_name": pl.String,
        "leika_bezeichnung": pl.String,
        "ozg_id": pl.String,
        "ozg_bezeichnung": pl.String,
        "themenfeld": pl.String,
        "typisierung": pl.String,
        "leistungsadressat": pl.String,
        "in_fim": pl.Boolean,
        "in_dashboard": pl.Boolean,
        "in_pvog": pl.Boolean,
        "source": pl.String,
        "raw_sha256": pl.String,
        "sample": pl.Boolean,
    }
)
VERFUEGBARKEIT_SCHEMA = pl.Schema(
    {
        "snapshot": pl.Date,
        "query_ars": pl.String,
        "query_scope": pl.String,
        "leika_key": pl.String,
        "leika_name": pl.String,
        "ars": pl.String,
        "ars_name": pl.String,
        "anbieter_ebene": pl.String,
        "ozg_id": pl.String,
        "ozg_bezeichnung": pl.String,
        "url": pl.String,
        "online_status": pl.String,
        "aktiv": pl.Boolean,
        "art_flaechendeckung": pl.String,
        "begruendung_nicht_beruecksichtigt": pl.String,
        "datenstand": pl.Date,
        "source": pl.String,
        "raw_file": pl.String,
        "raw_sha256": pl.String,
        "record_index": pl.Int32,
        "sample": pl.Boolean,
    }
)
ONLINEDIENSTE_SCHEMA = pl.Schema(
    {
        "snapshot": pl.Date,
        "query_ars": pl.String,
        "id_lb": pl.String,
        "leika_key": pl.String,
        "leistung_name": pl.String,
        "leistung_name2": pl.String,
        "updatedatum": pl.Datetime("us"),
        "id_od": pl.String,
        "onlinedienst_name": pl.String,
        "link": pl.String,
        "source": pl.String,
        "raw_file": pl.String,
        "raw_sha256": pl.String,
        "line_number": pl.Int64,
        "sample": pl.Boolean,
    }
)
QUARANTINE_SCHEMA = pl.Schema(
    {
        "table": pl.String,
        "snapshot": pl.Date,
        "reason_code": pl.String,
        "message": pl.String,
        "source": pl.String,
        "raw_file": pl.String,
        "raw_sha256": pl.String,
        "record_ref": pl.String,
        "record": pl.String,
        "sample": pl.Boolean,
    }
)

GRAINS: dict[str, tuple[str, ...]] = {
    "gebiete": ("snapshot", "ars", "ebene"),
    "leistungen": ("snapshot", "leika_key"),
    "verfuegbarkeit": ("snapshot", "query_ars", "query_scope", "leika_key", "ars", "url"),
    "onlinedienste": ("snapshot", "query_ars", "id_lb", "id_od"),
}
SCHEMAS = {
    "gebiete": GEBIETE_SCHEMA,
    "leistungen": LEISTUNGEN_SCHEMA,
    "verfuegbarkeit": VERFUEGBARKEIT_SCHEMA,
    "onlinedienste": ONLINEDIENSTE_SCHEMA,
}


UNKNOWN_FIELDS_SCHEMA = pl.Schema(
    {
        "table": pl.String,
        "snapshot": pl.Date,
        **contract.UNKNOWN_FIELDS_SCHEMA,
        "sample": pl.Boolean,
    }
)


@dataclass(frozen=True)
class Normalized:
    table: pl.DataFrame
    quarantine: pl.DataFrame
    # Fields the sources delivered that their contracts do not declare (additive drift):
    # recorded with the partition, never a reason to reject it.
    unknown_fields: pl.DataFrame = field(default_factory=UNKNOWN_FIELDS_SCHEMA.to_frame)

    def with_unknown_fields(
        self, table: str, snapshot: date, logs: list[contract.DriftLog], *, sample: bool
    ) -> Normalized:
        frames = [log.frame() for log in logs]
        found = pl.concat(frames) if frames else contract.UNKNOWN_FIELDS_SCHEMA.to_frame()
        return replace(
            self,
            unknown_fields=found.select(
                pl.lit(table).alias("table"),
                pl.lit(snapshot).alias("snapshot"),
                *contract.UNKNOWN_FIELDS_SCHEMA.names(),
                pl.lit(sample).alias("sample"),
            ).cast(dict(UNKNOWN_FIELDS_SCHEMA)),
        )

    def reasons(self) -> dict[str, int]:
        if self.quarantine.is_empty():
            return {}
        counts = self.quarantine.group_by("reason_code").len().sort("reason_code")
        return dict(counts.iter_rows())


def _record_json(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    return pl.Series(
        [
            json.dumps(row, ensure_ascii=False, default=str)
            for row in frame.select(columns).to_dicts()
        ],
        dtype=pl.String,
    )


def _quarantine(
    table: str,
    snapshot: date,
    rejected: pl.DataFrame,
    record_columns: list[str],
    *,
    source: str,
    sample: bool,
    ref: pl.Expr,
) -> pl.DataFrame:
    """Rejected rows (with ``_reason`` and ``_message`` columns) in the quarantine schema."""
    if rejected.is_empty():
        return QUARANTINE_SCHEMA.to_frame()
    return rejected.with_columns(_record=_record_json(rejected, record_columns)).select(
        pl.lit(table).alias("table"),
        pl.lit(snapshot).alias("snapshot"),
        pl.col("_reason").alias("reason_code"),
        pl.col("_message").alias("message"),
        pl.lit(source).alias("source"),
        (pl.col("raw_file") if "raw_file" in rejected.columns else pl.lit(None, pl.String)).alias(
            "raw_file"
        ),
        pl.col("raw_sha256"),
        ref.cast(pl.String).alias("record_ref"),
        pl.col("_record").alias("record"),
        pl.lit(sample).alias("sample"),
    )


def _first_failure(checks: list[tuple[pl.Expr, str, pl.Expr]]) -> tuple[pl.Expr, pl.Expr]:
    """(reason, message) of the first failing check per row; null when all pass."""
    reason = pl.lit(None, pl.String)
    message = pl.lit(None, pl.String)
    for failed, code, text in reversed(checks):
        reason = pl.when(failed).then(pl.lit(code)).otherwise(reason)
        message = pl.when(failed).then(text).otherwise(message)
    return reason, message


def _split_duplicates(
    frame: pl.DataFrame, grain: tuple[str, ...], order: list[pl.Expr]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keep the first row per grain by ``order``; return (kept, duplicates with reasons)."""
    ranked = frame.with_columns(
        pl.int_range(pl.len()).over(list(grain), order_by=order).alias("_rank")
    )
    duplicates = ranked.filter(pl.col("_rank") > 0).with_columns(
        pl.lit("duplicate").alias("_reason"),
        # Name the duplicated key values, not just the grain columns (nulls spelt out).
        pl.concat_str(
            pl.lit("duplicate of an earlier row on the grain (" + ", ".join(grain) + ") = ("),
            pl.concat_str(
                [pl.col(c).cast(pl.String).fill_null("null") for c in grain], separator=", "
            ),
            pl.lit(")"),
        ).alias("_message"),
    )
    return ranked.filter(pl.col("_rank") == 0).drop("_rank"), duplicates.drop("_rank")


# -- gebiete ------------------------------------------------------------------------------
def sonderstatus_ags() -> set[str]:
    return set(pl.read_csv(REFERENCE_DIR / "sonderstatusstaedte.csv", infer_schema=False)["ags"])


def normalize_gebiete(
    gv100ad: pl.DataFrame, snapshot: date, *, raw_file: str, raw_sha256: str, sample: bool
) -> Normalized:
    """Every Gebietskörperschaft of the GV100AD (Regionen, Satzart 30, have no ARS and
    are not Gebietskörperschaften; they are counted, not stored)."""
    frame = gv100ad.filter(pl.col("satzart") != "30")
    gemeinden = frame.filter(pl.col("satzart") == "60")
    special = sonderstatus_ags()
    tk = pl.col("textkennzeichen")
    gebietstyp = (
        pl.when(pl.col("satzart") == "10")
        .then(pl.lit("Land"))
        .when(pl.col("satzart") == "20")
        .then(pl.lit("Regierungsbezirk"))
        .when(pl.col("satzart") == "40")
        .then(
            pl.when(tk.is_in(["41", "42"]))
            .then(pl.lit("kreisfreie Stadt"))
            .otherwise(pl.lit("Landkreis"))
        )
        .when(pl.col("satzart") == "50")
        .then(pl.lit("Gemeindeverband"))
        .when(tk.is_in(["61", "62"]))
        .then(pl.lit("kreisfreie Stadt"))
        .when(tk.is_in(["65", "66"]))
        .then(pl.lit("gemeindefreies Gebiet"))
        .when(pl.col("ags").is_in(list(special)))
        .then(pl.lit("Sonderstatusstadt"))
        .when(tk.is_in(["63", "67"]))
        .then(pl.lit("kreisangehörige Stadt"))
        .otherwise(pl.lit("kreisangehörige Gemeinde"))
    )
    ars = pl.col("ars")
    # Population and area of the upper levels are sums over their Gemeinden.
    sums = {
        "land_ars": gemeinden.group_by(pl.col("ars").str.slice(0, 2).alias("k")),
        "regierungsbezirk_ars": gemeinden.group_by(pl.col("ars").str.slice(0, 3).alias("k")),
        "kreis_ars": gemeinden.group_by(pl.col("ars").str.slice(0, 5).alias("k")),
        "verband_ars": gemeinden.group_by(pl.col("ars").str.slice(0, 9).alias("k")),
    }
    totals = {
        name: grouped.agg(
            pl.col("bevoelkerung").sum().alias(f"_pop_{name}"),
            pl.col("flaeche_ha").sum().alias(f"_area_{name}"),
        )
        for name, grouped in sums.items()
    }
    table = frame.with_columns(
        pl.col("name").pipe(rules.clean_text),
        gebietstyp.alias("gebietstyp"),
        pl.when(pl.col("satzart") == "60").then(ars.str.slice(0, 9) + "000").alias("verband_ars"),
        pl.when(pl.col("satzart").is_in(["40", "50", "60"]))
        .then(ars.str.slice(0, 5) + "0" * 7)
        .alias("kreis_ars"),
        pl.when(pl.col("satzart").is_in(["20", "40", "50", "60"]) & (ars.str.slice(2, 1) != "0"))
        .then(ars.str.slice(0, 3) + "0" * 9)
        .alias("regierungsbezirk_ars"),
        (ars.str.slice(0, 2) + "0" * 10).alias("land_ars"),
        pl.lit(snapshot).alias("snapshot"),
        pl.lit("destatis_gv100ad").alias("source"),
        pl.lit(raw_file).alias("raw_file"),
        pl.lit(raw_sha256).alias("raw_sha256"),
        pl.lit(sample).alias("sample"),
        pl.col("ars").str.slice(0, 2).alias("_k2"),
        pl.col("ars").str.slice(0, 3).alias("_k3"),
        pl.col("ars").str.slice(0, 5).alias("_k5"),
        pl.col("ars").str.slice(0, 9).alias("_k9"),
    )
    for name, key in (
        ("land_ars", "_k2"),
        ("regierungsbezirk_ars", "_k3"),
        ("kreis_ars", "_k5"),
        ("verband_ars", "_k9"),
    ):
        table = table.join(
            totals[name].rename({"k": key}), on=key, how="left", maintain_order="left"
        )
    level_sum = {
        "10": "land_ars",
        "20": "regierungsbezirk_ars",
        "40": "kreis_ars",
        "50": "verband_ars",
    }
    population = pl.col("bevoelkerung")
    area = pl.col("flaeche_ha")
    for satzart, name in level_sum.items():
        population = (
            pl.when(pl.col("satzart") == satzart).then(pl.col(f"_pop_{name}")).otherwise(population)
        )
        area = pl.when(pl.col("satzart") == satzart).then(pl.col(f"_area_{name}")).otherwise(area)
    table = table.with_columns(population.alias("bevoelkerung"), area.alias("flaeche_ha"))
    kept, duplicates = _split_duplicates(table, ("ars", "ebene"), [pl.col("line_number")])
    quarantine = _quarantine(
        "gebiete",
        snapshot,
        duplicates,
        ["satzart", "ars", "name", "line_number"],
        source="destatis_gv100ad",
        sample=sample,
        ref=pl.concat_str(pl.lit("line "), pl.col("line_number")),
    )
    return Normalized(kept.select(GEBIETE_SCHEMA.names()).cast(dict(GEBIETE_SCHEMA)), quarantine)


# -- verfuegbarkeit -----------------------------------------------------------------------
DASHBOARD_RECORD_COLUMNS = list(dashboard.FIELDS)


def normalize_verfuegbarkeit(
    entries: pl.DataFrame, snapshot: date, gebiete: pl.DataFrame, *, sample: bool
) -> Normalized:
    """Dashboard entries (with lineage from ``sources.ingest.read_dashboard``)."""
    known_ars = gebiete.select("ars").unique()
    gebietsstand = _gebietsstand(gebiete)
    ars_fixed = rules.repair_ars(pl.col("ars"))
    leika = pl.col("leika_key").str.strip_chars()
    status = rules.map_enum(pl.col("online_status"), rules.ONLINE_STATUS)
    aktiv = rules.map_enum(pl.col("aktiv"), rules.AKTIV)
    coverage = rules.map_enum(pl.col("art_flaechendeckung"), rules.FLAECHENDECKUNG)
    stand = rules.parse_date(pl.col("datenstand_pvog_import"))
    prepared = entries.with_columns(
        ars_fixed.alias("_ars"),
        leika.alias("_leika"),
        status.alias("_status"),
        aktiv.alias("_aktiv"),
        coverage.alias("_coverage"),
        stand.alias("_stand"),
    ).join(
        known_ars.with_columns(pl.lit(True).alias("_known")),
        left_on="_ars",
        right_on="ars",
        how="left",
        maintain_order="left",
    )
    checks = [
        (
            pl.col("_leika").is_null() | pl.col("_leika").str.contains(rules.LEIKA_PATTERN).not_(),
            "leika_invalid",
            pl.format("leika_key {} does not match ^99\\d{{12}}$", pl.col("leika_key")),
        ),
        (
            pl.col("_ars").is_null(),
            "ars_invalid",
            pl.format(
                "ars {} is not a 12-digit ARS and cannot be repaired unambiguously", pl.col("ars")
            ),
        ),
        (
            (pl.col("_ars") != rules.BUND_ARS) & pl.col("_known").is_null(),
            rules.ARS_NOT_IN_GEBIETSSTAND,
            pl.format(
                "ars {} is well-formed but not in the Gemeindeverzeichnis of Gebietsstand {}; "
                "a newer edition may know it (OZG_GV100AD_EDITION)",
                pl.col("_ars"),
                pl.lit(gebietsstand),
            ),
        ),
        (
            pl.col("_status").is_null(),
            "enum_invalid",
            pl.format("online_status {} is not one of ok, nicht ok", pl.col("online_status")),
        ),
        (
            pl.col("aktiv").is_not_null() & pl.col("_aktiv").is_null(),
            "enum_invalid",
            pl.format("aktiv {} is not one of ja, nein", pl.col("aktiv")),
        ),
        (
            pl.col("_coverage").is_null(),
            "enum_invalid",
            pl.format(
                "art_flaechendeckung {} is not in the closed set", pl.col("art_flaechendeckung")
            ),
        ),
        (
            pl.col("datenstand_pvog_import").is_not_null() & pl.col("_stand").is_null(),
            "date_invalid",
            pl.format(
                "datenstand_pvog_import {} is not YYYY-MM-DD, DD.MM.YYYY or ISO date-time",
                pl.col("datenstand_pvog_import"),
            ),
        ),
    ]
    reason, message = _first_failure(checks)
    judged = prepared.with_columns(reason.alias("_reason"), message.alias("_message"))
    rejected = judged.filter(pl.col("_reason").is_not_null())
    good = judged.filter(pl.col("_reason").is_null()).select(
        pl.lit(snapshot).alias("snapshot"),
        pl.col("query_ars"),
        pl.when(pl.col("include_above"))
        .then(pl.lit("above"))
        .otherwise(pl.lit("own"))
        .alias("query_scope"),
        pl.col("_leika").alias("leika_key"),
        rules.clean_text(pl.col("leika_name")).alias("leika_name"),
        pl.col("_ars").alias("ars"),
        rules.clean_text(pl.col("ars_name")).alias("ars_name"),
        rules.ars_ebene(pl.col("_ars")).alias("anbieter_ebene"),
        pl.col("ozgid").cast(pl.String).alias("ozg_id"),
        rules.clean_text(pl.col("ozg_bezeichnung")).alias("ozg_bezeichnung"),
        rules.clean_text(pl.col("url")).alias("url"),
        pl.col("_status").alias("online_status"),
        pl.col("_aktiv").cast(pl.Boolean).alias("aktiv"),
        pl.col("_coverage").alias("art_flaechendeckung"),
        rules.clean_text(pl.col("begruendung_nicht_beruecksichtigt")).alias(
            "begruendung_nicht_beruecksichtigt"
        ),
        pl.col("_stand").alias("datenstand"),
        pl.lit("dashboard").alias("source"),
        pl.col("raw_file"),
        pl.col("raw_sha256"),
        pl.col("record_index"),
        pl.lit(sample).alias("sample"),
    )
    # Duplicates: prefer a working entry, then the first one received.
    kept, duplicates = _split_duplicates(
        good,
        GRAINS["verfuegbarkeit"][1:],
        [(pl.col("online_status") != "ok"), pl.col("raw_file"), pl.col("record_index")],
    )
    quarantine = pl.concat(
        [
            _quarantine(
                "verfuegbarkeit",
                snapshot,
                rejected,
                DASHBOARD_RECORD_COLUMNS,
                source="dashboard",
                sample=sample,
                ref=_dashboard_ref(),
            ),
            _quarantine(
                "verfuegbarkeit",
                snapshot,
                duplicates,
                [c for c in VERFUEGBARKEIT_SCHEMA.names() if c not in ("snapshot", "datenstand")],
                source="dashboard",
                sample=sample,
                ref=_dashboard_ref(),
            ),
        ]
    )
    return Normalized(
        kept.select(VERFUEGBARKEIT_SCHEMA.names()).cast(dict(VERFUEGBARKEIT_SCHEMA)), quarantine
    )


def _gebietsstand(gebiete: pl.DataFrame) -> str:
    """The edition's Gebietsstand as text, for messages ("unbekannt" without rows)."""
    if "gebietsstand" not in gebiete.columns or gebiete.is_empty():
        return "unbekannt"
    return str(gebiete["gebietsstand"].max())


def _dashboard_ref() -> pl.Expr:
    return pl.format("{} record {}", pl.col("raw_file"), pl.col("record_index"))


# -- onlinedienste ------------------------------------------------------------------------
def normalize_onlinedienste(rows: pl.DataFrame, snapshot: date, *, sample: bool) -> Normalized:
    """PVOG Leistung × Onlinedienst rows (from ``sources.ingest.read_pvog``)."""
    leika = pl.col("leika_key").str.strip_chars()
    judged = rows.with_columns(leika.alias("_leika"))
    reason, message = _first_failure(
        [
            # Judged after cleaning: a blank ID-LB would otherwise reach the table as null.
            (rules.clean_text(pl.col("id_lb")).is_null(), "missing_key", pl.lit("ID-LB is empty")),
            (
                pl.col("id_lb").str.contains(pvog.TEST_ID_REGEX),
                rules.TEST_RECORD,
                pl.format(
                    "ID-LB {} marks a test record (TEST), not a real Leistung", pl.col("id_lb")
                ),
            ),
            (
                pl.col("_leika").is_null()
                | pl.col("_leika").str.contains(rules.LEIKA_PATTERN).not_(),
                "leika_invalid",
                pl.format("Leikaschlüssel {} does not match ^99\\d{{12}}$", pl.col("leika_key")),
            ),
        ]
    )
    judged = judged.with_columns(reason.alias("_reason"), message.alias("_message"))
    rejected = judged.filter(pl.col("_reason").is_not_null())
    good = judged.filter(pl.col("_reason").is_null()).select(
        pl.lit(snapshot).alias("snapshot"),
        pl.col("query_ars"),
        rules.clean_text(pl.col("id_lb")).alias("id_lb"),
        pl.col("_leika").alias("leika_key"),
        rules.clean_text(pl.col("name")).alias("leistung_name"),
        rules.clean_text(pl.col("name2")).alias("leistung_name2"),
        pl.col("updatedatum"),
        rules.clean_text(pl.col("id_od")).alias("id_od"),
        rules.clean_text(pl.col("bezeichnung_od")).alias("onlinedienst_name"),
        rules.clean_text(pl.col("links")).alias("link"),
        pl.lit("pvog").alias("source"),
        pl.col("raw_file"),
        pl.col("raw_sha256"),
        pl.col("line_number"),
        pl.lit(sample).alias("sample"),
    )
    kept, duplicates = _split_duplicates(good, GRAINS["onlinedienste"][1:], [pl.col("line_number")])
    ref = pl.format("{} line {}", pl.col("raw_file"), pl.col("line_number"))
    columns = ["id_lb", "leika_key", "name", "name2", "id_od", "bezeichnung_od", "links"]
    quarantine = pl.concat(
        [
            _quarantine(
                "onlinedienste", snapshot, rejected, columns, source="pvog", sample=sample, ref=ref
            ),
            _quarantine(
                "onlinedienste",
                snapshot,
                duplicates,
                ["id_lb", "leika_key", "id_od", "link"],
                source="pvog",
                sample=sample,
                ref=ref,
            ),
        ]
    )
    return Normalized(
        kept.select(ONLINEDIENSTE_SCHEMA.names()).cast(dict(ONLINEDIENSTE_SCHEMA)), quarantine
    )


# -- leistungen ---------------------------------------------------------------------------
def normalize_leistungen(
    catalogue: pl.DataFrame,
    dashboard_entries: pl.DataFrame,
    pvog_rows: pl.DataFrame,
    snapshot: date,
    *,
    sample: bool,
) -> Normalized:
    """One row per valid LeiKa key seen in any source (raw frames from ``sources.ingest``).

    The FIM catalogue is authoritative for catalogue fields; the Dashboard fills names
    and the OZG mapping of keys FIM lacks, and PVOG the names of the rest, so every
    availability key has a Leistung. Invalid keys of the Dashboard and PVOG are
    quarantined with their own tables; here only catalogue items are judged."""
    leika = pl.col("leika_key").str.strip_chars()
    judged = catalogue.with_columns(leika.alias("_leika"))
    reason, message = _first_failure(
        [
            (
                pl.col("_leika").is_null()
                | pl.col("_leika").str.contains(rules.LEIKA_PATTERN).not_(),
                "leika_invalid",
                pl.format(
                    "leistungsschluessel {} does not match ^99\\d{{12}}$", pl.col("leika_key")
                ),
            )
        ]
    )
    judged = judged.with_columns(reason.alias("_reason"), message.alias("_message"))
    rejected = judged.filter(pl.col("_reason").is_not_null())
    fim_rows = judged.filter(pl.col("_reason").is_null()).select(
        pl.col("_leika").alias("leika_key"),
        rules.clean_text(pl.col("title")).alias("fim_name"),
        rules.clean_text(pl.col("leistungsbezeichnung")).alias("fim_bezeichnung"),
        pl.col("ozg_id").str.strip_chars().alias("fim_ozg_id"),
        rules.clean_text(pl.col("ozg_leistung")).alias("fim_ozg_bezeichnung"),
        pl.col("themenfeld"),
        pl.col("typisierung").list.join(";").alias("typisierung"),
        pl.col("leistungsadressat").list.join(";").alias("leistungsadressat"),
        pl.col("raw_file"),
        pl.col("raw_sha256").alias("fim_sha256"),
    )
    fim_rows, duplicates = _split_duplicates(
        fim_rows.with_columns(pl.int_range(pl.len()).alias("_order")),
        ("leika_key",),
        [pl.col("_order")],
    )
    valid_key = pl.col("leika_key").str.contains(rules.LEIKA_PATTERN)
    # Most frequent (name, OZG mapping) per key in the availability data (ties: alphabetical).
    dashboard_rows = (
        dashboard_entries.select(
            pl.col("leika_key").str.strip_chars(),
            rules.clean_text(pl.col("leika_name")).alias("leika_name"),
            pl.col("ozgid").cast(pl.String).alias("ozg_id"),
            rules.clean_text(pl.col("ozg_bezeichnung")).alias("ozg_bezeichnung"),
            pl.col("raw_sha256"),
        )
        .filter(valid_key)
        .group_by("leika_key", "leika_name", "ozg_id", "ozg_bezeichnung")
        .agg(pl.len(), pl.col("raw_sha256").first().alias("db_sha256"))
        .sort(["leika_key", "len", "leika_name"], descending=[False, True, False], nulls_last=True)
        .unique("leika_key", keep="first")
        .select(
            "leika_key",
            pl.col("leika_name").alias("db_name"),
            pl.col("ozg_id").alias("db_ozg_id"),
            pl.col("ozg_bezeichnung").alias("db_ozg_bezeichnung"),
            "db_sha256",
        )
    )
    pvog_rows = (
        pvog_rows.select(
            pl.col("leika_key").str.strip_chars(),
            rules.clean_text(pl.col("name")).alias("name"),
            pl.col("raw_sha256"),
        )
        .filter(valid_key)
        .group_by("leika_key")
        .agg(
            pl.col("name").drop_nulls().first().alias("pvog_name"),
            pl.col("raw_sha256").first().alias("pvog_sha256"),
        )
    )
    keys = pl.concat(
        [
            fim_rows.select("leika_key"),
            dashboard_rows.select("leika_key"),
            pvog_rows.select("leika_key"),
        ]
    ).unique()
    table = (
        keys.join(
            fim_rows.drop("_order", "raw_file"), on="leika_key", how="left", maintain_order="left"
        )
        .join(dashboard_rows, on="leika_key", how="left", maintain_order="left")
        .join(pvog_rows, on="leika_key", how="left", maintain_order="left")
        .select(
            pl.lit(snapshot).alias("snapshot"),
            pl.col("leika_key"),
            pl.coalesce("fim_name", "db_name", "pvog_name").alias("leika_name"),
            pl.col("fim_bezeichnung").alias("leika_bezeichnung"),
            pl.coalesce("fim_ozg_id", "db_ozg_id").alias("ozg_id"),
            pl.coalesce("fim_ozg_bezeichnung", "db_ozg_bezeichnung").alias("ozg_bezeichnung"),
            pl.col("themenfeld"),
            pl.col("typisierung"),
            pl.col("leistungsadressat"),
            pl.col("fim_name").is_not_null().alias("in_fim"),
            pl.col("db_name").is_not_null().alias("in_dashboard"),
            pl.col("pvog_name").is_not_null().alias("in_pvog"),
            pl.when(pl.col("fim_name").is_not_null())
            .then(pl.lit("fim"))
            .when(pl.col("db_name").is_not_null())
            .then(pl.lit("dashboard"))
            .otherwise(pl.lit("pvog"))
            .alias("source"),
            pl.coalesce("fim_sha256", "db_sha256", "pvog_sha256").alias("raw_sha256"),
            pl.lit(sample).alias("sample"),
        )
        .sort("leika_key")
    )
    ref = pl.format("{} leistungsschluessel {}", pl.col("raw_file"), pl.col("leika_key"))
    columns = ["leika_key", "title", "ozg_id", "typisierung"]
    quarantine = pl.concat(
        [
            _quarantine(
                "leistungen", snapshot, rejected, columns, source="fim", sample=sample, ref=ref
            ),
            _quarantine(
                "leistungen",
                snapshot,
                duplicates.rename({"fim_sha256": "raw_sha256"}),
                ["leika_key", "fim_name"],
                source="fim",
                sample=sample,
                ref=pl.col("leika_key"),
            ),
        ]
    )
    return Normalized(
        table.select(LEISTUNGEN_SCHEMA.names()).cast(dict(LEISTUNGEN_SCHEMA)), quarantine
    )
