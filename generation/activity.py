"""Links of the project activity feed to generation jobs and images (registered in GenerationConfig.ready())."""

from django.db.models import QuerySet
from django.urls import reverse

from generation.models import GeneratedImage, Generation
from projects.activity import Link
from projects.models import Project


def _alive_jobs(project: Project, ids: set[int]) -> QuerySet:
    """The project's jobs among these ids that still exist."""
    return Generation.objects.filter(project=project, id__in=ids)


def _alive_images(project: Project, ids: set[int]) -> QuerySet:
    """The project's images among these ids that still exist outside the trash."""
    return GeneratedImage.objects.filter(generation__project=project, id__in=ids, trashed_at__isnull=True)


JOB_LINK = Link(
    alive=_alive_jobs, url=lambda project, job_id: reverse("generation:job", kwargs={"generation_id": job_id})
)
IMAGE_LINK = Link(
    alive=_alive_images, url=lambda project, image_id: reverse("generation:image", kwargs={"image_id": image_id})
)
