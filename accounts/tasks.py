from celery import shared_task

from core.exceptions import TransientProviderError

EMAIL_TASK_OPTIONS = {
    "autoretry_for": (TransientProviderError,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 6,
    "soft_time_limit": 30,
    "time_limit": 60,
}


@shared_task(name="accounts.send_verification_email", **EMAIL_TASK_OPTIONS)
def send_verification_email(user_id: int, **kwargs) -> None:
    from accounts import services

    services.user_send_verification_email(user_id=user_id)


@shared_task(name="accounts.send_signup_notice", **EMAIL_TASK_OPTIONS)
def send_signup_notice(user_id: int, **kwargs) -> None:
    from accounts import services

    services.user_send_signup_notice(user_id=user_id)


@shared_task(name="accounts.send_password_reset_email", **EMAIL_TASK_OPTIONS)
def send_password_reset_email(user_id: int, **kwargs) -> None:
    from accounts import services

    services.user_send_password_reset_email(user_id=user_id)


@shared_task(name="accounts.purge_unverified_accounts", soft_time_limit=120, time_limit=180)
def purge_unverified_accounts(**kwargs) -> None:
    from accounts import services

    services.user_purge_unverified()
