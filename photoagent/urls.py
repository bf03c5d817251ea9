from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from core import views as core_views
from core.api import errors as api_errors
from library.urls import share_public_urls

urlpatterns = [
    path("", core_views.landing, name="landing"),
    path("app/", core_views.dashboard, name="dashboard"),
    path("healthz", core_views.healthz, name="healthz"),
    # gettext() for static/js/app.js, in the page's language (locale/*/LC_MESSAGES/djangojs.po).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("accounts.urls")),
    path("projects/", include("projects.urls")),
    path("invitations/", include("projects.invitation_urls")),
    path("training/", include("training.urls")),
    path("generation/", include("generation.urls")),
    path("library/", include("library.urls")),
    path("s/", include(share_public_urls)),
    path("api/v1/", include("photoagent.api_urls")),
    # Last under /api/: any other path is a JSON 404, for every method and in DEBUG too.
    re_path(r"^api(?:/|$)", api_errors.not_found_view),
    path("admin/", admin.site.urls),
]

handler400 = "core.views.bad_request"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
