from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency
from django.conf import settings
from django.utils import translation

CURRENCY = "USD"


def money(amount) -> str:
    """Every money amount the product shows, on pages, in emails, messages and the admin: US
    dollars with two decimals, written the way the active language writes them ("$1,250.50" in
    English, "1.250,50 $" in German, "1 250,50 $US" in French)."""
    if amount is None or amount == "":
        return ""
    cents = Decimal(str(amount)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return format_currency(cents, CURRENCY, locale=_locale())


def _locale() -> str:
    # Babel's name of the language ("de", "en_US" for "en-us"); English when none is active.
    return translation.to_locale(translation.get_language() or settings.LANGUAGE_CODE)
