"""The API's one error path: refusals and provider errors become the common error body."""

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.api.errors import exception_handler
from core.exceptions import PermanentProviderError, Refusal, TransientProviderError


def answer(exc):
    request = Request(APIRequestFactory().post("/api/v1/anything"))
    response = exception_handler(exc, {"request": request, "view": None})
    return response.status_code, response.data


def test_a_refusal_is_a_400_invalid_with_its_message_for_the_whole_request():
    assert answer(Refusal("You are already training this project.")) == (
        400,
        {
            "error": {
                "code": "invalid",
                "message": "You are already training this project.",
                "details": {"non_field_errors": ["You are already training this project."]},
            }
        },
    )


def test_a_refusal_about_one_field_names_it():
    status, body = answer(Refusal("That word is taken.", field="trigger_word"))
    assert status == 400
    assert body["error"]["details"] == {"trigger_word": ["That word is taken."]}


def test_a_refusal_keeps_its_own_status_and_code():
    class Gone(Refusal):
        code = "gone"
        status_code = 410
        field = None

    assert answer(Gone("Deleted for good.")) == (
        410,
        {"error": {"code": "gone", "message": "Deleted for good.", "details": {}}},
    )


@pytest.mark.parametrize("error", [TransientProviderError, PermanentProviderError])
def test_a_provider_error_is_a_503_with_the_providers_words(error):
    status, body = answer(error("Replicate answered 502: Bad Gateway"))
    assert status == 503
    assert body["error"] == {
        "code": "provider_unavailable",
        "message": "Replicate answered 502: Bad Gateway",
        "details": {},
    }
