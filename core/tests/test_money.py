"""Every money amount shown (pages, emails, messages, admin) reads as dollars with two decimals,
written the way the active language writes amounts."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from core.money import money

BASE_DIR = Path(__file__).resolve().parents[2]
APPS = ["core", "accounts", "projects", "training", "generation", "library"]


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (20.0, "$20.00"),
        (Decimal("20.0"), "$20.00"),
        (Decimal("0.032"), "$0.03"),
        (Decimal("0.128"), "$0.13"),
        (0, "$0.00"),
        (Decimal("1250.5"), "$1,250.50"),
        (None, ""),
    ],
)
def test_money_has_two_decimals(amount, shown):
    assert money(amount) == shown


@pytest.mark.parametrize(
    ("language", "shown", "negative"),
    [
        ("en", "$1,250.50", "-$0.13"),
        ("de", "1.250,50\xa0$", "-0,13\xa0$"),
        ("es", "1.250,50\xa0US$", "-0,13\xa0US$"),
        ("fr", "1\u202f250,50\xa0$US", "-0,13\xa0$US"),
    ],
)
def test_money_is_written_the_way_the_language_writes_it(language, shown, negative):
    from django.utils import translation

    with translation.override(language):
        assert money(Decimal("1250.5")) == shown
        assert money(Decimal("-0.128")) == negative


def test_money_outside_any_language_is_english():
    from django.utils import translation

    with translation.override(None):
        assert money(20) == "$20.00"


def test_no_template_writes_a_dollar_sign_before_a_raw_amount():
    """`${{ x }}` shows whatever the number's own repr is ($20.0, $0.128): use `{{ x|money }}`."""
    offenders = [
        f"{path.relative_to(BASE_DIR)}: {line.strip()}"
        for path in (BASE_DIR / "templates").rglob("*")
        if path.is_file()
        for line in path.read_text().splitlines()
        if re.search(r"\$\s*\{\{", line)
    ]
    assert offenders == []


def test_no_message_formats_a_dollar_amount_itself():
    """f"...${amount}" in code: use core.money.money(amount)."""
    offenders = [
        f"{path.relative_to(BASE_DIR)}: {line.strip()}"
        for app in APPS
        for path in (BASE_DIR / app).rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts and path.name != "money.py"
        for line in path.read_text().splitlines()
        if re.search(r"\$\{", line)
    ]
    assert offenders == []


@pytest.mark.django_db
def test_the_generation_form_shows_limits_as_money(client, settings):
    from accounts.tests.factories import UserFactory

    settings.GENERATION_MONTHLY_SPEND = 20.0
    settings.GENERATION_BASE_BACKEND = "generation.backends.replicate.ReplicateGenerationBackend"
    settings.GENERATION_BACKEND = "generation.backends.replicate.ReplicateGenerationBackend"
    client.force_login(UserFactory())
    page = client.get("/generation/new/").content.decode()
    assert "this month $0.00 of $20.00" in page
    assert "About $0.03 per image" in page


@pytest.mark.django_db
def test_a_spend_refusal_states_money_with_two_decimals(settings):
    from accounts.tests.factories import UserFactory
    from generation import services

    settings.GENERATION_MONTHLY_SPEND = 0.1
    settings.GENERATION_BASE_BACKEND = "generation.backends.replicate.ReplicateGenerationBackend"
    refusal = services.generation_refusal(user=UserFactory(), prompt="a lighthouse", num_outputs=4, base_model=True)
    assert refusal == "These images (about $0.13) would take you over your monthly limit of $0.10 ($0.00 used)."


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["generation/generation", "training/trainingrun", "generation/generationlimit"])
def test_the_admin_lists_money_with_two_decimals(admin_client, page):
    from decimal import Decimal

    from accounts.tests.factories import UserFactory
    from generation.models import Generation, GenerationLimit
    from generation.tests.factories import trained_model

    run = trained_model(backend="replicate", actual_cost=Decimal("1.5"))
    user = UserFactory()
    Generation.objects.create(
        user=user,
        prompt="x",
        num_outputs=4,
        seed=1,
        guidance=3,
        steps=28,
        lora_scale=1,
        backend="replicate",
        estimated_cost=Decimal("0.128"),
        cost=Decimal("0.128"),
    )
    GenerationLimit.objects.create(user=user, monthly_spend=Decimal("5"))
    shown = {"generation/generation": "$0.13", "training/trainingrun": "$1.50", "generation/generationlimit": "$5.00"}
    assert shown[page] in admin_client.get(f"/admin/{page}/").content.decode()
    # The record's own page too.
    record = {"generation/generation": Generation.objects.get().id, "training/trainingrun": run.id}.get(page)
    if record:
        assert shown[page] in admin_client.get(f"/admin/{page}/{record}/change/").content.decode()
