from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.tests.factories import UserFactory
from projects import services as project_services
from projects.models import Project
from projects.tests.factories import PHOTOS, ProjectFactory, upload
from training.backends.demo import simulated_safetensors
from training.models import TrainingRun


def trained_model(
    *, owner=None, category=Project.Category.PRODUCT, photos=(), backend="demo", project=None, **fields
) -> TrainingRun:
    """A succeeded training run with a stored LoRA; `photos` are files in projects/tests/photos.
    Of a new project, or of `project` when given."""
    project = project or ProjectFactory(owner=owner or UserFactory(), category=category, status=Project.Status.TRAINED)
    if photos:
        files = [upload((PHOTOS / name).read_bytes(), name=name) for name in photos]
        for photo in project_services.photo_upload(project=project, files=files).accepted:
            project_services.photo_process(photo_id=photo.id)
        Project.objects.filter(id=project.id).update(status=Project.Status.TRAINED)
    lora = default_storage.save(
        f"users/{project.owner_id}/training/lora.safetensors", ContentFile(simulated_safetensors())
    )
    return TrainingRun.objects.create(
        project=project,
        status=TrainingRun.Status.SUCCEEDED,
        steps=1000,
        lora_rank=16,
        learning_rate=4e-4,
        resolution="512,768,1024",
        trigger_word=project.trigger_word,
        backend=backend,
        estimated_cost=1,
        estimated_minutes=10,
        lora_file=lora,
        completed_at=timezone.now(),
        **fields,
    )
