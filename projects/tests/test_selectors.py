"""projects.selectors: what a user may read of projects and photos, and the new trigger word."""

import pytest
from django.http import Http404
from django.utils import timezone

from accounts.tests.factories import UserFactory
from projects import selectors, services
from projects.models import Photo
from projects.tests.factories import ProjectFactory, photo_upload

pytestmark = pytest.mark.django_db


def test_another_users_project_reads_as_missing(project):
    assert selectors.project_get_for_user(user=project.owner, project_id=project.id) == project
    with pytest.raises(Http404):
        selectors.project_get_for_user(user=UserFactory(), project_id=project.id)


def test_the_photo_count_leaves_out_failed_and_trashed_photos(project):
    photos = services.photo_upload(project=project, files=[photo_upload(n) for n in range(1, 4)]).accepted
    Photo.objects.filter(id=photos[0].id).update(status=Photo.Status.FAILED)
    Photo.objects.filter(id=photos[1].id).update(trashed_at=timezone.now())
    [listed] = selectors.project_list_for_user(user=project.owner)
    assert listed.photo_count == 1
    assert list(selectors.photo_list_for_project(project=project)) == [photos[0], photos[2]]


def test_a_trashed_photo_is_found_only_where_the_trash_is_asked_for(project):
    [photo] = services.photo_upload(project=project, files=[photo_upload(1)]).accepted
    Photo.objects.filter(id=photo.id).update(trashed_at=timezone.now())
    with pytest.raises(Http404):
        selectors.photo_get_for_user(user=project.owner, photo_id=photo.id)
    assert selectors.photo_get_for_user(user=project.owner, photo_id=photo.id, trashed=True) == photo
    assert selectors.photo_get_for_user(user=project.owner, photo_id=photo.id, trashed=None) == photo
    assert list(selectors.photo_trash_for_user(user=project.owner)) == [photo]
    with pytest.raises(Http404):
        selectors.photo_get_for_user(user=UserFactory(), photo_id=photo.id, trashed=None)


def test_a_new_trigger_word_avoids_the_owners_taken_words(owner):
    taken = ProjectFactory(
        owner=owner, name="Mug", trigger_word=selectors.project_new_trigger_word(owner=owner, name="Mug")
    )
    word = selectors.project_new_trigger_word(owner=owner, name="Mug")
    assert word.startswith("MUG")
    assert len(word) == 6
    assert word != taken.trigger_word
    assert selectors.project_new_trigger_word(owner=owner, name="Ö!").startswith("SUBJ")  # too few letters
