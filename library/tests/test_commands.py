"""manage.py library_index: after a model change it re-embeds the stale items, in batches, and an
interrupted run loses nothing a second run does not finish."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from library import embeddings, index
from library.models import LibraryItem
from library.tests.factories import generated_items

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]

PROMPTS = ["a red tractor in a wheat field", "a lighthouse above a stormy sea", "a bowl of ramen", "a snowy barn"]


@pytest.fixture
def library(settings, run_on_commit):
    """Four items embedded by the old model, then an upgrade to the new one."""
    settings.LIBRARY_EMBEDDING_BACKEND = "library.tests.fake_embedders.WordsBackend"
    embeddings.backend().reset()
    user = UserFactory()
    items = [item for prompt in PROMPTS for item in generated_items(user, prompt, run_on_commit)]
    assert {item.embedding_model for item in items} == {"words-1"}
    settings.LIBRARY_EMBEDDING_BACKEND = "library.tests.fake_embedders.NewWordsBackend"
    new_model = embeddings.backend()
    new_model.reset()
    return new_model, user


def run(*arguments) -> str:
    out = StringIO()
    call_command("library_index", *arguments, stdout=out)
    return out.getvalue()


def models() -> list[str]:
    return list(LibraryItem.objects.order_by("id").values_list("embedding_model", flat=True))


def test_after_an_upgrade_the_stale_items_are_re_embedded_and_searched_again(library):
    new_model, user = library
    assert len(index.index_for(user.id)) == 0  # old vectors are never searched with the new model

    output = run("--batch-size", "3")

    assert "embedded=4 stale=0" in output
    assert "model=words-2" in output
    assert models() == ["words-2"] * 4
    assert len(new_model.calls) == 2  # batches of 3 items and 1
    assert len(index.index_for(user.id)) == 4
    # Nothing is stale any more: running it again embeds nothing.
    assert "embedded=0 stale=0" in run()
    assert len(new_model.calls) == 2


def test_all_re_embeds_every_item_and_user_only_one_users(library, run_on_commit):
    new_model, user = library
    other = UserFactory()
    generated_items(other, "a paper boat on a puddle", run_on_commit)  # embedded by the new model
    assert "embedded=4 stale=0" in run("--user", str(user.id))
    assert "embedded=1 " in run("--user", str(other.id), "--all")
    assert "embedded=5 stale=0" in run("--all")


def test_an_interrupted_run_keeps_its_batches_and_a_second_run_finishes(library):
    new_model, user = library
    new_model.interrupt_at_call = 2

    with pytest.raises(CommandError, match="Interrupted after re-embedding 2 items") as interrupted:
        run("--batch-size", "2")

    assert interrupted.value.returncode == 130
    assert models() == ["words-2", "words-2", "words-1", "words-1"]
    assert len(index.index_for(user.id)) == 2  # the finished ones are searched already
    assert "embedded=2 stale=0" in run("--batch-size", "2")  # and the lease was let go
    assert models() == ["words-2"] * 4


def test_a_batch_size_under_one_is_refused(library):
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        run("--batch-size", "0")
