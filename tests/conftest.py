"""Shared test fixtures: where ../shared is, and skips with a reason when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
TEST_DATA = Path(__file__).resolve().parent / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs ../shared/{'/'.join(parts)} (reference data beside the repo)")
    return path


@pytest.fixture
def fixture_a() -> Path:
    """The reduced-width FOMM reference fixture from the original implementation."""
    return shared_path("fomm", "fixture-A")


@pytest.fixture
def driving_dir() -> Path:
    return shared_path("data", "driving")


@pytest.fixture
def portraits_dir() -> Path:
    return shared_path("data", "portraits")
