"""A refusal that escapes a website view becomes an error message on the page the request came from."""

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore
from django.test import RequestFactory

from accounts.tests.factories import UserFactory
from core.exceptions import Refusal
from core.middleware import RefusalMessageMiddleware
from library.models import Album

pytestmark = pytest.mark.django_db


def _request(method: str, path: str, **headers):
    request = getattr(RequestFactory(), method)(path, headers=headers)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _handle(request, exception):
    return RefusalMessageMiddleware(lambda request: None).process_exception(request, exception)


def test_a_refused_post_goes_back_to_its_page_with_the_message():
    request = _request("post", "/library/albums/1/rename/", Referer="http://testserver/library/albums/1/?page=2")
    response = _handle(request, Refusal("Give the album a name."))
    assert response.status_code == 302
    assert response["Location"] == "http://testserver/library/albums/1/?page=2"
    assert [str(message) for message in get_messages(request)] == ["Give the album a name."]
    assert [message.level_tag for message in get_messages(request)] == ["error"]


@pytest.mark.parametrize("referer", ["", "https://elsewhere.example/page/", "//elsewhere.example/", "javascript:x"])
def test_a_refused_post_from_elsewhere_or_nowhere_goes_home(referer):
    request = _request("post", "/library/albums/1/rename/", Referer=referer)
    response = _handle(request, Refusal("No."))
    assert response["Location"] == "/"
    assert [str(message) for message in get_messages(request)] == ["No."]


def test_a_refused_get_goes_home_rather_than_asking_again():
    request = _request("get", "/library/trash/", Referer="http://testserver/library/trash/")
    assert _handle(request, Refusal("No."))["Location"] == "/"


def test_api_paths_and_other_errors_are_left_to_their_own_handling():
    request = _request("post", "/api/v1/albums/", Referer="http://testserver/library/")
    assert _handle(request, Refusal("No.")) is None
    assert list(get_messages(request)) == []
    assert _handle(_request("post", "/library/albums/"), ValueError("boom")) is None


def test_a_view_refusing_through_the_stack_lands_back_on_its_page(client):
    owner = UserFactory()
    album = Album.objects.create(user=owner, name="Summer")
    client.force_login(owner)
    page = f"/library/albums/{album.id}/"
    response = client.post(f"{page}rename/", {"name": "  "}, headers={"Referer": f"http://testserver{page}"})
    assert response.status_code == 302
    assert response["Location"] == f"http://testserver{page}"
    assert [str(message) for message in get_messages(response.wsgi_request)] == ["Give the album a name."]
    album.refresh_from_db()
    assert album.name == "Summer"


def test_a_view_can_say_where_its_refusals_go(client):
    client.force_login(UserFactory())
    response = client.post(
        "/library/duplicates/keep-best/", {"items": ["1"]}, headers={"Referer": "https://elsewhere.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/library/duplicates/"
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Pick a group of at least two duplicates."
    ]
