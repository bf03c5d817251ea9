from django.contrib import admin
from django.urls import include, path

from core import views as core_views
from library.urls import share_public_urls

urlpatterns = [
    path("", core_views.landing, name="landing"),
    path("app/", core_views.dashboard, name="dashboard"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("projects/", include("projects.urls")),
    path("training/", include("training.urls")),
    path("generation/", include("generation.urls")),
    path("library/", include("library.urls")),
    path("s/", include(share_public_urls)),
    path("api/v1/", include("photoagent.api_urls")),
    path("admin/", admin.site.urls),
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
