"""Shared fixtures and Hypothesis profiles.

Profiles: ``ci`` (the default: quick, deterministic) and ``long`` (set
``HYPOTHESIS_PROFILE=long`` for a long fuzzing run on demand).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=20_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
