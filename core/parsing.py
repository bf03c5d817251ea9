"""Reading values from query strings and forms, where bad input means "not given"."""

# The range of a 64-bit database column; SQLite refuses to compare a larger number (OverflowError).
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def int_or_none(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if _INT_MIN <= number <= _INT_MAX else None
