"""Rehearsal of live mode against a local server answering in the evidenced real-API shapes.

`ozg run --mode live --land 06` talks real HTTP to `sources.sample.server` on 127.0.0.1 in
its rehearsal variant (`sources/sample/rehearsal.py`): host B's Dashboard export with its
Accept check (a wrong Accept gets a 406), the FIM envelope `items` + `total_count` with
`ozg` as one object, the GV100AD zip only under the evidenced names (the 2025 edition with
an underscore), municipal Leistungen typed 2/3 and 4 (never 5), and Hanau under its new
kreisfrei ARS 064150000000 that the embedded Gemeindeverzeichnis of 30.11.2025 does not know.
The marts must still compare every Kommune, from inferred competence alone (live mode
ignores the seed's `beispiel` rules written for the synthetic catalogue).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from sources.config import PILOT_ARS
from sources.sample.rehearsal import HANAU_NEW_ARS, HANAU_OLD_ARS
from sources.sample.server import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = "2026-11-01"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server, url = serve_in_thread(date.fromisoformat(SNAPSHOT), rehearsal=True)
    try:
        yield url
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def run(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    data = tmp_path_factory.mktemp("rehearsal")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OZG_", "DAGSTER_HOME"))}
    env.update(
        OZG_DATA_DIR=str(data),
        OZG_DASHBOARD_URL=f"{server_url}/dashboard/public/v1/dash",
        OZG_FIM_URL=f"{server_url}/fim",
        OZG_DESTATIS_URL=f"{server_url}/destatis",
        OZG_PVOG_URL=f"{server_url}/pvog",
        OZG_PVOG_ARS="000000000000",  # the server holds the real Bund export only
        OZG_HTTP_MIN_INTERVAL="0",
    )
    command = ["run", "--mode", "live", "--land", "06", "--snapshot", SNAPSHOT]
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return data, done.stdout


def _marts(data: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(data / "published" / "ozg.duckdb"), read_only=True)


def test_every_gemeinde_and_kreis_has_applicable_leistungen(run: tuple[Path, str]) -> None:
    data, _ = run
    with _marts(data) as con:
        rows = con.execute(
            "select ars, kommunenart, gebietstyp, perspektive, n_anwendbar, n_online "
            "from marts.mart_verfuegbarkeit_kommune where snapshot_date = ? and land = '06'",
            [date.fromisoformat(SNAPSHOT)],
        ).pl()
        peers = con.execute(
            "select count(distinct ars) from marts.mart_peer_vergleich where snapshot_date = ?",
            [date.fromisoformat(SNAPSHOT)],
        ).fetchone()
    filled = rows.filter(pl.col("n_anwendbar") > 0)
    gemeinden = filled.filter(pl.col("kommunenart") == "Gemeinde")
    for perspektive in ("traeger", "buerger"):
        assert gemeinden.filter(pl.col("perspektive") == perspektive)["ars"].n_unique() == 421
    landkreise = filled.filter(pl.col("kommunenart") == "Landkreis")["ars"].n_unique()
    kreisfrei = gemeinden.filter(pl.col("gebietstyp") == "kreisfreie Stadt")["ars"].n_unique()
    assert (landkreise, kreisfrei) == (21, 5)  # the 26 Kreise of Hessen
    assert filled["n_online"].sum() > 0
    assert peers is not None and peers[0] == 421 + 21


def test_competence_comes_from_observation_not_from_the_sample_rules(run: tuple[Path, str]) -> None:
    data, _ = run
    with _marts(data) as con:
        sources = dict(
            con.execute(
                "select zuordnung_quelle, count(*) from marts.mart_zustaendigkeit_leistung "
                "where snapshot_date = ? group by all",
                [date.fromisoformat(SNAPSHOT)],
            ).fetchall()
        )
        typisierung_5 = con.execute(
            "select count(*) from marts.mart_zustaendigkeit_leistung where typisierung = '5'"
        ).fetchone()
    assert typisierung_5 == (0,)  # the rehearsal retypes every municipal Leistung
    assert sources.get("beobachtet", 0) > 100
    assert "regel" not in sources  # the beispiel rules apply to sample rows only


def test_hanau_under_its_new_ars_is_counted_not_lost(run: tuple[Path, str]) -> None:
    data, stdout = run
    quarantine = pl.read_parquet(
        data / "quarantine" / "verfuegbarkeit" / "land=06" / f"snapshot={SNAPSHOT}" / "data.parquet"
    )
    hanau = quarantine.filter(pl.col("reason_code") == "ars_not_in_gebietsstand")
    assert hanau.height > 0
    assert {json.loads(r)["ars"] for r in hanau["record"]} == {HANAU_NEW_ARS}
    assert f"{HANAU_NEW_ARS} ({hanau.height} Einträge)" in stdout
    assert "OZG_GV100AD_EDITION" in stdout
    with _marts(data) as con:
        counted = con.execute(
            "select zeilen_gebietsstand_unbekannt, ars_gebietsstand_unbekannt "
            "from marts.mart_datenqualitaet where snapshot_date = ? and tabelle = 'verfuegbarkeit'",
            [date.fromisoformat(SNAPSHOT)],
        ).fetchone()
        old = con.execute(
            "select count(*) from marts.mart_verfuegbarkeit_kommune where ars = ?",
            [HANAU_OLD_ARS],
        ).fetchone()
    assert counted == (hanau.height, HANAU_NEW_ARS)
    assert old is not None and old[0] > 0  # the edition's Hanau is still compared


def test_landing_used_the_evidenced_paths(run: tuple[Path, str]) -> None:
    data, _ = run
    destatis = json.loads(
        (data / "raw" / "destatis_gv100ad" / SNAPSHOT / "manifest.json").read_text("utf-8")
    )
    assert any("GV100AD_31122025.zip" in e["url"] for e in destatis["entries"])
    dashboard = data / "raw" / "land=06" / "dashboard" / SNAPSHOT
    exports = [p.name for p in dashboard.glob("export_*_own.csv.gz")]
    assert f"export_{HANAU_NEW_ARS}_own.csv.gz" in exports
    assert len(exports) >= 448  # Bund, Land, 21 Landkreise, 425 Gemeinde ARS, + Hanau's new one
    manifest = json.loads((dashboard / "manifest.json").read_text("utf-8"))
    assert manifest["summary"]["api_only_ars"] == [HANAU_NEW_ARS]


def test_pilot_reports_are_real_reports(run: tuple[Path, str]) -> None:
    data, stdout = run
    reports = data / "published" / "reports"
    for page in [f"steckbrief-{ars}.html" for ars in PILOT_ARS] + ["pilotvergleich.html"]:
        html = (reports / page).read_text(encoding="utf-8")
        assert "Keine Kennzahlen für diesen Stichtag" not in html, page
        assert "anwendbaren Leistungen" in html, page
    assert "keine Kommune" not in stdout
