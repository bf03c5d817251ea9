from generation import services as generation_services
from library.models import LibraryItem
from projects import services as project_services
from projects.tests.factories import PHOTOS, upload


def photo_item(project, filename: str, description: str, run_on_commit) -> LibraryItem:
    """A real test photo uploaded to the project, processed, described and analysed into the library."""
    with run_on_commit():
        photo = project_services.photo_upload(
            project=project, files=[upload((PHOTOS / filename).read_bytes(), filename)]
        ).accepted[0]
    with run_on_commit():
        project_services.photo_update_description(photo=photo, description=description)
    return LibraryItem.objects.get(photo=photo)


def generated_items(user, prompt: str, run_on_commit, num_outputs: int = 1) -> list[LibraryItem]:
    """Images generated (by the demo backend) from the prompt, analysed into the user's library."""
    with run_on_commit():
        generation = generation_services.generation_create(
            user=user, training_run=None, prompt=prompt, num_outputs=num_outputs
        )
    return list(LibraryItem.objects.filter(generated_image__generation=generation).order_by("id"))


def generated_item(user, prompt: str, run_on_commit) -> LibraryItem:
    """One image generated (by the demo backend) from the prompt, analysed into the user's library."""
    [item] = generated_items(user, prompt, run_on_commit)
    return item
