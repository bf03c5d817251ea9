from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from core import failures
from core.money import money

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """A timedelta in words: "15 minutes", "1 hour"."""
    if not value:
        return ""
    now = timezone.now()
    return timesince(now - value, now)


@register.filter(name="money")
def money_filter(amount) -> str:
    """{{ amount|money }}: "$20.00" (core.money)."""
    return money(amount)


@register.filter
def failure(text: str) -> str:
    """A run's or job's stored failure text in the reader's language (core/failures.py)."""
    return failures.shown(text)
