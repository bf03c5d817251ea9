"""SendGrid as a Django email backend: the only module that imports the sendgrid SDK."""

import logging
import urllib.error
from email.utils import parseaddr

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from python_http_client import exceptions as http_exceptions
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Bcc, Cc, Content, From, Header, Mail, ReplyTo, To

from core.exceptions import PermanentProviderError, TransientProviderError

logger = logging.getLogger(__name__)

TRANSIENT_STATUSES = {408, 429, 500, 502, 503, 504}


def _address(value: str, cls):
    name, email = parseaddr(value)
    return cls(email, name or None)


def build_mail(message) -> Mail:
    """Turn a Django EmailMessage (or EmailMultiAlternatives) into a SendGrid v3 Mail."""
    mail = Mail(from_email=_address(message.from_email, From), subject=message.subject)
    for recipient in message.to:
        mail.add_to(_address(recipient, To))
    for recipient in message.cc:
        mail.add_cc(_address(recipient, Cc))
    for recipient in message.bcc:
        mail.add_bcc(_address(recipient, Bcc))
    if message.reply_to:
        mail.reply_to = _address(message.reply_to[0], ReplyTo)
    for name, value in message.extra_headers.items():  # Content-Language: the email's language
        mail.add_header(Header(name, value))
    # text/plain must come first in the content array (SendGrid rejects other orders).
    mail.add_content(Content("text/plain", message.body))
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            mail.add_content(Content("text/html", content))
    return mail


class SendGridEmailBackend(BaseEmailBackend):
    """Sends through SendGrid's v3 Mail Send API. Raises Transient/PermanentProviderError."""

    def __init__(self, fail_silently=False, **kwargs):
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.client = SendGridAPIClient(api_key=settings.SENDGRID_API_KEY, host=settings.SENDGRID_API_HOST)
        # The SDK has no default timeout: a hung API would hang the worker.
        self.client.client.timeout = settings.EMAIL_TIMEOUT

    def send_messages(self, email_messages) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                self._send(message)
            except Exception:
                if not self.fail_silently:
                    raise
            else:
                sent += 1
        return sent

    def _send(self, message) -> None:
        try:
            response = self.client.send(build_mail(message))
        except http_exceptions.HTTPError as exc:
            status = exc.status_code
            error_class = TransientProviderError if status in TRANSIENT_STATUSES else PermanentProviderError
            raise error_class(f"SendGrid answered {status}: {exc.body!r}"[:500], status_code=status) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise TransientProviderError(f"SendGrid unreachable: {exc}") from exc
        logger.info("sendgrid: accepted %s (message id %s)", message.subject, response.headers.get("X-Message-Id"))
