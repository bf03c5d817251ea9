"""Stored files: deleting them once a deletion commits, and sweeping those no record names.

Every app's files live under `users/<user id>/` and are named by FileFields; this module finds
those fields through `apps.get_models()`, so it names no app's model.
"""

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models, router
from django.db.models.deletion import Collector
from django.utils import timezone

from core.tasks import delete_stored_files

logger = logging.getLogger(__name__)


def storage_url(name: str, *, expire: int) -> str:
    """The address of a stored object, presigned for `expire` seconds (S3: django-storages'
    `url(name, expire=...)`, which Django's base Storage.url does not declare)."""
    url: Callable[..., str] = default_storage.url
    return url(name, expire=expire)


def storage_delete_files(*, names: list[str]) -> None:
    """Delete stored objects after the surrounding transaction commits, with retries."""
    if names:
        delete_stored_files.delay_on_commit(names)


def _file_fields(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields if isinstance(field, models.FileField)]


def _models_with_files() -> Iterator[tuple[type[models.Model], list[str]]]:
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = _file_fields(model)
        if fields:
            yield model, fields


def storage_files_of(*, instances: Iterable[models.Model]) -> list[str]:
    """The stored files of these rows and of every row their deletion cascades to.

    Read with Django's own deletion collector, so it follows every app's foreign keys; call it in
    the transaction that deletes them.
    """
    instances = list(instances)
    if not instances:
        return []
    collector = Collector(using=router.db_for_write(type(instances[0])))
    collector.collect(instances)
    querysets = [model._base_manager.filter(pk__in=[obj.pk for obj in objs]) for model, objs in collector.data.items()]
    querysets += list(collector.fast_deletes)
    names = []
    for queryset in querysets:
        fields = _file_fields(queryset.model)
        if fields:
            names += [name for row in queryset.values_list(*fields) for name in row if name]
    return names


def _stored_names(folder: str) -> Iterator[str]:
    folders, files = default_storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from _stored_names(f"{folder}/{sub}")


def _referenced_names(prefix: str) -> set[str]:
    """Every file name under `prefix` that a row of any model names."""
    names: set[str] = set()
    for model, fields in _models_with_files():
        under = models.Q()
        for field in fields:
            under |= models.Q(**{f"{field}__startswith": prefix})
        for row in model._base_manager.filter(under).values_list(*fields):
            names.update(name for name in row if name and name.startswith(prefix))
    return names


def storage_sweep(*, older_than: timedelta) -> list[str]:
    """Delete stored files no record names, older than `older_than`; returns their names.

    A worker killed between storing a file and recording it, a lost deletion message, or a
    concurrent attempt that lost its race leaves such files. `older_than` must exceed the longest
    task, so a file stored by a live attempt that has yet to record it is never taken.
    """
    cutoff = timezone.now() - older_than
    removed: list[str] = []
    if not default_storage.exists("users"):
        return removed
    for user_folder in default_storage.listdir("users")[0]:
        if not user_folder.isdigit():
            continue
        referenced = _referenced_names(f"users/{user_folder}/")
        for name in _stored_names(f"users/{user_folder}"):
            if name not in referenced and default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
                removed.append(name)
    if removed:
        logger.info("storage sweep: removed %d unreferenced files", len(removed))
    return removed
