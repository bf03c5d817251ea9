"""Query-string filters of the API's list endpoints, declared once as a serializer: the schema
documents each parameter from its field (`extend_schema(parameters=[TheFilters])`) and the view
validates with it, so a value that cannot be used is a 400 naming the parameter, never ignored."""

from rest_framework import serializers


class QueryFilters(serializers.Serializer):
    """Subclass with one field per query parameter, each optional (`required=False` or a default)."""


def query_filters(filters: type[QueryFilters], request) -> dict:
    # An empty value (`?project=`, as a form with an untouched field sends) means "not given".
    given = {name: value for name, value in request.query_params.items() if value != ""}
    serializer = filters(data=given)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
