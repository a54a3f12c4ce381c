"""Named points at which the crash-consistency tests have a run killed.

``OZG_CRASH_AT=<point>`` makes the process kill itself with SIGKILL when it reaches
``<point>`` — and, when it leads its process group (the tests start it so), the whole
group: ``ozg run`` and its dbt child at once, as a node drain would, with no chance to
clean up. Unset (always, outside those tests) a point
costs one dictionary lookup. The points (where each is called):

* ``raw_landing`` — the first response of a run stored in a raw landing, before the
  landing is complete (``sources/landing.py``);
* ``before_promotion`` — a normalised partition staged and audited, not yet promoted
  (``pipelines/normalisation/gate.py``);
* ``dbt_build`` — the dbt build running, its first node finished (``pipelines/defs/marts.py``);
* ``publication`` — the new publication written, the ``current`` link not yet flipped
  (``pipelines/publication/publish.py``).
"""

from __future__ import annotations

import os
import signal

ENV = "OZG_CRASH_AT"
POINTS = ("raw_landing", "before_promotion", "dbt_build", "publication")


def crash_point(name: str) -> None:
    if os.environ.get(ENV) != name:
        return
    assert name in POINTS, name
    if os.getpgrp() == os.getpid():  # never the group of whoever started this process
        os.killpg(os.getpgrp(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
