import pytest
from django.db import IntegrityError

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_stored_lower_cased():
    user = User.objects.create_user(email="  Ann.Lee@Example.COM ", password=DEFAULT_PASSWORD)
    assert user.email == "ann.lee@example.com"


def test_the_same_email_in_another_case_is_the_same_account():
    UserFactory(email="ann@example.com")
    with pytest.raises(IntegrityError):
        User.objects.create_user(email="ANN@example.com", password=DEFAULT_PASSWORD)


def test_login_is_case_insensitive(client):
    UserFactory(email="ann@example.com")
    response = client.post("/accounts/login/", {"username": "Ann@Example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response.url == "/app/"
