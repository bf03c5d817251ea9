"""Schemathesis against our own OpenAPI schema, in process over WSGI, as a user with an API token:
no request may cause a 500, and every answer must be what the schema documents."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from tests.conftest import schema_path_ids

pytestmark = pytest.mark.django_db

EXAMPLES = 6
# Whether a request is valid often depends on the user's data, which no schema can say: ids must be
# of the user's own objects, an expiry in the future, a project complete. (List filters refuse what
# they cannot use; test_api_conventions checks every one of them.)
EXCLUDED = [positive_data_acceptance, negative_data_rejection]


@pytest.fixture
def wsgi_app():
    # Django closes the connection at the end of each request; in a test that would close the
    # connection holding the test's transaction. Django's own test client disconnects it too.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_no_request_the_schema_describes_breaks_the_api_or_gets_an_undocumented_answer(owned, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app)
    bearer = {"Authorization": f"Bearer {owned['secret']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletions last, so every other operation meets the owner's objects while they exist.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    failures = {}
    for operation in operations:
        # Valid requests on the owner's own objects, then invalid ones anywhere.
        strategies = {
            "valid": operation.as_strategy(path_parameters=schema_path_ids(operation.path, owned)),
            "invalid": operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        }
        for kind, strategy in strategies.items():

            @given(case=strategy)
            @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def call(case):
                case.call_and_validate(headers=bearer, excluded_checks=EXCLUDED)

            try:
                call()
            except (AssertionError, BaseExceptionGroup) as failure:
                failures[f"{operation.label} ({kind})"] = str(failure)
    assert len(operations) > 40
    assert not failures, "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())
