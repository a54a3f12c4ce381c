"""The one resource the assets share: where and how the pipeline runs."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from sources.config import Settings


class OzgSettings(dg.ConfigurableResource):
    """Mode, Länder in scope and data directory; the base URLs and HTTP knobs come from
    the ``OZG_*`` environment variables (see the README's configuration table).

    ``lands`` is what schedules and sensors request runs for (``06``, ``05,06`` or
    ``all``); an asset builds the Land of its partition, whatever this says."""

    mode: str = "sample"
    lands: str = "06"
    data_dir: str = "data"
    force_refetch: bool = False

    def settings(self) -> Settings:
        if self.mode not in ("sample", "live"):
            raise ValueError(f"mode must be 'sample' or 'live', not {self.mode!r}")
        return Settings.from_env(mode=self.mode, lands=self.lands, data_dir=Path(self.data_dir))

    @classmethod
    def from_settings(cls, settings: Settings, *, force_refetch: bool = False) -> OzgSettings:
        return cls(
            mode=settings.mode,
            lands=",".join(settings.lands),
            data_dir=str(settings.data_dir),
            force_refetch=force_refetch,
        )
