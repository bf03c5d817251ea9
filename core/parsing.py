"""Reading values from query strings and forms, where bad input means "not given"."""


def int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
