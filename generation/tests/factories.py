from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.tests.factories import UserFactory
from generation import services
from generation.models import Generation
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


def start(run_on_commit, run=None, **fields) -> Generation:
    run = run or trained_model(backend="replicate")
    fields = {"prompt": "on a marble counter", "num_outputs": 2, "seed": 1234, **fields}
    with run_on_commit():
        generation = services.generation_create(user=run.project.owner, training_run=run, **fields)
    generation.refresh_from_db()
    return generation


def poll(generation: Generation, run_on_commit) -> Generation:
    """The job's next poll comes due and a worker runs it (and whatever it queues)."""
    Generation.objects.filter(id=generation.id).update(next_poll_at=timezone.now())
    with run_on_commit():
        services.generation_sync(generation_id=generation.id)
    generation.refresh_from_db()
    return generation


def stored_files(generation: Generation) -> list[str]:
    folder = f"users/{generation.user_id}/generations/{generation.id}"
    return default_storage.listdir(folder)[1] if default_storage.exists(folder) else []


def fetches(replicate, generation: Generation) -> list:
    return [
        r for r in replicate.requests if r.method == "GET" and r.path == f"/v1/predictions/{generation.provider_id}"
    ]


def crashed_while_submitting(run=None, **fields) -> Generation:
    """A job whose worker died after marking it running, before recording the provider's id."""
    run = run or trained_model(backend="replicate")
    fields = {"prompt": "on a marble counter", "num_outputs": 2, "seed": 1234, **fields}
    generation = services.generation_create(user=run.project.owner, training_run=run, **fields)  # task not run
    Generation.objects.filter(id=generation.id).update(status=Generation.Status.RUNNING, started_at=timezone.now())
    generation.refresh_from_db()
    return generation
