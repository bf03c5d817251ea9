import pytest
from rest_framework.test import APIClient

from accounts import services
from accounts.tests.factories import UserFactory


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def token_for(db):
    """Make an API token for a user; returns (token, raw secret)."""

    def make(user, **kwargs):
        return services.api_token_create(user=user, name=kwargs.pop("name", "test"), **kwargs)

    return make
