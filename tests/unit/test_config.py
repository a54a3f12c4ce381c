"""Configuration: documented variables, defaults and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from sources.config import ENVIRONMENT, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_variable_is_in_the_readme_with_its_default() -> None:
    text = README.read_text(encoding="utf-8")
    for name, (default, _) in ENVIRONMENT.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{name}`")), None)
        assert row is not None, f"{name} missing from the README configuration table"
        shown = f"`{default}`" if default else "(empty)"
        assert shown in row, f"README shows the wrong default for {name}: {row}"


def test_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert (settings.mode, settings.land, settings.data_dir) == (
        "sample",
        "06",
        Path("./data").resolve(),
    )
    assert settings.land_ars == "060000000000"
    monkeypatch.setenv("OZG_DASHBOARD_URL", "http://127.0.0.1:9/api/public/v1/dash/")
    monkeypatch.setenv("OZG_PVOG_ARS", "000000000000, 064140000000")
    monkeypatch.setenv("OZG_HTTP_MAX_ATTEMPTS", "2")
    settings = Settings.from_env(mode="live")
    assert settings.mode == "live"
    assert settings.dashboard_url == "http://127.0.0.1:9/api/public/v1/dash"
    assert settings.pvog_ars == ("000000000000", "064140000000")
    assert settings.http.max_attempts == 2


def test_invalid_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OZG_MODE", "demo")
    with pytest.raises(ValueError, match="OZG_MODE must be 'sample' or 'live'"):
        Settings.from_env()


def test_land_scope_accepts_one_code_a_list_or_all(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    assert Settings.from_env().lands == ("06",)
    live = Settings.from_env(mode="live", lands="09, 05,09")
    assert (live.lands, live.land) == (("09", "05"), "09")
    every = Settings.from_env(mode="live", lands="all")
    assert every.lands[0] == "01" and every.lands[-1] == "16" and len(set(every.lands)) == 16
    assert every.for_land("11").land_ars == "110000000000"
    for wrong in ("6", "17", "00", "he", ""):
        with pytest.raises(ValueError, match="two-digit code 01–16"):
            Settings.from_env(mode="live", lands=wrong)


def test_sample_mode_covers_every_land(monkeypatch: pytest.MonkeyPatch) -> None:
    # The sample generates every Land (sources/sample/generator.py, "Nationwide sample").
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OZG_LAND", "05,06")
    assert Settings.from_env().lands == ("05", "06")
    sample = Settings.from_env(lands="06")
    assert sample.for_land("07").land == "07"


def test_land_specific_sources_land_under_the_land(tmp_path: Path) -> None:
    settings = Settings(mode="live", data_dir=tmp_path).for_land("05")
    assert settings.raw_root("dashboard") == tmp_path / "raw" / "land=05"
    assert settings.raw_root("pvog") == tmp_path / "raw" / "land=05"
    # Nationwide sources land once per snapshot, shared by every Land.
    assert settings.raw_root("destatis_gv100ad") == tmp_path / "raw"
    assert settings.raw_root("fim") == tmp_path / "raw"
