from rest_framework import serializers

from core.converters import ID_MAX_DIGITS

ID_MAX = 10**ID_MAX_DIGITS - 1


class IdField(serializers.IntegerField):
    """An object's id in a request body: a number no id can have is refused as invalid, not a 500."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)
