"""Content-Security-Policy, framing and referrer headers on every page, and markup that needs no
inline script or style: checked on the template sources and on every page as its owner sees it."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.template import engines
from django.template.loaders.app_directories import get_app_template_dirs

from tests.test_access_matrix import PARAMETER, PUBLIC, all_routes, url_for

pytestmark = pytest.mark.django_db

BASE_DIR = Path(django_settings.BASE_DIR)
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)
# An attribute of an HTML tag: on*= handlers and style= are inline script and style.
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def our_templates():
    dirs = [Path(d) for d in engines["django"].dirs] + [
        # Our apps' own folders: not installed packages, even when the virtualenv sits in the checkout.
        Path(d)
        for d in get_app_template_dirs("templates")
        if Path(d).is_relative_to(BASE_DIR) and "site-packages" not in Path(d).parts
    ]
    for folder in dirs:
        for path in folder.rglob("*.html"):
            # Email bodies run in mail clients, never under the site's policy.
            if "emails" not in path.parts:
                yield path


def inline_code(html: str) -> list[str]:
    """Every piece of markup a strict policy would block."""
    found = [tag for tag in SCRIPT_TAG.findall(html) if "src=" not in tag and 'type="application/json"' not in tag]
    found += INLINE_HANDLER.findall(html) + STYLE_ATTRIBUTE.findall(html) + JAVASCRIPT_URL.findall(html)
    return found


def policy(response) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {name: values for name, *values in directives}


def test_templates_have_no_inline_script_handler_or_style():
    templates = list(our_templates())
    assert len(templates) > 40
    offenders = {str(path.relative_to(BASE_DIR)): inline_code(path.read_text()) for path in templates}
    assert {path: found for path, found in offenders.items() if found} == {}


def test_the_checks_find_inline_code():
    html = '<script>x()</script><a onclick="x()" href="javascript:x()">a</a><p style="color:red">'
    assert len(inline_code(html)) == 4
    assert inline_code('<script src="/static/js/app.js" defer></script>') == []
    assert inline_code('<script id="w" type="application/json">{}</script>') == []


def assert_strict_page(url: str, response):
    assert response.status_code == 200, url
    rules = policy(response)
    assert rules["script-src"] == ["'self'"], url
    assert rules["style-src"] == ["'self'"], url
    assert rules["frame-ancestors"] == ["'none'"], url
    assert rules["object-src"] == ["'none'"], url
    assert rules["base-uri"] == ["'none'"], url
    assert response["X-Frame-Options"] == "DENY", url
    assert response["X-Content-Type-Options"] == "nosniff", url
    assert inline_code(response.content.decode()) == [], url


def test_every_page_sends_a_strict_policy_and_needs_nothing_inline(owned, client):
    """Every page of the website, as its owner sees it, with the owner's objects in it."""
    client.force_login(owned["owner"])
    pages = 0
    for route in all_routes():
        if route.startswith(("admin/", "api/", *PUBLIC)):
            continue
        url = url_for(route, owned) if PARAMETER.search(route) else "/" + route
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        assert_strict_page(url, response)
        assert response["Referrer-Policy"] == "same-origin", url
        pages += 1
    assert pages > 15


def test_public_pages_send_the_strict_policy(owned, client):
    from library import selectors
    from library.models import ShareLink

    share_page = selectors.share_url(share=ShareLink.objects.get(id=owned["ids"]["share_id"]))
    for url in ("/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", share_page):
        response = client.get(url)
        assert_strict_page(url, response)
    assert response["Referrer-Policy"] == "no-referrer"
    assert client.get("/no-such-page/")["Content-Security-Policy"] == response["Content-Security-Policy"]


def test_admin_pages_send_the_strict_policy(operator_client):
    for url in ("/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/"):
        assert_strict_page(url, operator_client.get(url))


def test_api_docs_relax_styles_only_and_load_every_script_from_files(client):
    for url in ("/api/v1/docs/", "/api/v1/redoc/"):
        response = client.get(url)
        assert response.status_code == 200
        rules = policy(response)
        assert rules["script-src"] == ["'self'"]
        assert rules["style-src"] == ["'self'", "'unsafe-inline'"]
        assert rules["frame-ancestors"] == ["'none'"]
        html = response.content.decode()
        sources = re.findall(r'<script src="([^"]+)"', html)
        assert sources, url
        assert len(sources) == len(SCRIPT_TAG.findall(html)), url
        for source in sources:
            assert source.startswith("/"), source
            assert client.get(source).status_code == 200, source
