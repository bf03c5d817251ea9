"""library.index follows the database; the command rebuilds it."""

import pytest
from django.core.management import call_command

from accounts.tests.factories import UserFactory
from generation import services as generation_services
from library import index, selectors
from library.models import LibraryItem
from library.tests.factories import generated_item

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def test_the_index_follows_new_and_deleted_items(run_on_commit):
    user = UserFactory()
    lighthouse = generated_item(user, "a lighthouse on a cliff above stormy sea", run_on_commit)
    assert selectors.library_search(user=user, query="lighthouse by the sea")[0].item == lighthouse
    cake = generated_item(user, "a chocolate birthday cake with candles", run_on_commit)
    assert selectors.library_search(user=user, query="birthday cake")[0].item == cake
    with run_on_commit():
        generation_services.image_delete(image=cake.generated_image)
    assert not LibraryItem.objects.filter(id=cake.id).exists()
    assert cake.id not in [hit.item.id for hit in selectors.library_search(user=user, query="birthday cake")]
    assert len(index.index_for(user.id)) == 1


def test_the_command_adds_missing_items_and_re_embeds(run_on_commit):
    user = UserFactory()
    item = generated_item(user, "a red tractor in a wheat field", run_on_commit)
    LibraryItem.objects.filter(id=item.id).update(embedding=None)
    item.delete()
    with run_on_commit():
        call_command("library_index")  # the item comes back and is analysed
    item = LibraryItem.objects.get(user=user)
    assert item.embedding is not None
    assert selectors.library_search(user=user, query="red tractor")[0].item == item
