"""How much a person model's images look like the person: their faces against the training photos'."""

import statistics

from django.core.files.storage import default_storage

from generation.models import GeneratedImage, Generation
from projects import faces, imaging
from projects.models import Photo, Project


def likeness_from_distance(distance: float) -> int:
    """0-100: 100 at a distance of 0.3 or less (clearly the same person), 50 at dlib's 0.6 threshold."""
    return max(0, min(100, round((0.9 - distance) / 0.6 * 100)))


def generation_score_likeness(*, generation_id: int) -> None:
    """Compare the faces in a person model's images with the faces of its training photos."""
    generation = Generation.objects.select_related("project").filter(id=generation_id).first()
    if generation is None or generation.project is None or generation.project.category != Project.Category.PERSON:
        return
    references = [
        descriptor
        for descriptor in Photo.objects.filter(
            project=generation.project, status=Photo.Status.READY, face_descriptor__isnull=False
        ).values_list("face_descriptor", flat=True)
        if descriptor
    ]
    for image in GeneratedImage.objects.filter(generation_id=generation.id, face_count__isnull=True):
        with default_storage.open(image.file.name, "rb") as stored:
            report = faces.describe_faces(imaging.analysis_image(stored))
        distance = None
        if report.descriptor is not None and references:
            distance = round(
                statistics.median(faces.descriptor_distance(report.descriptor, ref) for ref in references), 4
            )
        GeneratedImage.objects.filter(id=image.id).update(
            face_count=report.count,
            likeness_distance=distance,
            likeness=likeness_from_distance(distance) if distance is not None else None,
        )
