"""Builds and sends the account emails from templates (text and HTML), in the recipient's language."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def email_language(user=None, fallback: str = "") -> str:
    """The language of an email to `user`: their saved one, else `fallback` (the language of the
    request that asked for it), else the one they last used the website in (`browser_language`:
    what a worker's email, with no request, goes by), else English. Wrap anything an email's
    context says in words (a note, a reason) in `translation.override(email_language(user))`."""
    shipped = dict(settings.LANGUAGES)
    for language in (getattr(user, "language", ""), fallback, getattr(user, "browser_language", "")):
        if language in shipped:
            return language
    return settings.LANGUAGE_CODE


def send_templated_email(*, to: str, template: str, context: dict, language: str = "") -> None:
    """Render templates/emails/<template>_{subject,body}.txt and .html in the language of an email
    to the context's `user` (`email_language`, with `language`, the asking request's, as the
    fallback), then send."""
    language = email_language(context.get("user"), language)
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    with translation.override(language):
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        text = render_to_string(f"emails/{template}_body.txt", context)
        html = render_to_string(f"emails/{template}_body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers={"Content-Language": language})
    message.attach_alternative(html, "text/html")
    message.send()
