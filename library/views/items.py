"""The library page (search by meaning, or everything newest first) and one item's page."""

from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core.exceptions import ProviderError
from core.parsing import int_or_none
from generation import selectors as generation_selectors
from generation.forms import GenerationForm
from library import selectors, wording
from library.models import LibraryItem
from projects import selectors as project_selectors

PAGE_SIZE = 48


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def search_filters(params) -> dict:
    """Filters from a query string; bad values are ignored rather than refused."""
    return {
        "project_id": int_or_none(params.get("project")),
        "kind": params.get("kind") if params.get("kind") in LibraryItem.Kind.values else None,
        "since": _date(params.get("since")),
        "until": _date(params.get("until")),
        "favourites": params.get("favourites") in ("1", "true", "on"),
    }


def tile(item: LibraryItem, score: float | None = None, matched=(), why: str = "") -> dict:
    """What a grid of items shows of one (a search result also why it was found)."""
    return {
        "item": item,
        "thumbnail_url": selectors.item_thumbnail_url(item=item),
        "score": score,
        "matched": matched,
        "why": why,
    }


@login_required
@require_safe
def library_home(request):
    """Search by meaning when there is a query; otherwise the whole library, newest first."""
    query = request.GET.get("q", "").strip()
    filters = search_filters(request.GET)
    if query:
        try:
            hits = selectors.library_search(user=request.user, query=query, **filters)
        except ProviderError:
            # The search model is a remote provider (LIBRARY_EMBEDDING_BACKEND) and it failed.
            messages.error(
                request, _("Search is unavailable for a moment: the search model did not answer. Try again.")
            )
            hits = []
        tiles = [tile(hit.item, hit.score, hit.matched, hit.why) for hit in hits]
        page = None
    else:
        page = Paginator(selectors.item_list_for_user(user=request.user, **filters), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        tiles = [tile(item) for item in page]
    context = {
        "query": query,
        "filters": filters,
        "tiles": tiles,
        "page": page,
        "projects": project_selectors.project_choices_for_user(user=request.user),
        "kinds": LibraryItem.Kind.choices,
    }
    return render(request, "library/home.html", context)


@login_required
@require_safe
def item_detail(request, item_id):
    item = selectors.item_get_for_user(user=request.user, item_id=item_id)
    similar = [tile(hit.item, hit.score) for hit in selectors.library_similar(item=item, user=request.user, limit=12)]
    context = {
        "item": item,
        # Albums and share links are changes to the item's project: not for a viewer.
        "can_edit": bool(selectors.editable_item_ids(user=request.user, item_ids=[item.id])),
        # Albums are personal: the reader's own that hold it, never another member's.
        "in_albums": item.albums.filter(user=request.user),
        "description": wording.description_shown(item.description),
        "full_url": selectors.item_full_url(item=item),
        "similar": similar,
    }
    context["inspiration"] = inspiration_form(user=request.user, item=item)
    return render(request, "library/item.html", context)


def _look(item: LibraryItem) -> str:
    """The item's look as a prompt: its aesthetic, else its caption (the user's own words)."""
    return item.aesthetic or item.caption


def inspiration_form(*, user, item: LibraryItem) -> dict:
    """ "Make more like this": the item's look as an editable prompt, in the user's language
    (library/wording.py), and the user's models (newest first, then the base model).

    It is submitted (GET) to item_inspire, which opens the generation form with the prompt and
    model filled in, so it works the same on every generation backend.
    """
    models = generation_selectors.model_choices_for_user(user=user)
    choices = GenerationForm(models=models).fields["model"].choices
    _english, offered = wording.offer(_look(item), max_chars=settings.GENERATION_PROMPT_MAX_CHARS)
    return {
        "prompt": offered,
        "described": bool(item.aesthetic),
        "choices": choices,
        "selected": choices[0][0],
        "has_models": bool(models),
        "max_chars": settings.GENERATION_PROMPT_MAX_CHARS,
    }


@login_required
@require_safe
def item_inspire(request, item_id):
    """The "Make more like this" form: the generation form opens with the look still in the user's
    language and a signed note of its English original, so sent unchanged the English goes (with no
    translation call); edited, it goes through translation like any prompt typed in the form."""
    item = selectors.item_get_for_user(user=request.user, item_id=item_id)
    max_chars = settings.GENERATION_PROMPT_MAX_CHARS
    typed = request.GET.get("prompt", "")
    prompt = wording.prompt_to_send(look=_look(item), typed=typed, max_chars=max_chars)
    query = {"prompt": prompt, "model": request.GET.get("model", "")}
    english, offered = wording.offer(_look(item), max_chars=max_chars)
    if prompt == english and offered != english:
        query["prompt"] = offered
        query["suggestion"] = generation_selectors.prompt_suggestion_token(shown=offered, english=english)
    return redirect(f"{reverse('generation:new')}?{urlencode(query)}")
