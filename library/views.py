from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.files import open_stored
from core.parsing import int_or_none
from core.trash import moved_to_trash
from library import selectors, services
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


def _tile(item: LibraryItem, score: float | None = None, matched=()) -> dict:
    return {"item": item, "thumbnail_url": selectors.item_thumbnail_url(item=item), "score": score, "matched": matched}


@login_required
@require_safe
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
        "projects": project_selectors.project_choices_for_user(user=request.user),
        "kinds": LibraryItem.Kind.choices,
    }
    return render(request, "library/home.html", context)


@login_required
@require_safe
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


# Sharing: the owner's links, and the public, read-only pages behind them
# ------------------------------------------------------------------------------


def _share_row(request, share) -> dict:
    from generation.selectors import image_url

    return {
        "share": share,
        "state": selectors.share_state(share=share),
        "url": request.build_absolute_uri(selectors.share_url(share=share)),
        "thumbnail_url": image_url(image=share.generated_image, variant="thumbnail")
        if share.generated_image_id
        else "",
    }


@login_required
# Every link on the page is a secret (anyone who has it can view): no cache may keep a copy.
@never_cache
@require_safe
def share_list(request):
    shares = [_share_row(request, share) for share in selectors.share_list_for_user(user=request.user)]
    return render(request, "library/shares.html", {"shares": shares})


@login_required
@require_POST
def share_new(request):
    """The "Share" button of an image or album page: make a link, then show it in the list."""
    from generation import selectors as generation_selectors

    image_id = int_or_none(request.POST.get("generated_image"))
    album_id = int_or_none(request.POST.get("album"))
    raw_days = request.POST.get("expires_in_days", "").strip()
    days = int_or_none(raw_days) if raw_days else None
    back = (
        reverse("generation:image", kwargs={"image_id": image_id})
        if image_id and not album_id
        else reverse("library:shares")
    )
    if raw_days and days is None:
        messages.error(request, "The expiry is a number of days.")
        return redirect(back)
    if bool(image_id) == bool(album_id):
        messages.error(request, "Share one image or one album.")
        return redirect(back)
    image = generation_selectors.image_get_for_user(user=request.user, image_id=image_id) if image_id else None
    album = selectors.share_album_for_user(user=request.user, album_id=album_id) if album_id else None
    try:
        share = services.share_create(user=request.user, generated_image=image, album=album, expires_in_days=days)
    except services.ShareNotAllowed as refusal:
        messages.error(request, str(refusal))
        return redirect(back)
    until = f"until {share.expires_at:%Y-%m-%d %H:%M} UTC" if share.expires_at else "until you revoke it"
    messages.success(request, f"Link made: anyone who has it can view this {'album' if album else 'image'} {until}.")
    return redirect(f"{reverse('library:shares')}#share-{share.id}")


@login_required
@require_POST
def share_revoke(request, share_id):
    share = selectors.share_get_for_user(user=request.user, share_id=share_id)
    services.share_revoke(user=request.user, share=share)
    messages.success(request, "Link revoked: it no longer opens anything.")
    return redirect("library:shares")


def _public(response):
    """What every response behind a share link carries: not indexed, and the token never leaks on."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _share_missing(request):
    return _public(render(request, "library/share_missing.html", status=404))


@require_safe
def shared_page(request, token):
    """A shared image or album, read-only and without login. Nothing else of the owner's is linked."""
    share = services.share_resolve(token=token)
    if share is None:
        return _share_missing(request)
    if request.user.id != share.user_id:
        services.share_record_view(share=share)
    if share.generated_image_id:
        image = share.generated_image
        context = {
            "image": image,
            "full_url": selectors.share_file_url(share=share, object_id=image.id, variant="full"),
        }
    else:
        context = {
            "album": share.album,
            "tiles": [
                {
                    "item": item,
                    "thumbnail_url": selectors.share_file_url(share=share, object_id=item.id, variant="thumbnail"),
                    "viewer_url": selectors.share_item_url(share=share, object_id=item.id),
                }
                for item in selectors.share_album_items(share=share)
            ],
        }
    context["share"] = share
    response = render(request, "library/shared.html", context)
    response["Cache-Control"] = "no-store"
    return _public(response)


@require_safe
def shared_item(request, token, object_id):
    """One picture of a shared album, shown in a viewer with the way back to the album and on to the
    next. Not counted as a view: the album page already was."""
    share = services.share_resolve(token=token)
    items = selectors.share_album_items(share=share) if share else []
    position = next((index for index, item in enumerate(items) if item.id == object_id), None)
    if position is None:
        return _share_missing(request)

    def viewer_url(index):
        if not 0 <= index < len(items):
            return ""
        return selectors.share_item_url(share=share, object_id=items[index].id)

    item = items[position]
    context = {
        "share": share,
        "album": share.album,
        "item": item,
        "number": position + 1,
        "count": len(items),
        "full_url": selectors.share_file_url(share=share, object_id=item.id, variant="full"),
        "album_url": selectors.share_url(share=share),
        "previous_url": viewer_url(position - 1),
        "next_url": viewer_url(position + 1),
    }
    response = render(request, "library/shared_item.html", context)
    response["Cache-Control"] = "no-store"
    return _public(response)


@require_safe
def shared_file(request, token, object_id, variant):
    """A file of the shared image or album, checked against the link; anything else is a 404."""
    from django.http import FileResponse

    share = services.share_resolve(token=token)
    found = selectors.share_file(share=share, object_id=object_id, variant=variant) if share else None
    if found is None:
        return _share_missing(request)
    field, content_type = found
    response = FileResponse(open_stored(field.name), content_type=content_type)
    response["Cache-Control"] = "private, max-age=300"
    return _public(response)


# Albums, suggested albums and duplicates
# ------------------------------------------------------------------------------

ALBUMS_PAGE_SIZE = 48


def _ids(values) -> list[int]:
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
            album = services.album_create(user=request.user, name=name)
        except services.AlbumError as refusal:
            error = str(refusal)
        else:
            messages.success(request, f"Album “{album.name}” created. Add items from their pages.")
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
    context = {"album": album, "tiles": [_tile(item) for item in page], "page": page}
    return render(request, "library/album.html", context)


def _album_change(request, album_id, change) -> HttpResponse:
    """Apply one change to the user's album and go back to it, with what happened as a message."""
    album = selectors.album_get_for_user(user=request.user, album_id=album_id)
    try:
        done = change(album)
    except services.AlbumError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, done)
    return redirect("library:album", album_id=album.id)


@login_required
@require_POST
def album_rename(request, album_id):
    def change(album):
        services.album_rename(album=album, name=request.POST.get("name", ""))
        return f"Renamed to “{album.name}”."

    return _album_change(request, album_id, change)


@login_required
@require_POST
def album_cover(request, album_id):
    item_id = int_or_none(request.POST.get("item"))

    def change(album):
        if item_id is None:
            raise services.AlbumError("Pick one of this album's items as its cover.")
        services.album_set_cover(album=album, item_id=item_id)
        return "Cover changed."

    return _album_change(request, album_id, change)


@login_required
@require_POST
def album_remove(request, album_id):
    item_ids = _ids(request.POST.getlist("items"))

    def change(album):
        if not item_ids:
            raise services.AlbumError("Select the items to remove first.")
        removed = services.album_remove_items(album=album, item_ids=item_ids)
        return f"{removed} item{pluralize(removed)} removed from the album (still in your library)."

    return _album_change(request, album_id, change)


@login_required
@require_POST
def album_delete(request, album_id):
    album = selectors.album_get_for_user(user=request.user, album_id=album_id)
    services.album_delete(album=album)
    messages.success(request, f"Album “{album.name}” deleted; its items are still in your library.")
    return redirect("library:albums")


@login_required
@require_POST
def item_add_to_album(request, item_id):
    """From the item page: into one of the user's albums, or a new one by name."""
    item = selectors.item_get_for_user(user=request.user, item_id=item_id)
    album_id = int_or_none(request.POST.get("album"))
    try:
        if album_id:
            album = selectors.album_get_for_user(user=request.user, album_id=album_id)
            added = services.album_add_items(album=album, item_ids=[item.id])
        else:
            album = services.album_create(user=request.user, name=request.POST.get("name", ""), item_ids=[item.id])
            added = 1
    except services.AlbumError as refusal:
        messages.error(request, str(refusal))
    else:
        if added:
            messages.success(request, f"Added to “{album.name}”.")
        else:
            messages.info(request, f"Already in “{album.name}”.")
    return redirect("library:item", item_id=item.id)


@login_required
@require_safe
def suggestion_list(request):
    suggestions = [
        {"suggestion": suggestion, "tiles": [_tile(item) for item in suggestion.items.all()]}
        for suggestion in selectors.album_suggestion_list_for_user(user=request.user)
    ]
    return render(request, "library/suggestions.html", {"suggestions": suggestions})


@login_required
@require_POST
def suggestion_refresh(request):
    found = len(services.album_suggestions_refresh(user=request.user))
    if found:
        messages.success(request, f"{found} suggested album{pluralize(found)} to look at.")
    else:
        messages.info(request, "No new groups of similar items found.")
    return redirect("library:suggestions")


@login_required
@require_POST
def suggestion_accept(request, suggestion_id):
    suggestion = selectors.album_suggestion_get_for_user(user=request.user, suggestion_id=suggestion_id)
    try:
        album = services.album_suggestion_accept(suggestion=suggestion, title=request.POST.get("title"))
    except services.AlbumError as refusal:
        messages.error(request, str(refusal))
        return redirect("library:suggestions")
    messages.success(request, f"Album “{album.name}” created.")
    return redirect("library:album", album_id=album.id)


@login_required
@require_POST
def suggestion_dismiss(request, suggestion_id):
    suggestion = selectors.album_suggestion_get_for_user(user=request.user, suggestion_id=suggestion_id)
    try:
        services.album_suggestion_dismiss(suggestion=suggestion)
    except services.AlbumError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, "Suggestion dismissed; it will not be proposed again.")
    return redirect("library:suggestions")


def _duplicate_entry(group) -> dict:
    copies = {item.id: len(group.copies.get(item.id, [])) for item in group.items}
    return {
        "tiles": [
            {
                **_tile(item),
                "best": item == group.best,
                "copies": copies[item.id],
                "size": "×".join(map(str, services.item_source_size(item))),
            }
            for item in group.items
        ],
        # What "keep the best" moves to the trash: the others and, in a near group, their identical copies.
        "deletes": sum(1 + copies[item.id] for item in group.items[1:]),
    }


@login_required
@require_safe
def duplicates(request):
    found = services.duplicate_groups(user=request.user)
    context = {
        "exact": [_duplicate_entry(group) for group in found.exact],
        "near": [_duplicate_entry(group) for group in found.near],
    }
    return render(request, "library/duplicates.html", context)


@login_required
@require_POST
def duplicates_keep_best(request):
    try:
        trashed = services.duplicates_keep_best(user=request.user, item_ids=_ids(request.POST.getlist("items")))
    except services.DuplicateError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request, "Kept the best; " + moved_to_trash(count=len(trashed), singular="copy", plural="copies")
        )
    return redirect("library:duplicates")


# Trash
# ------------------------------------------------------------------------------


@login_required
@require_safe
def trash(request):
    page = Paginator(selectors.trash_for_user(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "library/trash.html", {"page": page})


@login_required
@require_POST
def trash_restore(request, kind, photo_id=None, image_id=None):
    source = selectors.trash_get_for_user(user=request.user, kind=kind, object_id=photo_id or image_id)
    name = selectors.trash_entry(source=source).name
    try:
        services.trash_restore(source=source)
    except services.TrashError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, f"“{name}” restored: it is back where it was.")
    return redirect("library:trash")


@login_required
@require_http_methods(["GET", "POST"])
def trash_delete(request, kind, photo_id=None, image_id=None):
    """Delete one thing in the trash for good, after a confirmation page (GET shows it)."""
    source = selectors.trash_get_for_user(user=request.user, kind=kind, object_id=photo_id or image_id)
    if request.method == "POST":
        services.trash_delete_permanently(source=source)
        messages.success(request, "Deleted for good, with its stored files.")
        return redirect("library:trash")
    return render(request, "library/trash_confirm.html", {"entry": selectors.trash_entry(source=source), "count": 1})


@login_required
@require_http_methods(["GET", "POST"])
def trash_empty(request):
    """Delete everything in the trash for good, after a confirmation page (GET shows it)."""
    if request.method == "POST":
        deleted = services.trash_empty(user=request.user)
        messages.success(request, f"Trash emptied: {deleted} item{pluralize(deleted)} deleted for good.")
        return redirect("library:trash")
    count = selectors.trash_count_for_user(user=request.user)
    return render(request, "library/trash_confirm.html", {"entry": None, "count": count})
