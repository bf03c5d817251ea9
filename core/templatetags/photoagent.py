from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

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
    from core.money import money

    return money(amount)
