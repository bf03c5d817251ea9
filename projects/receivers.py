"""Invariants of the projects app's own models, kept however a row is written (services, admin,
fixtures): a new project's owner is its first member."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from projects.models import Membership, Project, Role


@receiver(post_save, sender=Project, dispatch_uid="project_owner_is_a_member")
def project_owner_is_a_member(sender, instance: Project, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        Membership.objects.get_or_create(project=instance, user_id=instance.owner_id, defaults={"role": Role.OWNER})
