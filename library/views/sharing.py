"""Sharing: the owner's links, and the public, read-only pages behind them."""

from datetime import UTC

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from core.files import open_stored
from core.parsing import int_or_none
from generation import selectors as generation_selectors
from library import selectors
from library.services import sharing
from projects.access import Can

# What the list calls a link's state (the API answers the codes themselves).
STATE_LABELS = {
    "active": pgettext_lazy("share link state", "active"),
    "expired": pgettext_lazy("share link state", "expired"),
    "revoked": pgettext_lazy("share link state", "revoked"),
}


def _share_row(request, share) -> dict:
    state = selectors.share_state(share=share)
    return {
        "share": share,
        "state": state,
        "state_label": STATE_LABELS[state],
        "url": request.build_absolute_uri(selectors.share_url(share=share)),
        "thumbnail_url": generation_selectors.image_url(image=share.generated_image, variant="thumbnail")
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
        messages.error(request, _("The expiry is a number of days."))
        return redirect(back)
    if bool(image_id) == bool(album_id):
        messages.error(request, _("Share one image or one album."))
        return redirect(back)
    # A link is made only for an image the user may change (EDIT on its project): 403 for a viewer.
    image = (
        generation_selectors.image_get_for_user(user=request.user, image_id=image_id, capability=Can.EDIT)
        if image_id
        else None
    )
    album = selectors.share_album_for_user(user=request.user, album_id=album_id) if album_id else None
    share = sharing.share_create(user=request.user, generated_image=image, album=album, expires_in_days=days)
    messages.success(request, _link_made(share, album=album is not None))
    return redirect(f"{reverse('library:shares')}#share-{share.id}")


def _link_made(share, *, album: bool) -> str:
    """What the owner is told about a new link: what it shows, and until when (UTC, in their
    language's date format)."""
    if share.expires_at is None:
        if album:
            return _("Link made: anyone who has it can view this album until you revoke it.")
        return _("Link made: anyone who has it can view this image until you revoke it.")
    until = formats.date_format(share.expires_at.astimezone(UTC), "SHORT_DATETIME_FORMAT")
    if album:
        return _("Link made: anyone who has it can view this album until %(date)s UTC.") % {"date": until}
    return _("Link made: anyone who has it can view this image until %(date)s UTC.") % {"date": until}


@login_required
@require_POST
def share_revoke(request, share_id):
    share = selectors.share_get_for_user(user=request.user, share_id=share_id)
    sharing.share_revoke(user=request.user, share=share)
    messages.success(request, _("Link revoked: it no longer opens anything."))
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
    share = selectors.share_resolve(token=token)
    if share is None:
        return _share_missing(request)
    if request.user.id != share.user_id:
        sharing.share_record_view(share=share)
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
    share = selectors.share_resolve(token=token)
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
    share = selectors.share_resolve(token=token)
    found = selectors.share_file(share=share, object_id=object_id, variant=variant) if share else None
    if found is None:
        return _share_missing(request)
    field, content_type = found
    response = FileResponse(open_stored(field.name), content_type=content_type)
    response["Cache-Control"] = "private, max-age=300"
    return _public(response)
