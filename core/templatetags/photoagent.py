from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

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
