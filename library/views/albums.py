"""Albums (the user's own, and the suggested ones) and adding an item to one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.parsing import int_or_none
from library import selectors
from library.services import albums, suggestions
from library.views.items import PAGE_SIZE, tile
from projects.access import Can

ALBUMS_PAGE_SIZE = 48


def ids_from(values) -> list[int]:
    """The numeric ids among the posted values."""
    return [value for value in map(int_or_none, values) if value is not None]


def _cover_url(album) -> str:
    return selectors.item_thumbnail_url(item=album.display_cover) if album.display_cover else ""


@login_required
@require_http_methods(["GET", "POST"])
def album_list(request):
    """The user's albums with their covers, and a form to start a new one."""
    name, error = "", ""
    if request.method == "POST":
        name = request.POST.get("name", "")
        try:
            album = albums.album_create(user=request.user, name=name)
        except albums.AlbumError as refusal:
            error = str(refusal)
        else:
            messages.success(request, _("Album “%(name)s” created. Add items from their pages.") % {"name": album.name})
            return redirect("library:album", album_id=album.id)
    page = Paginator(selectors.album_list_for_user(user=request.user), ALBUMS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    cards = [{"album": album, "cover_url": _cover_url(album)} for album in selectors.album_attach_covers(albums=page)]
    context = {"cards": cards, "page": page, "name": name, "error": error}
    return render(request, "library/albums.html", context, status=400 if error else 200)


@login_required
@require_safe
def album_detail(request, album_id):
    album = selectors.album_get_for_user(user=request.user, album_id=album_id)
    page = Paginator(selectors.album_items(album=album), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"album": album, "tiles": [tile(item) for item in page], "page": page}
    return render(request, "library/album.html", context)


def _album_change(request, album_id, change) -> HttpResponse:
    """Apply one change to the user's album and go back to it, with what happened as a message."""
    album = selectors.album_get_for_user(user=request.user, album_id=album_id)
    messages.success(request, change(album))
    return redirect("library:album", album_id=album.id)


@login_required
@require_POST
def album_rename(request, album_id):
    def change(album):
        albums.album_rename(album=album, name=request.POST.get("name", ""))
        return _("Renamed to “%(name)s”.") % {"name": album.name}

    return _album_change(request, album_id, change)


@login_required
@require_POST
def album_cover(request, album_id):
    item_id = int_or_none(request.POST.get("item"))

    def change(album):
        if item_id is None:
            raise albums.AlbumError(_("Pick one of this album's items as its cover."))
        albums.album_set_cover(album=album, item_id=item_id)
        return _("Cover changed.")

    return _album_change(request, album_id, change)


@login_required
@require_POST
def album_remove(request, album_id):
    item_ids = ids_from(request.POST.getlist("items"))

    def change(album):
        if not item_ids:
            raise albums.AlbumError(_("Select the items to remove first."))
        removed = albums.album_remove_items(album=album, item_ids=item_ids)
        return ngettext(
            "%(count)s item removed from the album (still in your library).",
            "%(count)s items removed from the album (still in your library).",
            removed,
        ) % {"count": removed}

    return _album_change(request, album_id, change)


@login_required
@require_POST
def album_delete(request, album_id):
    album = selectors.album_get_for_user(user=request.user, album_id=album_id)
    albums.album_delete(album=album)
    messages.success(
        request, _("Album “%(name)s” deleted; its items are still in your library.") % {"name": album.name}
    )
    return redirect("library:albums")


@login_required
@require_POST
def item_add_to_album(request, item_id):
    """From the item page: into one of the user's albums, or a new one by name."""
    # Putting an item in an album is a change to the item's project: a viewer is refused (403).
    item = selectors.item_get_for_user(user=request.user, item_id=item_id, capability=Can.EDIT)
    album_id = int_or_none(request.POST.get("album"))
    if album_id:
        album = selectors.album_get_for_user(user=request.user, album_id=album_id)
        added = albums.album_add_items(album=album, item_ids=[item.id])
    else:
        album = albums.album_create(user=request.user, name=request.POST.get("name", ""), item_ids=[item.id])
        added = 1
    if added:
        messages.success(request, _("Added to “%(name)s”.") % {"name": album.name})
    else:
        messages.info(request, _("Already in “%(name)s”.") % {"name": album.name})
    return redirect("library:item", item_id=item.id)


@login_required
@require_safe
def suggestion_list(request):
    proposals = [
        {"suggestion": suggestion, "tiles": [tile(item) for item in suggestion.items.all()]}
        for suggestion in selectors.album_suggestion_list_for_user(user=request.user)
    ]
    return render(request, "library/suggestions.html", {"suggestions": proposals})


@login_required
@require_POST
def suggestion_refresh(request):
    found = len(suggestions.album_suggestions_refresh(user=request.user))
    if found:
        messages.success(
            request,
            ngettext("%(count)s suggested album to look at.", "%(count)s suggested albums to look at.", found)
            % {"count": found},
        )
    else:
        messages.info(request, _("No new groups of similar items found."))
    return redirect("library:suggestions")


@login_required
@require_POST
def suggestion_accept(request, suggestion_id):
    suggestion = selectors.album_suggestion_get_for_user(user=request.user, suggestion_id=suggestion_id)
    album = suggestions.album_suggestion_accept(suggestion=suggestion, title=request.POST.get("title"))
    messages.success(request, _("Album “%(name)s” created.") % {"name": album.name})
    return redirect("library:album", album_id=album.id)


@login_required
@require_POST
def suggestion_dismiss(request, suggestion_id):
    suggestion = selectors.album_suggestion_get_for_user(user=request.user, suggestion_id=suggestion_id)
    suggestions.album_suggestion_dismiss(suggestion=suggestion)
    messages.success(request, _("Suggestion dismissed; it will not be proposed again."))
    return redirect("library:suggestions")
