"""URL path converters."""

# Ids are 64-bit columns: a longer number can name no object, and SQLite refuses to even compare
# it (OverflowError, a 500). Such a path matches no route, so it is an ordinary 404.
ID_MAX_DIGITS = 18


class IdConverter:
    regex = f"[0-9]{{1,{ID_MAX_DIGITS}}}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)
