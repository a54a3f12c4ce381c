"""The one resource the assets share: where and how the pipeline runs."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from pipelines.locking import data_dir_lock
from sources.config import Settings, env


class OzgSettings(dg.ConfigurableResource):
    """Mode, Länder in scope and data directory; the base URLs and HTTP knobs come from
    the ``OZG_*`` environment variables (see the README's configuration table).

    ``lands`` is what schedules and sensors request runs for (``06``, ``05,06`` or
    ``all``); an asset builds the Land of its partition, whatever this says, and a
    nationwide asset (partitioned by snapshot only) no Land at all."""

    mode: str = "sample"
    lands: str = "06"
    data_dir: str = "data"
    force_refetch: bool = False
    _write_lock: ExitStack = PrivateAttr(default_factory=ExitStack)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Every step holds the data directory's write lock while it runs (a no-op inside
        ``ozg run``, which holds it already): runs of the daemon, the UI and ``ozg run``
        never write one data directory at the same time (``pipelines/locking.py``)."""
        log = context.log.info if context.log is not None else print
        # A step that gives up after OZG_RUN_LOCK_TIMEOUT fails with DataDirBusy; the job's
        # retry policy (pipelines/jobs.py) tries it again later, waiting again.
        self._write_lock.enter_context(
            data_dir_lock(
                self.settings().data_dir,
                timeout=float(env("OZG_RUN_LOCK_TIMEOUT")),
                on_wait=log,
            )
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._write_lock.close()

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
