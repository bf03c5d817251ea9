"""The library in the user's language: its pages, messages and refusals; search across languages;
and "Make more like this", offered in the user's language and sent in English."""

import html
import io
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.utils import formats, timezone, translation
from PIL import ExifTags, Image

from accounts.tests.factories import UserFactory
from generation import selectors as generation_selectors
from library import selectors, wording
from library.models import Album, LibraryItem
from library.services.suggestions import album_suggestion_title
from library.tests.factories import generated_item, photo_item
from projects import services as project_services
from projects.tests.factories import PHOTOS, ProjectFactory, upload
from tests.support import api_for, messages_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def speaking(client, language: str):
    """A signed-in user whose saved language is `language`."""
    user = UserFactory(language=language)
    client.force_login(user)
    return user


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def textarea(page: str, name: str = "prompt") -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert match, f"no {name} textarea"
    return html.unescape(match.group(1)).strip()


# Pages, messages and refusals
# ------------------------------------------------------------------------------


def test_the_library_pages_speak_spanish_to_a_spanish_user(client):
    user = speaking(client, "es")
    album = Album.objects.create(user=user, name="Verano")

    home = page_text(client.get("/library/"))
    assert "<h1>Tu biblioteca</h1>" in home
    assert "Cada foto que has subido y cada imagen que has generado" in home
    assert "Álbumes sugeridos" in home
    assert "Papelera" in home
    assert "Foto subida" in home
    assert "Imagen generada" in home
    assert "Your library" not in home

    albums = page_text(client.get("/library/albums/"))
    assert "Tus propias colecciones de fotos e imágenes generadas." in albums
    assert "0 elementos" in albums
    with translation.override("es"):
        assert formats.date_format(album.created_at, "SHORT_DATE_FORMAT") in albums  # dd/mm/yyyy

    created = client.post("/library/albums/", {"name": "Invierno"}, follow=True)
    assert messages_of(created) == ["Álbum «Invierno» creado. Añade elementos desde sus páginas."]
    assert "Este álbum está vacío." in page_text(created)

    search = page_text(client.get("/library/", {"q": "xilófono espacial"}))
    assert "Nada coincide con «xilófono espacial». Prueba con otras palabras o con menos filtros." in search

    assert "La papelera está vacía." in page_text(client.get("/library/trash/"))
    assert "Aún no hay enlaces para compartir." in page_text(client.get("/library/shares/"))


def test_a_refusal_is_german_for_a_german_user_and_in_the_api_for_german_clients(client, run_on_commit):
    speaking(client, "de")
    refused = client.post("/library/albums/", {"name": "   "})
    assert refused.status_code == 400
    assert "Gib dem Album einen Namen." in page_text(refused)

    # The API keeps its codes and field names, and says the message in the client's language.
    owner, stranger = UserFactory(), UserFactory()
    theirs = generated_item(stranger, "a red barn in a snowy field at dusk", run_on_commit)
    api = api_for(owner)
    album = api.post("/api/v1/library/albums/", {"name": "Scheunen"}, format="json").json()
    answer = api.post(
        f"/api/v1/library/albums/{album['id']}/items/", {"items": [theirs.id]}, format="json", HTTP_ACCEPT_LANGUAGE="de"
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"] == "Zu deinen Alben kannst du nur Elemente aus deiner eigenen Mediathek hinzufügen."
    assert list(error["details"]) == ["items"]
    english = api.post(f"/api/v1/library/albums/{album['id']}/items/", {"items": [theirs.id]}, format="json")
    assert english.json()["error"]["message"] == "Only items in your own library can be added to your albums."


def test_a_french_user_sees_the_trash_in_french_with_its_counts(client, run_on_commit):
    user = speaking(client, "fr")
    item = photo_item(ProjectFactory(owner=user, name="Cuisine"), "coffee.jpg", "a cup of espresso", run_on_commit)
    project_services.photo_trash(photo=item.photo)

    trash = page_text(client.get("/library/trash/"))
    assert "Les photos et images que vous supprimez attendent ici 30 jours" in trash
    assert "Photo dans « Cuisine »" in trash
    assert "30 jours restants" in trash
    assert "Supprimer définitivement maintenant…" in trash


def test_a_visitor_of_a_share_link_reads_it_in_their_browsers_language(client):
    missing = client.get("/s/no-such-token/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert missing.status_code == 404
    page = page_text(missing)
    assert '<html lang="de">' in page
    assert "Dieser Link öffnet nichts" in page
    assert "Schreibgeschützt geteilt mit" in page


def test_a_suggested_album_with_no_shared_words_is_named_in_the_users_language():
    items = [LibraryItem(kind=LibraryItem.Kind.GENERATED, tags=[], created_at=timezone.now()) for _ in range(2)]
    with translation.override("es"):
        assert album_suggestion_title(items=items).startswith("Imágenes parecidas · ")


# Search across languages
# ------------------------------------------------------------------------------

ENGLISH_ITEMS = {
    "dog": "a golden retriever puppy chasing a ball on a sandy beach",
    "ramen": "a bowl of steaming ramen with a soft boiled egg",
    "train": "a steam train crossing a stone viaduct in autumn",
    "barn": "a red barn in a snowy field at dusk",
}
OTHER_LANGUAGE_ITEMS = {
    "cat": "un gato dormido en el alféizar de una ventana al sol",  # es
    "bicycle": "una bicicleta roja apoyada contra una pared de ladrillo",  # es
    "lighthouse": "ein Leuchtturm auf einer Klippe im Sturm, Wellen brechen",  # de
    "market": "ein Wochenmarkt mit frischem Obst und Gemüse",  # de
    "cake": "un gâteau d'anniversaire avec des bougies allumées sur une table",  # fr
    "violin": "une femme qui joue du violon dans un parc",  # fr
}


@pytest.fixture
def mixed_library(run_on_commit):
    """One user's library: English descriptions and Spanish, German and French ones."""
    user = UserFactory()
    names = {}
    for name, prompt in {**ENGLISH_ITEMS, **OTHER_LANGUAGE_ITEMS}.items():
        names[generated_item(user, prompt, run_on_commit).id] = name
    return user, names


def found(user, names, query) -> list[str]:
    return [names[hit.item.id] for hit in selectors.library_search(user=user, query=query)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("perro en la playa", "dog"),
        ("granero rojo en la nieve", "barn"),
        ("Hund am Strand", "dog"),
        ("japanische Nudelsuppe", "ramen"),
        ("chien sur la plage", "dog"),
        ("train à vapeur sur un viaduc", "train"),
    ],
)
def test_a_query_in_spanish_german_or_french_finds_the_english_description(mixed_library, query, expected):
    user, names = mixed_library
    assert found(user, names, query)[:1] == [expected]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cat sleeping by the window", "cat"),
        ("red bicycle against a brick wall", "bicycle"),
        ("lighthouse in a storm", "lighthouse"),
        ("fresh fruit and vegetables at a market", "market"),
        ("birthday cake with candles", "cake"),
        ("woman playing the violin in a park", "violin"),
    ],
)
def test_an_english_query_finds_a_spanish_german_or_french_description(mixed_library, query, expected):
    user, names = mixed_library
    assert found(user, names, query)[:1] == [expected]


def test_why_a_hit_was_found_is_said_in_the_users_language(client, mixed_library):
    user, _names = mixed_library
    user.language = "es"
    user.save(update_fields=["language"])
    client.force_login(user)
    page = page_text(client.get("/library/", {"q": "perro en la playa"}))
    assert "1 resultado para «perro en la playa», el mejor primero" in page
    assert "significado parecido" in page
    user.language = "fr"
    user.save(update_fields=["language"])
    page = page_text(client.get("/library/", {"q": "train à vapeur sur un viaduc"}))
    assert "correspond : train" in page  # the query's own word, as typed


# "Make more like this"
# ------------------------------------------------------------------------------


def test_make_more_like_this_is_offered_in_spanish_and_sent_in_english(client, run_on_commit):
    user = speaking(client, "es")
    item = photo_item(
        ProjectFactory(owner=user, name="Cocina"), "coffee.jpg", "a cup of espresso with latte art", run_on_commit
    )
    assert "landscape composition" in item.aesthetic

    page = page_text(client.get(f"/library/items/{item.id}/"))
    assert "Crear más como esta" in page
    assert "Si no lo cambias, se envía en inglés" in page
    offered = textarea(page)
    assert "composición horizontal" in offered
    assert "composition" not in offered
    assert offered.startswith("cup, espresso, latte art")  # the item's own words are data, kept as they are

    # Left as it was: the generation form still shows the Spanish look, with a signed note of its
    # English original, which is what goes to the provider if the user sends it unchanged.
    opened = client.get(f"/library/items/{item.id}/inspire/", {"prompt": offered, "model": "base"})
    assert opened.status_code == 302
    sent = parse_qs(urlsplit(opened["Location"]).query)
    assert sent["prompt"] == [offered]
    assert sent["model"] == ["base"]
    form = page_text(client.get(opened["Location"]))
    assert textarea(form) == offered
    assert generation_selectors.prompt_english_original(
        prompt=offered, trigger_word=None, suggestion=sent["suggestion"][0]
    ) == ("", item.aesthetic)

    # Edited: what the user wrote goes on, for the generation form to translate like any prompt.
    edited = f"{offered}, al atardecer"
    opened = client.get(f"/library/items/{item.id}/inspire/?" + urlencode({"prompt": edited, "model": "base"}))
    assert parse_qs(urlsplit(opened["Location"]).query)["prompt"] == [edited]


def test_the_looks_fixed_phrases_are_translated_and_its_own_words_are_not():
    look = "red barn, snowy field, landscape composition, dark, low-key light, colour palette of white and grey"
    with translation.override("en"):
        assert wording.look_offered(look) == look
    with translation.override("de"):
        assert wording.look_offered(look) == (
            "red barn, snowy field, Komposition im Querformat, dunkles Low-Key-Licht, Farbpalette in Weiß und Grau"
        )
    with translation.override("fr"):
        three = "square composition, bright, high-key light, colour palette of orange and red and black, photograph"
        assert wording.look_offered(three) == (
            "composition carrée, lumière vive et claire, palette de couleurs orange, rouge et noir, photographie"
        )
        # A vision model's free text is the item's data: left as it is.
        free = "a blue mug, centred, soft window light, calm"
        assert wording.look_offered(free) == free
        assert wording.prompt_to_send(look=three, typed=f"  {wording.look_offered(three)} ", max_chars=500) == three
        assert wording.prompt_to_send(look=three, typed=three, max_chars=500) == three
        assert wording.prompt_to_send(look=three, typed="une tasse bleue", max_chars=500) == "une tasse bleue"


# The description's facts
# ------------------------------------------------------------------------------


def with_camera_and_date(name: str) -> bytes:
    """A test photo with the camera and the day it was taken in its EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "Canon EOS R5"
    exif[ExifTags.Base.DateTime] = "2024:06:01 09:30:00"
    buffer = io.BytesIO()
    Image.open(PHOTOS / name).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_the_analysis_stays_english_and_the_item_page_says_its_facts_in_german(client, run_on_commit):
    user = speaking(client, "de")
    project = ProjectFactory(owner=user, name="Küche")
    # Queued from a German request and run in it (as an eager task would): the stored words are English.
    with translation.override("de"):
        with run_on_commit():
            photo = project_services.photo_upload(
                project=project, files=[upload(with_camera_and_date("coffee.jpg"), "kaffee.jpg")]
            ).accepted[0]
        with run_on_commit():
            project_services.photo_update_description(photo=photo, description="a cup of espresso on a saucer")
    item = LibraryItem.objects.get(photo=photo)
    assert item.description.endswith("Camera: Canon EOS R5. Taken 1 June 2024.")
    assert "june 2024" in item.tags
    assert "Colours: " in item.description

    page = page_text(client.get(f"/library/items/{item.id}/"))
    assert "a cup of espresso on a saucer. Farben: " in page  # the user's own words as they are
    assert "Kamera: Canon EOS R5. Aufgenommen am 1. Juni 2024." in page
    assert "Taken" not in page


def test_only_the_analysis_facts_are_translated():
    with translation.override("fr"):
        assert wording.description_shown("a dog. Colours: white, brown. 1 face. Camera: Pixel 7.") == (
            "a dog. Couleurs : blanc, marron. 1 visage. Appareil photo : Pixel 7."
        )
        assert wording.description_shown("Colours: teal. 3 faces.") == "Couleurs : bleu canard. 3 visages."
        # A vision model's description, or words that only look like a fact, stay as written.
        free = "A mug on a desk, shot with a phone camera. Colours: teal-ish and warm."
        assert wording.description_shown(free) == free
        assert wording.description_shown("") == ""
