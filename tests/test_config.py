"""Configuration: documented variables, defaults and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from sources.config import ENVIRONMENT, Settings

README = Path(__file__).resolve().parents[1] / "README.md"


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
    assert (settings.mode, settings.land, settings.data_dir) == ("sample", "06", Path("./data"))
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
