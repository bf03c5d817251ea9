import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext, ngettext

from accounts import tasks
from accounts.emails import send_templated_email
from accounts.models import AccountEmail, ApiToken, User, normalize_email
from core.exceptions import PermanentProviderError, Refusal

logger = logging.getLogger(__name__)

VERIFICATION_SALT = "accounts.verify-email"
TOKEN_PREFIX = "pat"
# Bearer tokens carry 256 bits of randomness, so a fast hash is enough; a slow password hash
# would only add latency to every API request.
TOKEN_SECRET_BYTES = 32
LAST_USED_RESOLUTION = timedelta(minutes=1)
# What an API client gets when it names no expiry: the settings page's preselected choice too.
API_TOKEN_DEFAULT_LIFETIME = timedelta(days=90)
# An account email not sent within this is not worth sending (its reader has moved on); nor after
# this many attempts (each message's retries and the reconcile task's re-drives together).
ACCOUNT_EMAIL_DEADLINE = timedelta(hours=6)
ACCOUNT_EMAIL_ATTEMPTS = 20
# How long one sending attempt holds its email: the send task's hard time limit, and a margin.
ACCOUNT_EMAIL_CLAIM = timedelta(seconds=tasks.EMAIL["time_limit"] + 15)


class VerificationError(Refusal):
    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


class ApiTokenLimitReached(Refusal):
    pass


def user_login_identifier(request, credentials: dict) -> str:
    """What django-axes counts failed logins against: the normalized email.

    Django passes the login as `email` (the USERNAME_FIELD, as a lazy string key) to backends,
    and as `username` in the failed-login signal; both must count against the same account.
    """
    by_name = {str(key): value for key, value in (credentials or {}).items()}
    value = by_name.get("email") or by_name.get("username")
    if not value and request is not None:
        value = request.POST.get("username", "")
    return normalize_email(value or "")


def _site_link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


# Sign-up and verification
# ------------------------------------------------------------------------------


def user_signup(
    *,
    email: str,
    display_name: str,
    password: str,
    language: str = "",
    browser_language: str = "",
    email_verified: bool = False,
) -> User | None:
    """Create an unverified account and email a verification link.

    `language` is the visitor's explicit choice of language (the switcher's), saved on the new
    account; blank leaves the account on the browser's language, and its emails are written in the
    language active now (the sign-up request's). `browser_language` is the language the sign-up
    page was shown in, noted for the emails a worker sends before the user's next visit.
    For an email that is already registered nothing is created: the owner of that address gets a
    notice (or, if still unverified, a fresh link), so sign-up never reveals who has an account
    (and a stranger's sign-up never changes that account's language).
    `email_verified`: the caller has proof the visitor reads this mailbox (a signed link that was
    emailed to it, such as a project invitation's): the account starts verified, with no
    verification email.
    Returns the new user, or None when the address was taken.
    """
    email = normalize_email(email)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=password,
                display_name=display_name.strip(),
                language=_shipped(language),
                browser_language=_shipped(browser_language),
                email_verified_at=timezone.now() if email_verified else None,
            )
    except IntegrityError:
        existing = User.objects.get(email=email)
        kind = AccountEmail.Kind.SIGNUP_NOTICE if existing.is_email_verified else AccountEmail.Kind.VERIFICATION
        account_email_queue(user=existing, kind=kind)
        return None
    if not email_verified:
        account_email_queue(user=user, kind=AccountEmail.Kind.VERIFICATION)
    return user


def _shipped(language: str | None) -> str:
    """The code if it is one of the shipped languages, else blank (the browser's language)."""
    return language if language in dict(settings.LANGUAGES) else ""


def user_make_verification_token(*, user: User) -> str:
    return signing.dumps({"user_id": user.id, "email": user.email}, salt=VERIFICATION_SALT, compress=True)


def user_verify_email(*, token: str) -> User:
    """Mark the account in the token as verified. Idempotent: a second click changes nothing."""
    try:
        payload = signing.loads(token, salt=VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise VerificationError(gettext("This verification link has expired."), expired=True) from exc
    except signing.BadSignature as exc:
        raise VerificationError(gettext("This verification link is not valid.")) from exc
    user = User.objects.filter(id=payload.get("user_id"), email=payload.get("email"), is_active=True).first()
    if user is None:
        raise VerificationError(gettext("This verification link is not valid."))
    return user_mark_email_verified(user=user)


def user_mark_email_verified(*, user: User) -> User:
    """Record that the user controls their address; keeps the first verification time."""
    User.objects.filter(id=user.id, email_verified_at__isnull=True).update(email_verified_at=timezone.now())
    user.refresh_from_db(fields=["email_verified_at"])
    return user


def user_resend_verification(*, email: str) -> None:
    """Send a new verification link if an unverified account has this address (silent otherwise)."""
    user = User.objects.filter(email=normalize_email(email), email_verified_at__isnull=True, is_active=True).first()
    if user is not None:
        account_email_queue(user=user, kind=AccountEmail.Kind.VERIFICATION)


def user_purge_unverified(*, now: datetime | None = None) -> int:
    """Delete accounts that never verified their email within the retention period."""
    cutoff = (now or timezone.now()) - settings.UNVERIFIED_ACCOUNT_RETENTION
    deleted, _ = User.objects.filter(email_verified_at__isnull=True, is_staff=False, date_joined__lt=cutoff).delete()
    if deleted:
        logger.info("accounts: purged %d unverified accounts", deleted)
    return deleted


# Profile and password reset
# ------------------------------------------------------------------------------


def user_update_profile(*, user: User, display_name: str) -> User:
    user.display_name = display_name.strip()
    user.save(update_fields=["display_name"])
    return user


class UnknownLanguage(Refusal):
    field = "language"


def user_update_language(*, user: User, language: str) -> User:
    """Save the language of the user's pages and emails: a shipped language's code, or blank for
    the browser's language (Accept-Language, else English)."""
    if language and language not in dict(settings.LANGUAGES):
        raise UnknownLanguage(gettext("That language is not available: choose one from the list."))
    user.language = language
    user.save(update_fields=["language"])
    return user


def user_note_browser_language(*, user: User, language: str) -> None:
    """Note the language the user is using the website in, for the emails sent later without a
    request (a training's result): one update, only when it changed, and never for a user with a
    saved language (theirs wins anyway). Blank counts as English, so an English visit writes
    nothing."""
    if user.language or language not in dict(settings.LANGUAGES):
        return
    if language == (user.browser_language or settings.LANGUAGE_CODE):
        return
    User.objects.filter(pk=user.pk).update(browser_language=language)
    user.browser_language = language


def user_request_password_reset(*, email: str) -> None:
    """Email a reset link if an active account has this address (silent otherwise)."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is not None and user.has_usable_password():
        account_email_queue(user=user, kind=AccountEmail.Kind.PASSWORD_RESET)


# API tokens
# ------------------------------------------------------------------------------


def _hash_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def api_token_create(*, user: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token; returns it with its secret, which is never stored and shown only now."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("The expiry must be in the future.")
    active = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
    if active >= settings.API_TOKEN_MAX_PER_USER:
        raise ApiTokenLimitReached(
            ngettext(
                "You already have %(count)d token; revoke one you no longer use to create another.",
                "You already have %(count)d tokens; revoke one you no longer use to create another.",
                active,
            )
            % {"count": active}
        )
    prefix = secrets.token_hex(6)
    raw_token = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(TOKEN_SECRET_BYTES)}"
    token = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=prefix, secret_hash=_hash_token(raw_token), expires_at=expires_at
    )
    return token, raw_token


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token. Revoking twice keeps the first revocation time."""
    ApiToken.objects.filter(id=token.id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


class TokenRejected(Refusal):
    code = "authentication_failed"
    status_code = 401
    field = None


def api_token_authenticate(*, raw_token: str) -> ApiToken:
    """Find the active token for a raw bearer token, or raise TokenRejected with the reason."""
    parts = raw_token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise TokenRejected(gettext("Invalid token."))
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.secret_hash, _hash_token(raw_token)):
        raise TokenRejected(gettext("Invalid token."))
    if token.revoked_at is not None:
        raise TokenRejected(gettext("This token has been revoked."))
    now = timezone.now()
    if token.is_expired(now):
        raise TokenRejected(gettext("This token has expired."))
    if not token.user.is_active:
        raise TokenRejected(gettext("This account is disabled."))
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        # At most one write a minute per token, not one per request.
        ApiToken.objects.filter(id=token.id).update(last_used_at=now)
        token.last_used_at = now
    return token


# Account emails
# ------------------------------------------------------------------------------


def account_email_queue(*, user: User, kind: str, language: str | None = None) -> AccountEmail:
    """Record an email to send and send it once the caller's transaction commits; if the broker is
    down then, the reconcile task sends it. One row per request: one email per request.

    The email is written in the user's saved language, else in `language` (by default the language
    active now: the one of the request that asked for it), recorded with it for the worker."""
    email = AccountEmail.objects.create(
        user=user,
        kind=kind,
        language=_shipped(translation.get_language() if language is None else language),
        deadline=timezone.now() + ACCOUNT_EMAIL_DEADLINE,
    )
    tasks.send_account_email.delay_on_commit(email.id)
    return email


def account_email_queue_legacy(*, user_id: int, kind: str) -> AccountEmail | None:
    """Record and queue the email a message from before the emails were recorded asks for (it
    names the user, not an email). Idempotent: an email of this kind recorded for the user within
    the deadline already answers it (this message's earlier delivery, or a newer request whose
    link supersedes), so a redelivered message sends nothing more. None when nothing is queued."""
    with transaction.atomic():
        # The user's row serialises two deliveries of the same message.
        user = User.objects.select_for_update().filter(id=user_id).first()
        if user is None:
            return None
        recent = timezone.now() - ACCOUNT_EMAIL_DEADLINE
        if AccountEmail.objects.filter(user=user, kind=kind, created_at__gte=recent).exists():
            return None
        # No request asked for it: the user's saved language, else the website's last one.
        return account_email_queue(user=user, kind=kind, language="")


def account_email_send(*, email_id: int, kind: str | None = None) -> bool:
    """Send a recorded email unless it is sent, given up, or being sent (or is not of `kind`, when
    given); True when it was sent now.

    The attempt claims the row first: a second delivery of the message (or a re-drive) finds it
    sent or claimed and sends nothing. A failure releases the claim and raises, for the task to
    retry (transient) or give up (permanent).
    """
    now = timezone.now()
    unsent = AccountEmail.objects.filter(id=email_id, sent_at__isnull=True, gave_up_at__isnull=True)
    if kind is not None:
        unsent = unsent.filter(kind=kind)
    claimed = unsent.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)).update(
        claimed_until=now + ACCOUNT_EMAIL_CLAIM, attempts=F("attempts") + 1, last_attempt_at=now
    )
    if not claimed:
        return False
    email = AccountEmail.objects.select_related("user").get(id=email_id)
    message = _account_email_message(email)
    if message is None:
        # Nothing to say any more: the account was verified, disabled or deleted meanwhile.
        _account_email_end(email, gave_up=True, error="No longer needed.")
        return False
    template, context = message
    try:
        send_templated_email(to=email.user.email, template=template, context=context, language=email.language)
    except Exception as exc:
        AccountEmail.objects.filter(id=email.id).update(claimed_until=None, error=str(exc)[:300])
        raise
    _account_email_end(email, gave_up=False)
    return True


def account_email_give_up(*, email_id: int, error: Exception) -> None:
    """The send task's retries ran out, or the provider refused the email for good. A permanent
    refusal ends the email (logged); a transient one leaves it to the reconcile task."""
    if not isinstance(error, PermanentProviderError):
        return
    email = AccountEmail.objects.filter(id=email_id, sent_at__isnull=True, gave_up_at__isnull=True).first()
    if email is not None:
        logger.warning("accounts: %s email %s not sent: %s", email.kind, email.id, error)
        _account_email_end(email, gave_up=True, error=str(error))


def account_email_reconcile(*, now: datetime | None = None) -> int:
    """Send again what a lost message (a broker outage) or a dead worker left unsent, and give up
    on emails past their deadline or attempt budget (logged). Returns how many were re-driven."""
    now = now or timezone.now()
    unsent = AccountEmail.objects.filter(sent_at__isnull=True, gave_up_at__isnull=True)
    for email in unsent.filter(Q(deadline__lt=now) | Q(attempts__gte=ACCOUNT_EMAIL_ATTEMPTS)):
        logger.warning(
            "accounts: gave up on %s email %s after %d attempts: %s", email.kind, email.id, email.attempts, email.error
        )
        _account_email_end(email, gave_up=True, error=email.error or "Not sent before its deadline.")
    stalled = now - timedelta(seconds=settings.REDRIVE_AFTER_SECONDS)
    redriven = 0
    for email in (
        unsent.filter(deadline__gte=now, attempts__lt=ACCOUNT_EMAIL_ATTEMPTS)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(Q(last_attempt_at__lt=stalled) | Q(last_attempt_at__isnull=True, created_at__lt=stalled))
    ):
        tasks.send_account_email.delay_on_commit(email.id)
        redriven += 1
    return redriven


def _account_email_end(email: AccountEmail, *, gave_up: bool, error: str = "") -> None:
    now = timezone.now()
    ended = {"gave_up_at": now, "error": error[:300]} if gave_up else {"sent_at": now}
    AccountEmail.objects.filter(id=email.id).update(claimed_until=None, **ended)


def _account_email_message(email: AccountEmail) -> tuple[str, dict] | None:
    """The template and context of an email, with its links made now; None when not needed any more."""
    user = email.user
    if not user.is_active:
        return None
    if email.kind == AccountEmail.Kind.VERIFICATION:
        if user.is_email_verified:
            return None
        token = user_make_verification_token(user=user)
        return "verify_email", {
            "user": user,
            "link": _site_link(reverse("accounts:verify_email", kwargs={"token": token})),
            "valid_hours": int(settings.EMAIL_VERIFICATION_MAX_AGE.total_seconds() // 3600),
        }
    if email.kind == AccountEmail.Kind.SIGNUP_NOTICE:
        return "signup_notice", {
            "user": user,
            "login_link": _site_link(reverse("accounts:login")),
            "reset_link": _site_link(reverse("accounts:password_reset")),
        }
    if not user.has_usable_password():
        return None
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return "password_reset", {
        "user": user,
        "link": _site_link(path),
        "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
