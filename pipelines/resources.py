"""The one resource the assets share: where and how the pipeline runs."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from sources.config import Settings


class OzgSettings(dg.ConfigurableResource):
    """Mode, Land and data directory; the base URLs and HTTP knobs come from the
    ``OZG_*`` environment variables (see the README's configuration table)."""

    mode: str = "sample"
    land: str = "06"
    data_dir: str = "data"
    force_refetch: bool = False

    def settings(self) -> Settings:
        if self.mode not in ("sample", "live"):
            raise ValueError(f"mode must be 'sample' or 'live', not {self.mode!r}")
        return Settings.from_env(mode=self.mode, land=self.land, data_dir=Path(self.data_dir))

    @classmethod
    def from_settings(cls, settings: Settings, *, force_refetch: bool = False) -> OzgSettings:
        return cls(
            mode=settings.mode,
            land=settings.land,
            data_dir=str(settings.data_dir),
            force_refetch=force_refetch,
        )
