from django.utils.translation import gettext
from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page numbers, except that a page or page size that is not a usable number is refused (400)
    rather than silently replaced by the default; a page past the last one stays a 404."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:  # left out or empty, as with the filters (core.api.filters)
            return self.page_size
        return self._number(raw, self.page_size_query_param, maximum=self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if not raw or raw in self.last_page_strings:
            return super().get_page_number(request, paginator)
        return self._number(raw, self.page_query_param)

    @staticmethod
    def _number(raw: str, name: str, *, maximum: int | None = None) -> int:
        number = int(raw) if raw.isascii() and raw.isdecimal() and len(raw) <= 18 else 0
        if number < 1 or (maximum is not None and number > maximum):
            if maximum is not None:
                message = gettext("Give a whole number from 1 to %(maximum)d.") % {"maximum": maximum}
            else:
                message = gettext("Give a whole number of 1 or more.")
            raise ValidationError({name: [message]})
        return number

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters
