from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from library import selectors, services
from library.models import LibraryItem
from projects import selectors as project_selectors

PAGE_SIZE = 48


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def search_filters(params) -> dict:
    """Filters from a query string; bad values are ignored rather than refused."""
    return {
        "project_id": _int(params.get("project")),
        "kind": params.get("kind") if params.get("kind") in LibraryItem.Kind.values else None,
        "since": _date(params.get("since")),
        "until": _date(params.get("until")),
        "favourites": params.get("favourites") in ("1", "true", "on"),
    }


def _tile(item: LibraryItem, score: float | None = None, matched=()) -> dict:
    return {"item": item, "thumbnail_url": selectors.item_thumbnail_url(item=item), "score": score, "matched": matched}


@login_required
def library_home(request):
    """Search by meaning when there is a query; otherwise the whole library, newest first."""
    query = request.GET.get("q", "").strip()
    filters = search_filters(request.GET)
    if query:
        tiles = [
            _tile(hit.item, hit.score, hit.matched)
            for hit in services.library_search(user=request.user, query=query, **filters)
        ]
        page = None
    else:
        page = Paginator(selectors.item_list_for_user(user=request.user, **filters), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        tiles = [_tile(item) for item in page]
    context = {
        "query": query,
        "filters": filters,
        "tiles": tiles,
        "page": page,
        "projects": project_selectors.project_list_for_user(user=request.user).only("id", "name"),
        "kinds": LibraryItem.Kind.choices,
    }
    return render(request, "library/home.html", context)


@login_required
def item_detail(request, item_id):
    item = selectors.item_get_for_user(user=request.user, item_id=item_id)
    similar = [_tile(hit.item, hit.score) for hit in services.library_similar(item=item, limit=12)]
    context = {"item": item, "full_url": selectors.item_full_url(item=item), "similar": similar}
    context["inspiration"] = inspiration_form(user=request.user, item=item)
    return render(request, "library/item.html", context)


# Inspiration: "Make more like this"
# ------------------------------------------------------------------------------


def inspiration_form(*, user, item: LibraryItem) -> dict:
    """The item's look as an editable prompt, and the user's models (newest first, then the base model).

    It is submitted (GET) to the generation form, which opens with the prompt and model filled in,
    so it works the same on every generation backend.
    """
    from django.conf import settings

    from generation import selectors as generation_selectors
    from generation.forms import GenerationForm

    models = generation_selectors.model_choices_for_user(user=user)
    choices = GenerationForm(models=models).fields["model"].choices
    return {
        "prompt": (item.aesthetic or item.caption)[: settings.GENERATION_PROMPT_MAX_CHARS],
        "described": bool(item.aesthetic),
        "choices": choices,
        "selected": choices[0][0],
        "has_models": bool(models),
        "max_chars": settings.GENERATION_PROMPT_MAX_CHARS,
    }
