"""Form conventions that hold for every form of the product."""

import importlib
import inspect

import pytest
from django import forms

from core.forms import RadioSelect

APPS = ["accounts", "projects", "training", "generation", "library"]


def product_forms():
    found = []
    for app in APPS:
        try:
            module = importlib.import_module(f"{app}.forms")
        except ModuleNotFoundError:
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


def test_every_radio_group_of_the_product_leaves_out_the_blank_choice():
    radios = [
        (form.__name__, name, type(field.widget))
        for form in product_forms()
        for name, field in form.base_fields.items()
        if isinstance(field.widget, forms.RadioSelect)
    ]
    assert radios, "no radio groups found: the check would pass by checking nothing"
    assert [radio for radio in radios if not issubclass(radio[2], RadioSelect)] == []


def test_a_required_radio_group_offers_only_real_answers_none_preselected():
    field = forms.ChoiceField(
        choices=[("", "---------"), ("person", "Person"), ("product", "Product")], widget=RadioSelect
    )
    html = field.widget.render("category", "")
    assert "---------" not in html
    assert "checked" not in html
    assert html.count('type="radio"') == 2
    optional = forms.ChoiceField(required=False, choices=field.choices, widget=RadioSelect)
    assert "---------" in optional.widget.render("category", "")


@pytest.mark.django_db
def test_the_new_project_form_has_no_preselected_blank_category(client):
    from accounts.tests.factories import UserFactory

    client.force_login(UserFactory())
    page = client.get("/projects/new/").content.decode()
    assert "---------" not in page
    radios = [tag for tag in page.split("<input")[1:] if 'name="category"' in tag]
    assert len(radios) == 2
    assert not any("checked" in tag.split(">", 1)[0] for tag in radios)
