"""Reads: prompt templates, estimates, the signed LoRA link."""

from decimal import Decimal

import pytest
from django.core import signing

from generation import selectors
from generation.services.lora import lora_source
from generation.tests.factories import trained_model
from projects.models import Project


def test_prompt_templates_are_the_categorys_and_both_kinds_for_the_base_model():
    person = selectors.prompt_templates(category=Project.Category.PERSON)
    product = selectors.prompt_templates(category=Project.Category.PRODUCT)
    assert [template.key for template in person][:2] == ["headshot", "outdoor"]
    assert all("%(trigger)s" in template.text for template in person + product)
    assert selectors.prompt_templates(category=None) == person + product


def test_the_estimate_is_the_price_per_image_and_nothing_when_simulated(settings):
    settings.GENERATION_PRICE_PER_IMAGE = 0.032
    assert selectors.generation_estimate(num_outputs=4) == Decimal("0.128")
    assert selectors.generation_estimate(num_outputs=4, simulated=True) == Decimal("0")


@pytest.mark.django_db
def test_the_signed_lora_link_finds_its_model_and_nothing_else(settings):
    settings.AWS_STORAGE_BUCKET_NAME = ""
    settings.HF_TOKEN = ""
    run = trained_model()
    token = lora_source(run=run).url.split("/loras/", 1)[1].split("/")[0]
    assert selectors.lora_run_from_token(token=token) == run
    assert selectors.lora_run_from_token(token=token + "x") is None
    assert selectors.lora_run_from_token(token=signing.dumps(run.id, salt="another")) is None
