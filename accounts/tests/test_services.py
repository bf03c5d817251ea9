"""Account services read directly: what is stored of a token, the purge of unverified accounts."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import AccountEmail, ApiToken, User
from accounts.services import user_purge_unverified
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_only_a_hash_of_the_secret_is_stored(user, token_for):
    token, raw_token = token_for(user)
    stored = ApiToken.objects.get(id=token.id)
    assert raw_token not in {stored.secret_hash, stored.prefix, stored.name}
    assert stored.secret_hash == hashlib.sha256(raw_token.encode()).hexdigest()


def test_stale_unverified_accounts_are_purged(settings):
    old = timezone.now() - settings.UNVERIFIED_ACCOUNT_RETENTION - timedelta(days=1)
    stale = UserFactory(unverified=True, date_joined=old)
    recent = UserFactory(unverified=True)
    verified_long_ago = UserFactory(date_joined=old)

    assert user_purge_unverified() == 1
    assert not User.objects.filter(id=stale.id).exists()
    assert User.objects.filter(id__in=[recent.id, verified_long_ago.id]).count() == 2


def test_a_signup_with_proof_of_the_mailbox_starts_verified_without_a_verification_email(db):
    user = services.user_signup(
        email="Ana@Example.com", display_name="Ana", password="correct horse battery staple", email_verified=True
    )
    assert user.is_email_verified
    assert not AccountEmail.objects.filter(user=user).exists()
