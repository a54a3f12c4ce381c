"""Tests of the seeded sample generator (``sources/sample/generator.py``)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest

from sources.sample import generator as gen
from sources.sample.files import PVOG_BUND_CSV, gv100ad_frame

THEMENFELDER = {
    "arbeit_ruhestand",
    "bauen_wohnen",
    "bildung",
    "ein_auswanderung",
    "engagement_hobby",
    "familie_kind",
    "forschung_foerderung",
    "gesundheit",
    "mobilitaet_reisen",
    "querschnittsleistungen",
    "recht_ordnung",
    "steuern_zoll",
    "umwelt",
    "unternehmensfuehrung_entwicklung",
}
ARTS = {
    "bundesweit flächendeckend",
    "landesweit flächendeckend",
    "kreisweit flächendeckend",
    "in mind. einer Kommune verfügbar",
    "nicht in Auswertung berücksichtigt",
}
STAMMTEXT_KEYS = [
    "redaktion_id",
    "leistung_id",
    "source",
    "title",
    "leistungsschluessel",
    "leistungstyp",
    "leistungsadressat",
    "typisierung",
    "freigabe_status",
    "leistungsbezeichnung",
    "leistungsbezeichnung_2",
    "kurztext",
    "volltext",
    "rechtsgrundlagen",
    "erstellt_datum_zeit",
    "geaendert_datum_zeit",
    "klassifizierung",
    "ozg",
    "fts_match",
]
# Wiesbaden (kreisfrei), Hattersheim, Heuchelheim, Hanau (Sonderstatusstadt), Michelstadt,
# Rheingau-Taunus-Kreis.
CHECKED_ARS = [
    "064140000000",
    "064360005005",
    "065310007007",
    "064350014014",
    "064370011011",
    "064390000000",
]
CSV_HEADER = [
    "leika_key",
    "leika_name",
    "leika_bezeichnung",
    "ozgid",
    "ozg_bezeichnung",
    "themenfeld",
    "typisierung",
    "leistungsadressat",
    "vollzug",
    "sonderstatus",
    "platform",
    "service_group",
]
FIRST, LAST = gen.SAMPLE_SNAPSHOTS[0], gen.SAMPLE_SNAPSHOTS[-1]


@pytest.fixture(scope="module")
def universe() -> gen.SampleUniverse:
    return gen.build_universe()


@pytest.fixture(scope="module")
def ground_truth(universe: gen.SampleUniverse) -> pl.DataFrame:
    return universe.ground_truth()


def _all_records(universe: gen.SampleUniverse, snapshot: date) -> list[dict[str, object]]:
    return universe.dashboard_records(
        snapshot, gen.LAND_ARS, include_above=True, include_below=True
    )


def _digest(universe: gen.SampleUniverse) -> str:
    payload = [_all_records(universe, t) for t in (FIRST, LAST)]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


def is_online(record: dict[str, object]) -> bool:
    # Definition v1 after repairing case and whitespace variants.
    status = str(record["online_status"]).strip().lower()
    return bool(str(record["url"] or "").strip()) and status == "ok"


def first_online_from_records(universe: gen.SampleUniverse, ars: str) -> dict[str, date]:
    """Per LeiKa key the first snapshot whose records show ``ars`` online (its own entries
    and those above it, as the citizen view)."""
    first: dict[str, date] = {}
    for t in universe.snapshots:
        records = universe.dashboard_records(t, ars, include_above=True, include_below=False)
        for record in records:
            if is_online(record):
                first.setdefault(str(record["leika_key"]), t)
    return first


def test_same_seed_is_deterministic(universe: gen.SampleUniverse) -> None:
    fresh = gen.build_universe.__wrapped__(gen.DEFAULT_SEED)  # bypass the cache
    assert fresh is not universe
    assert _digest(fresh) == _digest(universe)
    assert fresh.ground_truth().equals(universe.ground_truth())
    assert fresh.fim_items() == universe.fim_items()
    assert fresh.defects().equals(universe.defects())


def test_other_seed_differs(universe: gen.SampleUniverse) -> None:
    other = gen.build_universe(gen.DEFAULT_SEED + 1)
    assert _digest(other) != _digest(universe)
    assert not other.ground_truth().equals(universe.ground_truth())


def test_catalogue_keys_are_synthetic_and_unique() -> None:
    rows = gen.load_catalogue()
    keys = [r["leika_key"] for r in rows]
    assert 350 <= len(keys) <= 450
    assert keys == sorted(set(keys))
    assert all(len(k) == 14 and k.isdigit() and k.startswith("999") for k in keys)
    with PVOG_BUND_CSV.open(encoding="utf-8") as handle:
        real = {row[1] for row in csv.reader(handle, delimiter="|")}
    assert not any(k.startswith("999") for k in real)
    assert not real & set(keys)
    assert all(90001 <= int(r["ozgid"]) <= 99999 for r in rows)
    assert len({r["ozgid"] for r in rows}) < len(rows)  # several keys per OZG-Leistung
    assert {r["themenfeld"] for r in rows} <= THEMENFELDER
    counts = Counter(r["vollzug"] for r in rows)
    assert counts["bund"] >= 30 and counts["land"] >= 40
    assert counts["kreis"] >= 80 and counts["gemeinde"] >= 200
    assert all(r["typisierung"] == "1" for r in rows if r["vollzug"] == "bund")
    assert list(rows[0]) == CSV_HEADER


def test_priority_basket_in_catalogue_and_fim(universe: gen.SampleUniverse) -> None:
    by_name = {r["leika_name"]: r for r in gen.load_catalogue()}
    expected = {
        "Wohnsitz Ummeldung": ("gemeinde", "0"),
        "Fahrerlaubnis Ersterteilung": ("kreis", "0"),
        "Aufenthaltserlaubnis Erteilung": ("kreis", "1"),
        "Unterhaltsvorschuss Bewilligung": ("kreis", "0"),
        "Anlagengenehmigung nach BImSchG Erteilung": ("land", "0"),
    }
    assert set(gen.PRIORITY_BASKET.values()) == set(expected)
    for name, (vollzug, sonderstatus) in expected.items():
        assert (by_name[name]["vollzug"], by_name[name]["sonderstatus"]) == (vollzug, sonderstatus)
    titles = {item["title"] for item in universe.fim_items()}
    assert set(expected) <= titles


def test_every_kommune_in_ars_list_and_ground_truth(
    universe: gen.SampleUniverse, ground_truth: pl.DataFrame
) -> None:
    hessen = gv100ad_frame().filter(pl.col("land") == "06")
    gemeinden = hessen.filter(pl.col("satzart") == "60")
    inhabited = set(gemeinden.filter(pl.col("bevoelkerung") > 0)["ars"])
    kreise = set(hessen.filter(pl.col("satzart") == "40")["ars"])
    assert len(inhabited) == 421 and len(kreise) == 26
    listed = [r["ars"] for r in universe.ars_list()]
    assert listed == sorted(set(listed))
    assert set(listed) == inhabited | kreise | set(gemeinden["ars"]) | {gen.LAND_ARS, gen.BUND_ARS}
    assert len(listed) == 448
    assert all(set(r) == {"ars", "arsName"} for r in universe.ars_list())
    assert inhabited | kreise <= set(ground_truth["ars"])
    assert ground_truth.select("ars", "leika_key").is_unique().all()
    assert ground_truth["sample"].all()
    assert set(ground_truth["provider_level"]) == {"own", "kreis", "land", "bund"}
    uninhabited = set(gemeinden["ars"]) - inhabited
    assert len(uninhabited) == 4
    for ars in uninhabited:
        assert not universe.dashboard_records(LAST, ars, include_above=False, include_below=False)


def test_rollout_grows_and_some_service_is_withdrawn(
    universe: gen.SampleUniverse, ground_truth: pl.DataFrame
) -> None:
    online = []
    pairs_by_snapshot = []
    for t in universe.snapshots:
        records = _all_records(universe, t)
        online.append(sum(is_online(r) for r in records))
        pairs_by_snapshot.append({(r["ars"], r["leika_key"]) for r in records})
    steps = [b - a for a, b in pairwise(online)]
    assert online[-1] > online[0] * 1.1
    assert sum(step > 0 for step in steps) >= 9
    assert 40_000 <= len(pairs_by_snapshot[-1]) <= 60_000
    withdrawn = ground_truth.filter(pl.col("withdrawal_date").is_not_null())
    assert withdrawn.height > 0
    # A whole service vanishes from one snapshot to a later one.
    keys = [{key for _, key in pairs} for pairs in pairs_by_snapshot]
    assert any(keys[i] - keys[-1] for i in range(len(keys) - 1))


def test_first_online_snapshot_matches_records(
    universe: gen.SampleUniverse, ground_truth: pl.DataFrame
) -> None:
    for ars in CHECKED_ARS:
        first = first_online_from_records(universe, ars)
        truth = ground_truth.filter(pl.col("ars") == ars)
        assert truth.height > 80
        for key, observed in zip(truth["leika_key"], truth["first_online_snapshot"], strict=True):
            assert first.get(key) == observed, (ars, key)
        censored = truth.filter(pl.col("left_censored"))
        assert (censored["first_online_snapshot"] == FIRST).all()


def test_wire_records_shape(universe: gen.SampleUniverse) -> None:
    records = universe.dashboard_records(
        LAST, "064360005005", include_above=True, include_below=False
    )
    assert records
    assert records == sorted(records, key=lambda r: (r["leika_key"], r["ars"], r["url"]))
    for record in records:
        assert tuple(record) == gen.RECORD_KEYS
        assert record["ars"] in {"064360005005", "064360000000", gen.LAND_ARS, gen.BUND_ARS}
        assert record["art_flaechendeckung"] in ARTS
        assert record["aktiv"] in {"ja", "nein", None}
        assert isinstance(record["ozgid"], int)
        assert record["export_datum"] is None
        assert record["datenstand_pvog_import"] == universe.datenstand(LAST).isoformat()
        assert (record["begruendung_nicht_beruecksichtigt"] is None) == (
            record["art_flaechendeckung"] != "nicht in Auswertung berücksichtigt"
        )
    levels = {r["ars"]: r["art_flaechendeckung"] for r in records}
    assert levels[gen.BUND_ARS] == "bundesweit flächendeckend"
    assert levels[gen.LAND_ARS] == "landesweit flächendeckend"
    # Defect-free domain check over all entries: only the listed defects break it.
    everything = _all_records(universe, LAST)
    odd_status = [r for r in everything if r["online_status"] not in {"ok", "nicht ok"}]
    defects = universe.defects().filter(pl.col("snapshot") == LAST)
    expected_odd = defects.filter(pl.col("kind").is_in(["enum_case", "online_status_unknown"]))
    assert len(odd_status) == expected_odd.height


def test_query_semantics(universe: gen.SampleUniverse) -> None:
    own = universe.dashboard_records(LAST, "064390000000", include_above=False, include_below=False)
    below = universe.dashboard_records(
        LAST, "064390000000", include_above=False, include_below=True
    )
    assert {r["ars"] for r in own} == {"064390000000"}
    assert {str(r["ars"])[:5] for r in below} <= {"06439", "64390"}  # 11-digit ARS defect
    assert len({r["ars"] for r in below}) > 10
    assert (
        universe.dashboard_records(LAST, "069990000000", include_above=True, include_below=True)
        == []
    )
    with pytest.raises(ValueError):
        universe.dashboard_records(
            date(2025, 1, 1), gen.LAND_ARS, include_above=False, include_below=False
        )
    for t in universe.snapshots:
        assert timedelta(days=3) <= t - universe.datenstand(t) <= timedelta(days=6)
    assert universe.snapshots == gen.SAMPLE_SNAPSHOTS and len(gen.SAMPLE_SNAPSHOTS) == 12
    assert gen.SAMPLE_SNAPSHOTS[::11] == (date(2025, 12, 1), date(2026, 11, 1))


def test_flaechendeckung_consistent_in_one_kreis(universe: gen.SampleUniverse) -> None:
    kreis = "064390000000"  # Rheingau-Taunus-Kreis
    t = universe.snapshots[6]
    hessen = gv100ad_frame().filter(pl.col("satzart") == "60", pl.col("bevoelkerung") > 0)
    members = hessen.filter(pl.col("ars").str.starts_with(kreis[:5]))["ars"].to_list()
    online_in: dict[str, set[str]] = {}
    for ars in members:
        records = universe.dashboard_records(t, ars, include_above=True, include_below=False)
        online_in[ars] = {str(r["leika_key"]) for r in records if is_online(r)}
    everywhere = set.intersection(*online_in.values())
    below = universe.dashboard_records(t, kreis, include_above=False, include_below=True)
    for record in below:
        art = record["art_flaechendeckung"]
        if art in ("kreisweit flächendeckend", "landesweit flächendeckend"):
            assert record["leika_key"] in everywhere
        elif art == "in mind. einer Kommune verfügbar":
            assert record["leika_key"] not in everywhere


def test_defects_are_listed_and_emitted(universe: gen.SampleUniverse) -> None:
    defects = universe.defects()
    assert 20 <= defects.height <= 60
    assert set(defects["repairable"]) == {True, False}
    assert set(defects["kind"]) == {kind for kind, _ in gen.DEFECT_KINDS}
    for d in defects.iter_rows(named=True):
        records = universe.dashboard_records(
            d["snapshot"], d["query_ars"], include_above=False, include_below=False
        )
        hits = [r for r in records if r["leika_key"] == d["leika_key"]]
        if d["kind"] == "duplicate_record":
            assert any(hits.count(r) >= 2 for r in hits), d
        else:
            assert any(r[d["field"]] == d["value"] for r in hits), d
        if d["kind"] == "ars_leading_zero_lost":
            assert len(d["value"]) == 11 and d["query_ars"] == "0" + d["value"]


def test_fim_items_shape(universe: gen.SampleUniverse) -> None:
    items = universe.fim_items()
    assert len(items) == len(gen.load_catalogue())
    keys = [item["leistungsschluessel"][0] for item in items]
    assert keys == sorted(keys)
    for item in items:
        assert list(item) == STAMMTEXT_KEYS
        assert item["source"] == "leika" and item["redaktion_id"] == "LeiKa"
        assert item["leistungstyp"] in (None, "lo")
        assert item["freigabe_status"] in (None, 6)
        (ozg,) = item["ozg"]
        assert isinstance(ozg["id"], str) and ozg["themenfeld"] in THEMENFELDER
        assert set(ozg) == {
            "leistungsschluessel",
            "id",
            "leistung",
            "themenfeld",
            "themenfeld_label",
            "vollzugsbehoerden",
        }
        assert item["erstellt_datum_zeit"] <= item["geaendert_datum_zeit"]


def test_export_ground_truth(universe: gen.SampleUniverse, tmp_path: Path) -> None:
    path = gen.export_ground_truth(universe, tmp_path / "gt" / "ground_truth.parquet")
    assert pl.read_parquet(path).equals(universe.ground_truth())


# -- Kommune attributes: IKZ-Verbund (effect 0.8) and Digitalisierungsberatung (no effect) -------
def test_the_kommune_merkmale_seed_is_what_the_generator_used(
    universe: gen.SampleUniverse, tmp_path: Path
) -> None:
    # The seed holds every Land's rows (the nationwide sample); Hessen's are this universe's.
    exported = gen.export_kommune_merkmale(
        gen.nationwide_kommune_merkmale(), tmp_path / "kommune_merkmale.csv"
    )
    seed = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "kommune_merkmale.csv"
    assert exported.read_bytes() == seed.read_bytes(), (
        "re-export dbt_project/seeds/kommune_merkmale.csv with "
        "gen.export_kommune_merkmale(gen.nationwide_kommune_merkmale(), path)"
    )
    kommunen = universe.kommunen()
    merkmale = pl.read_csv(seed, schema_overrides={"ars": pl.String})
    assert merkmale.height == 10_753 + 294  # inhabited Gemeinden and Landkreise of Germany
    assert merkmale["ars"].is_unique().all()
    merkmale = merkmale.filter(pl.col("ars").str.starts_with(gen.LAND_CODE))
    assert merkmale.fill_null("").equals(universe.kommune_merkmale())
    assert merkmale["ars"].to_list() == kommunen["ars"].to_list()
    assert merkmale["ikz_verbund"].to_list() == kommunen["ikz_verbund"].to_list()
    assert merkmale["digitalisierungsberatung"].to_list() == (
        kommunen["digitalisierungsberatung"].to_list()
    )
    assert merkmale["beispiel"].all()
    # The unit factor the adoption dates were drawn with holds I(u) = IKZ_FACTOR.
    f_pop = (kommunen["population"].cast(pl.Float64) / gen.POP_REFERENCE) ** -gen.POP_ELASTICITY
    expected = (
        f_pop.clip(*gen.POP_FACTOR_RANGE)
        * kommunen["kind"].replace_strict(gen.TYPE_FACTOR, return_dtype=pl.Float64)
        * kommunen["kreis_effect"]
        * pl.Series([gen.LAGGARD_FACTOR if v else 1.0 for v in kommunen["laggard"]])
        * pl.Series([gen.IKZ_FACTOR if v else 1.0 for v in kommunen["ikz_verbund"]])
    )
    assert (expected - kommunen["unit_factor"]).abs().max() < 1e-12


def test_ikz_verbuende_are_runs_of_neighbouring_gemeinden_in_one_kreis(
    universe: gen.SampleUniverse,
) -> None:
    kommunen = universe.kommunen()
    members = kommunen.filter("ikz_verbund")
    groups = members.group_by("ikz_verbund_name").agg("ars", "kreis_ars", "kind")
    assert groups.height == gen.IKZ_GROUPS
    assert groups["kreis_ars"].list.unique().list.len().to_list() == [1] * gen.IKZ_GROUPS
    assert members["kreis_ars"].n_unique() == gen.IKZ_GROUPS  # one Verbund per Landkreis
    for ars, (kreis, *_) in zip(groups["ars"], groups["kreis_ars"], strict=True):
        assert gen.IKZ_GROUP_SIZE[0] <= len(ars) <= gen.IKZ_GROUP_SIZE[1]
        eligible = kommunen.filter(
            (pl.col("kreis_ars") == kreis) & pl.col("kind").is_in(["stadt", "gemeinde"])
        )["ars"].to_list()
        start = eligible.index(min(ars))
        assert sorted(ars) == eligible[start : start + len(ars)]  # consecutive Gemeinde keys
    share = kommunen["digitalisierungsberatung"].mean()
    assert 0.22 < share < 0.38  # P_DIGITALISIERUNGSBERATUNG = 0.3


def test_only_ikz_members_change_with_the_ikz_factor(
    universe: gen.SampleUniverse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gen, "IKZ_FACTOR", 1.0)
    without = gen.build_universe.__wrapped__(gen.DEFAULT_SEED)
    members = set(universe.kommunen().filter("ikz_verbund")["ars"])
    truth = universe.ground_truth().join(
        without.ground_truth(), on=["ars", "leika_key"], suffix="_ohne"
    )
    changed = truth.filter(
        pl.col("adoption_date").ne_missing(pl.col("adoption_date_ohne"))
        | pl.col("first_online_snapshot").ne_missing(pl.col("first_online_snapshot_ohne"))
    )
    assert changed.height > 1000
    assert set(changed["provider_ars"]) <= members
    earlier = changed.filter(pl.col("adoption_date_ohne").is_not_null())
    assert (earlier["adoption_date"] <= earlier["adoption_date_ohne"]).all()
    assert universe.defects().equals(without.defects())

    def records(u: gen.SampleUniverse, snapshot: date) -> Counter[tuple[object, ...]]:
        return Counter(
            tuple(v for k, v in sorted(r.items()) if k != "art_flaechendeckung")
            for r in _all_records(u, snapshot)
            if r["ars"] not in members
        )

    for snapshot in (FIRST, LAST):
        assert records(universe, snapshot) == records(without, snapshot)
