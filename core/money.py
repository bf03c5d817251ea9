from decimal import ROUND_HALF_UP, Decimal


def money(amount) -> str:
    """Every money amount the product shows, on pages, in emails, messages and the admin: US
    dollars with two decimals and thousands separators ("$20.00", "$1,250.50")."""
    if amount is None or amount == "":
        return ""
    cents = Decimal(str(amount)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"-${-cents:,.2f}" if cents < 0 else f"${cents:,.2f}"
