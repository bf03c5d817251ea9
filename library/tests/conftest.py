import pytest


@pytest.fixture(autouse=True)
def _fresh_indexes():
    from library import index

    index.forget()
    yield
    index.forget()


@pytest.fixture(autouse=True)
def _small_test_photos(settings):
    # The real test photos (skimage's coffee, astronaut) are 400-512 px on their short side.
    settings.PHOTO_MIN_SIDE = 256
