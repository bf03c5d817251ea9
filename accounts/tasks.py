from typing import Any

from celery import shared_task

from accounts.models import AccountEmail
from core.tasks import Retry, provider_task

# The email task sends one recorded email (accounts.models.AccountEmail, by id); a transient
# failure is retried, then left to the reconcile task within the email's deadline.
EMAIL_RETRY = Retry(max_retries=6, backoff=30, backoff_max=600)
EMAIL: dict[str, Any] = {
    "retry": EMAIL_RETRY,
    "soft_time_limit": 30,
    "time_limit": 60,
    "object_argument": "email_id",
    "give_up": "accounts.services.account_email_give_up",
}


@provider_task("accounts.send_account_email", **EMAIL)
def send_account_email(email_id: int, **kwargs) -> None:
    from accounts import services

    services.account_email_send(email_id=email_id)


# Messages queued before the emails were recorded name the user, under these names: each records
# its email now and queues it as above (one email however often the message arrives).
LEGACY_EMAIL: dict[str, Any] = {"soft_time_limit": 30, "time_limit": 60}


@shared_task(name="accounts.send_verification_email", **LEGACY_EMAIL)
def send_verification_email(user_id: int, **kwargs) -> None:
    from accounts import services

    services.account_email_queue_legacy(user_id=user_id, kind=AccountEmail.Kind.VERIFICATION)


@shared_task(name="accounts.send_signup_notice", **LEGACY_EMAIL)
def send_signup_notice(user_id: int, **kwargs) -> None:
    from accounts import services

    services.account_email_queue_legacy(user_id=user_id, kind=AccountEmail.Kind.SIGNUP_NOTICE)


@shared_task(name="accounts.send_password_reset_email", **LEGACY_EMAIL)
def send_password_reset_email(user_id: int, **kwargs) -> None:
    from accounts import services

    services.account_email_queue_legacy(user_id=user_id, kind=AccountEmail.Kind.PASSWORD_RESET)


@shared_task(name="accounts.reconcile_emails", soft_time_limit=60, time_limit=90)
def reconcile_emails(**kwargs) -> None:
    from accounts import services

    services.account_email_reconcile()


@shared_task(name="accounts.purge_unverified_accounts", soft_time_limit=120, time_limit=180)
def purge_unverified_accounts(**kwargs) -> None:
    from accounts import services

    services.user_purge_unverified()
