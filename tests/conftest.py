"""Suite-wide test settings.

Hypothesis's default 200 ms deadline per example measures the machine, not the code: on a
loaded 2-core CI runner a correct example can exceed it. Speed is the benchmarks' job
(`stepsaga bench`), so the suite runs without deadlines. On CI (`CI` set) examples are
derandomized, so a red run is reproducible from the commit alone.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "stepsaga", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("stepsaga-ci", parent=settings.get_profile("stepsaga"), derandomize=True)
settings.load_profile("stepsaga-ci" if os.environ.get("CI") else "stepsaga")
