"""The nationwide sample (``sources/sample/generator.py``, "Nationwide sample"): every Land's
universe from the real GV100AD, each seeded on its own, with Hessen unchanged."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date

import polars as pl
import pytest
from test_generator import first_online_from_records, is_online

from sources import replay
from sources.config import LAENDER, Settings, check_sample_scope
from sources.sample import generator as gen
from sources.sample.files import gv100ad_frame

FIRST, LAST = gen.SAMPLE_SNAPSHOTS[0], gen.SAMPLE_SNAPSHOTS[-1]
SAARLAND, BREMEN, BERLIN, HAMBURG, BAYERN = "10", "04", "11", "02", "09"

# Digests of Hessen's sample for the default seed, taken from the Hessen-only generator at
# commit 6c1b5f5 (before the other Länder were added) with ``_hessen_digests`` below: Hessen
# must stay byte-identical. A change here is a change of the Hessen sample, not a refresh.
HESSEN_DIGESTS = {
    "records": "3ab561cf009549845b1dc890b1ac542a8b71cceeff04c37338566685bcc894e2",
    "fim": "d9cff1d8be7e9115f6673dea4a023c0f389e5fb7c62695060b174c2493e80255",
    "ground_truth": "c16fe11d2fccd1246d2b753fb5f346367e976c58293111f4f6fabd48d45fca20",
    "kommunen": "b5044181f11a8b668a48bd229d51661bd7b632345f019cb8ec2f6c62785df274",
    "kommune_merkmale": "cc37461d99002fbd6d06345c814c7d268545c5fcd7155c1623c7a3b48aaee320",
    "defects": "eebd6874f3bba20434e1a05baada4920273b363caf73c3a0ef6b5b02ed6ea8db",
    "ars_list": "f3cb4523034f0b50764243f21eeb24fd6a566e2a34342666f3830acd5b205add",
    "datenstand": "a41d4912f1397b6d351530d721fcb2c940b763a900bb1205ce2a0b6f0124ad04",
}


def _sha(payload: object) -> str:
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


def _land_records(universe: gen.SampleUniverse, snapshot: date) -> list[dict[str, object]]:
    """Every record of the Land and the Bund at one snapshot."""
    return universe.dashboard_records(
        snapshot, universe.land_ars, include_above=True, include_below=True
    )


def _hessen_digests(universe: gen.SampleUniverse) -> dict[str, str]:
    records = hashlib.sha256()
    for t in universe.snapshots:
        records.update(json.dumps(_land_records(universe, t), ensure_ascii=False).encode())
    frames = {
        "ground_truth": universe.ground_truth(),
        "kommunen": universe.kommunen(),
        "kommune_merkmale": universe.kommune_merkmale(),
        "defects": universe.defects(),
    }
    return {
        "records": records.hexdigest(),
        "fim": _sha([universe.fim_items("stammtext"), universe.fim_items("steckbrief")]),
        **{
            name: hashlib.sha256(frame.write_csv().encode()).hexdigest()
            for name, frame in frames.items()
        },
        "ars_list": _sha(universe.ars_list()),
        "datenstand": _sha([universe.datenstand(t).isoformat() for t in universe.snapshots]),
    }


def _land_digest(universe: gen.SampleUniverse) -> str:
    """One digest of what a Land's universe emits (first and last snapshot)."""
    payload = [_land_records(universe, t) for t in (FIRST, LAST)]
    frames = (universe.ground_truth(), universe.kommunen(), universe.defects())
    return _sha([payload, universe.ars_list(), *(frame.write_csv() for frame in frames)])


def _gv100ad(land: str) -> dict[str, set[str]]:
    frame = gv100ad_frame().filter(pl.col("land") == land)
    gemeinden = frame.filter(pl.col("satzart") == "60")
    kreise = set(frame.filter(pl.col("satzart") == "40")["ars"])
    return {
        "gemeinden": set(gemeinden["ars"]),
        "inhabited": set(gemeinden.filter(pl.col("bevoelkerung") > 0)["ars"]),
        "kreise": kreise,
        # A kreisfreie Stadt is a Kreis and a Gemeinde under one ARS; the rest are Landkreise.
        "landkreise": kreise - set(gemeinden["ars"]),
    }


@pytest.fixture(scope="module")
def summaries() -> dict[str, dict[str, object]]:
    """What the tests need of each of the 16 Länder, built one Land at a time."""
    out: dict[str, dict[str, object]] = {}
    universes: Iterator[gen.SampleUniverse] = gen.iter_laender()
    for universe in universes:
        truth = universe.ground_truth()
        out[universe.land] = {
            "name": universe.land_name,
            "land_ars": universe.land_ars,
            "land_factor": universe.land_factor,
            "ars_list": universe.ars_list(),
            "kommunen": universe.kommunen(),
            "truth_ars": set(truth["ars"]),
            "truth_unique": truth.select("ars", "leika_key").is_unique().all(),
            "bund": universe.dashboard_records(
                LAST, gen.BUND_ARS, include_above=False, include_below=False
            ),
            "records": len(_land_records(universe, LAST)),
            "defect_kinds": set(universe.defects()["kind"]),
        }
    return out


@pytest.fixture(scope="module")
def saarland() -> gen.SampleUniverse:
    return gen.build_universe(gen.DEFAULT_SEED, SAARLAND)


# -- Hessen is the Hessen-only generator's, byte for byte ---------------------------------------


def test_hessen_is_byte_identical_to_the_hessen_only_generator() -> None:
    fresh = gen.build_universe.__wrapped__(gen.DEFAULT_SEED)  # not from the cache
    assert fresh.land == gen.HESSEN and fresh.land_factor == 1.0
    assert _hessen_digests(fresh) == HESSEN_DIGESTS


def test_hessen_rows_of_the_seed_are_the_hessen_only_generator_s() -> None:
    hessen = gen.nationwide_kommune_merkmale().filter(pl.col("ars").str.starts_with("06"))
    digest = hashlib.sha256(hessen.write_csv().encode()).hexdigest()
    assert digest == HESSEN_DIGESTS["kommune_merkmale"]


# -- every Land from the GV100AD ----------------------------------------------------------------


def test_every_land_has_the_gv100ad_s_gemeinden_and_kreise(
    summaries: dict[str, dict[str, object]],
) -> None:
    assert list(summaries) == list(LAENDER) == list(gen.LAND_CODES)
    totals = {"gemeinden": 0, "inhabited": 0, "kreise": 0}
    for land, summary in summaries.items():
        real = _gv100ad(land)
        for key in totals:
            totals[key] += len(real[key])
        assert summary["name"] == LAENDER[land]
        assert summary["land_ars"] == f"{land}0000000000"
        listed = [r["ars"] for r in summary["ars_list"]]  # type: ignore[attr-defined]
        assert listed == sorted(set(listed)), land
        expected = real["gemeinden"] | real["kreise"] | {summary["land_ars"], gen.BUND_ARS}
        assert set(listed) == expected, land
        kommunen: pl.DataFrame = summary["kommunen"]  # type: ignore[assignment]
        gemeinden = kommunen.filter(pl.col("kind") != "landkreis")
        assert set(gemeinden["ars"]) == real["inhabited"], land
        assert gemeinden.height == len(real["inhabited"]), land
        landkreise = set(kommunen.filter(pl.col("kind") == "landkreis")["ars"])
        assert landkreise == real["landkreise"], land
        kreisfrei = set(kommunen.filter(pl.col("kind") == "kreisfreie_stadt")["ars"])
        assert kreisfrei == real["kreise"] - real["landkreise"], land
        truth_ars: set[str] = summary["truth_ars"]  # type: ignore[assignment]
        assert real["inhabited"] | real["kreise"] <= truth_ars, land
        assert summary["truth_unique"], land
    assert totals == {"gemeinden": 10_953, "inhabited": 10_753, "kreise": 400}


def test_sonderstatus_counts_and_ikz_follow_the_documented_rules(
    summaries: dict[str, dict[str, object]],
) -> None:
    for land, summary in summaries.items():
        kommunen: pl.DataFrame = summary["kommunen"]  # type: ignore[assignment]
        kinds = kommunen["kind"].value_counts().rows()
        sonder = kommunen.filter(pl.col("kind") == "sonderstatusstadt").height
        assert sonder == (7 if land == gen.HESSEN else 0), (land, kinds)
        gemeinden = kommunen.filter(pl.col("kind").is_in(["stadt", "gemeinde"]))
        landkreise = kommunen.filter(pl.col("kind") == "landkreis")
        if land == gen.HESSEN:
            assert (gemeinden.height, landkreise.height) == (
                gen.HESSEN_GEMEINDEN,
                gen.HESSEN_LANDKREISE,
            )
        expected = round(gen.LAGGARD_GEMEINDEN * gemeinden.height / gen.HESSEN_GEMEINDEN)
        assert gemeinden["laggard"].sum() == expected, land
        expected = round(gen.LAGGARD_LANDKREISE * landkreise.height / gen.HESSEN_LANDKREISE)
        assert landkreise["laggard"].sum() == expected, land
        members = kommunen.filter("ikz_verbund")
        assert set(members["kind"]) <= {"stadt", "gemeinde"}
        groups = members.group_by("ikz_verbund_name").agg(pl.col("kreis_ars").n_unique())
        assert (groups["kreis_ars"] == 1).all(), land  # each Verbund in one Landkreis
        assert members["kreis_ars"].n_unique() == groups.height  # one Verbund per Landkreis
        eligible = sum(
            1
            for kreis in landkreise["ars"]
            if gemeinden.filter(pl.col("kreis_ars") == kreis).height >= gen.IKZ_GROUP_SIZE[1]
        )
        expected = round(gen.IKZ_GROUPS * eligible / gen.HESSEN_LANDKREISE)
        assert groups.height == (gen.IKZ_GROUPS if land == gen.HESSEN else expected), land
    bayern: pl.DataFrame = summaries[BAYERN]["kommunen"]  # type: ignore[assignment]
    assert bayern["laggard"].sum() == 65 + 3  # the figures the docstring names


def test_the_bund_layer_is_shared_and_the_land_effect_is_the_land_s(
    summaries: dict[str, dict[str, object]],
) -> None:
    bund = summaries[gen.HESSEN]["bund"]
    assert bund and all(r["ars"] == gen.BUND_ARS for r in bund)  # type: ignore[attr-defined]
    factors = {land: s["land_factor"] for land, s in summaries.items()}
    for land, summary in summaries.items():
        assert summary["bund"] == bund, land
        assert summary["defect_kinds"] == {
            kind for kind, _ in gen.DEFECT_KINDS if land < "10" or kind != "ars_leading_zero_lost"
        }, land
    assert factors[gen.HESSEN] == 1.0
    others = [f for land, f in factors.items() if land != gen.HESSEN]
    assert len(set(others)) == 15 and all(0.4 < f < 2.5 for f in others)  # type: ignore[operator]
    assert min(others) == pytest.approx(0.609, abs=1e-3)  # the range the docstring names
    assert max(others) == pytest.approx(1.519, abs=1e-3)
    total = sum(s["records"] for s in summaries.values())  # type: ignore[misc]
    assert 900_000 < total < 1_000_000


def test_stadtstaaten_are_one_gemeinde_on_the_land_ars(
    summaries: dict[str, dict[str, object]],
) -> None:
    for land in (BERLIN, HAMBURG):
        summary = summaries[land]
        kommunen: pl.DataFrame = summary["kommunen"]  # type: ignore[assignment]
        assert kommunen["ars"].to_list() == [summary["land_ars"]]
        assert kommunen["kind"].to_list() == ["kreisfreie_stadt"]
        listed: list[dict[str, str]] = summary["ars_list"]  # type: ignore[assignment]
        assert listed == [
            {"ars": gen.BUND_ARS, "arsName": "Bund"},
            {"ars": summary["land_ars"], "arsName": LAENDER[land]},  # once, the Land's name
        ]
    bremen: pl.DataFrame = summaries[BREMEN]["kommunen"]  # type: ignore[assignment]
    assert bremen["ars"].to_list() == ["040110000000", "040120000000"]
    assert set(bremen["kind"]) == {"kreisfreie_stadt"}


def test_a_stadtstaat_s_ars_holds_land_and_city_entries() -> None:
    berlin = gen.build_universe(gen.DEFAULT_SEED, BERLIN)
    records = berlin.dashboard_records(
        LAST, "110000000000", include_above=True, include_below=False
    )
    by_name = {r["ars_name"] for r in records if r["ars"] == "110000000000"}
    assert by_name == {"Berlin", "Berlin, Stadt"}  # the Land's entries and the city's own
    assert {r["bundesland"] for r in records if r["ars"] != gen.BUND_ARS} == {"Berlin"}
    assert {r["ars_federal_state"] for r in records if r["ars"] != gen.BUND_ARS} == {"11"}
    truth = berlin.ground_truth()
    assert set(truth["provider_ars"]) <= {"110000000000", gen.BUND_ARS}
    # The one Gemeinde has an online entry: the whole Land has it (unless not considered).
    own = {
        r["art_flaechendeckung"]
        for r in records
        if r["ars_name"] == "Berlin, Stadt" and is_online(r)
    }
    assert own <= {"landesweit flächendeckend", "nicht in Auswertung berücksichtigt"}
    assert "landesweit flächendeckend" in own


# -- ground truth against the records, on a small Land ------------------------------------------


@pytest.mark.parametrize("land", [SAARLAND, BREMEN])
def test_first_online_snapshot_matches_records(land: str) -> None:
    universe = gen.build_universe(gen.DEFAULT_SEED, land)
    truth = universe.ground_truth()
    checked = 0
    for ars in sorted(set(truth["ars"])):
        first = first_online_from_records(universe, ars)
        rows = truth.filter(pl.col("ars") == ars)
        assert rows.height > 80
        for key, observed in zip(rows["leika_key"], rows["first_online_snapshot"], strict=True):
            assert first.get(key) == observed, (ars, key)
        assert (rows.filter("left_censored")["first_online_snapshot"] == FIRST).all()
        checked += rows.height
    assert checked == truth.height
    adopted = truth.filter(pl.col("adoption_date").is_not_null())
    assert adopted.height > truth.height / 2
    levels = set(truth["provider_level"])
    assert {"own", "land", "bund"} <= levels and ("kreis" in levels) == (land == SAARLAND)


def test_defects_are_listed_and_emitted_in_a_small_land(saarland: gen.SampleUniverse) -> None:
    defects = saarland.defects()
    assert defects.height == gen.DEFECTS_PER_SNAPSHOT * len(gen.SAMPLE_SNAPSHOTS)
    assert "ars_leading_zero_lost" not in set(defects["kind"])  # 10…: no leading zero
    for d in defects.iter_rows(named=True):
        assert d["query_ars"].startswith(SAARLAND)
        records = saarland.dashboard_records(
            d["snapshot"], d["query_ars"], include_above=False, include_below=False
        )
        hits = [r for r in records if r["leika_key"] == d["leika_key"]]
        if d["kind"] == "duplicate_record":
            assert any(hits.count(r) >= 2 for r in hits), d
        else:
            assert any(r[d["field"]] == d["value"] for r in hits), d
        if d["kind"] == "ars_unknown":
            assert d["value"] == "109990000000"
    assert gv100ad_frame().filter(pl.col("ars") == "109990000000").is_empty()


def test_flaechendeckung_consistent_in_a_saarland_kreis(saarland: gen.SampleUniverse) -> None:
    t = saarland.snapshots[6]
    kommunen = saarland.kommunen()
    seen: Counter[str] = Counter()
    for kreis in kommunen.filter(pl.col("kind") == "landkreis")["ars"]:
        in_kreis = kommunen.filter(pl.col("kreis_ars") == kreis)
        online = []
        for ars in in_kreis.filter(pl.col("kind") != "landkreis")["ars"]:
            view = saarland.dashboard_records(t, ars, include_above=True, include_below=False)
            online.append({str(r["leika_key"]) for r in view if is_online(r)})
        everywhere = set.intersection(*online)
        below = saarland.dashboard_records(t, kreis, include_above=False, include_below=True)
        for record in below:
            if len(str(record["leika_key"])) != 14 or not str(record["leika_key"]).isdigit():
                continue  # an unrepairable defect's extra record (malformed key)
            art = record["art_flaechendeckung"]
            seen[art] += 1
            if art in ("kreisweit flächendeckend", "landesweit flächendeckend"):
                assert record["leika_key"] in everywhere
            elif art == "in mind. einer Kommune verfügbar":
                assert record["leika_key"] not in everywhere
    assert (
        min(seen[art] for art in ("kreisweit flächendeckend", "in mind. einer Kommune verfügbar"))
        > 100
    )


def test_other_laender_have_no_basket_and_no_platform(saarland: gen.SampleUniverse) -> None:
    hessen = gen.build_universe()
    urls = [str(r["url"]) for t in (FIRST, LAST) for r in _land_records(saarland, t)]
    assert urls and not any("/civento/" in url for url in urls)
    assert any("/civento/" in str(r["url"]) for r in _land_records(hessen, LAST))
    assert any(url.startswith("https://onlinedienst.example/saarland/") for url in urls)


# -- seeding: each Land on its own --------------------------------------------------------------


def test_changing_one_land_s_streams_leaves_every_other_land_alone() -> None:
    lands = (BREMEN, gen.HESSEN, SAARLAND)
    default = {u.land: _land_digest(u) for u in gen.iter_laender(lands=lands)}
    changed = {
        u.land: _land_digest(u)
        for u in gen.iter_laender(lands=lands, land_seeds={SAARLAND: gen.DEFAULT_SEED + 1})
    }
    assert changed[SAARLAND] != default[SAARLAND]
    assert changed[BREMEN] == default[BREMEN] and changed[gen.HESSEN] == default[gen.HESSEN]
    # Nor does it matter which other Länder are built, or in which order.
    (alone,) = gen.iter_laender(lands=(BREMEN,))
    assert _land_digest(alone) == default[BREMEN]
    # The shared parts stay: the Bund layer and the Datenstand.
    other = gen.build_universe(gen.DEFAULT_SEED, SAARLAND, land_seed=gen.DEFAULT_SEED + 1)
    hessen = gen.build_universe()
    for t in (FIRST, LAST):
        assert other.datenstand(t) == hessen.datenstand(t)
        assert other.dashboard_records(
            t, gen.BUND_ARS, include_above=False, include_below=False
        ) == hessen.dashboard_records(t, gen.BUND_ARS, include_above=False, include_below=False)


def test_each_land_draws_from_its_own_streams() -> None:
    draws = {land: gen._rng(gen.DEFAULT_SEED, "lag", land).random() for land in gen.LAND_CODES}
    assert len(set(draws.values())) == 16
    assert draws[gen.HESSEN] == gen._rng(gen.DEFAULT_SEED, "lag").random()  # the shared key
    with pytest.raises(ValueError, match="Hessen's streams are the shared ones"):
        gen.build_universe(gen.DEFAULT_SEED, gen.HESSEN, land_seed=1)
    with pytest.raises(ValueError, match="two-digit code"):
        gen.build_universe(gen.DEFAULT_SEED, "17")


# -- sample mode covers the 16 Länder -----------------------------------------------------------


def test_sample_scope_accepts_all_16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OZG_MODE", raising=False)
    monkeypatch.delenv("OZG_LAND", raising=False)
    check_sample_scope("sample", tuple(LAENDER))
    settings = Settings.from_env(lands="all")
    assert settings.mode == "sample" and settings.lands == tuple(LAENDER)
    assert settings.for_land(BERLIN).land_ars == "110000000000"
    with pytest.raises(ValueError, match="sample mode covers the Länder 01–16 only, not 17"):
        check_sample_scope("sample", ("06", "17"))


def test_the_replay_serves_the_partition_s_land() -> None:
    handle = replay.dashboard_handler(LAST, gen.DEFAULT_SEED, land=SAARLAND)
    status, _, body = handle("/v1/ars", {"page": "0", "size": "500"}, {})
    assert status == 200
    listed = [r["ars"] for r in json.loads(body)["content"]]
    assert listed[:2] == [gen.BUND_ARS, "100000000000"]
    assert all(ars.startswith(SAARLAND) for ars in listed[1:])
    own = {"page": "0", "size": "500", "includeAbove": "false", "includeBelow": "false"}
    status, _, body = handle("/v1/data/100410100100", own, {})
    records = json.loads(body)["content"]
    assert status == 200 and records
    assert {r["ars"] for r in records} == {"100410100100"}
    assert {r["bundesland"] for r in records} == {"Saarland"}
    status, _, body = handle("/v1/data/064140000000", own, {})
    assert status == 200 and json.loads(body)["content"] == []  # Hessen is another partition
