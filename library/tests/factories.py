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
