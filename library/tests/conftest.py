import pytest


@pytest.fixture(autouse=True)
def _library_defaults(fresh_indexes, small_test_photos):
    """Every library test starts with empty search indexes and accepts the small test photos."""
