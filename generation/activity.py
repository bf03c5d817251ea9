"""Links of the project activity feed to generation jobs and images (registered in GenerationConfig.ready())."""

from django.urls import reverse

from generation.models import GeneratedImage, Generation
from projects.models import Project


def job_links(project: Project, ids: set[int]) -> dict[int, str]:
    """The project's jobs among these ids that still exist."""
    alive = Generation.objects.filter(project=project, id__in=ids).values_list("id", flat=True)
    return {job_id: reverse("generation:job", kwargs={"generation_id": job_id}) for job_id in alive}


def image_links(project: Project, ids: set[int]) -> dict[int, str]:
    """The project's images among these ids that still exist outside the trash."""
    alive = GeneratedImage.objects.filter(generation__project=project, id__in=ids, trashed_at__isnull=True).values_list(
        "id", flat=True
    )
    return {image_id: reverse("generation:image", kwargs={"image_id": image_id}) for image_id in alive}
