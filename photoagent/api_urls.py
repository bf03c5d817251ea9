from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

app_name = "api"

# Swagger UI and Redoc style their pages inline, and Redoc searches in a worker; their scripts are
# all files (the split view serves Swagger's initialiser as one), so scripts stay 'self' only.
docs_policy = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("projects.api.urls")),
    path("", include("training.api.urls")),
    path("", include("generation.api.urls")),
    path("", include("library.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The pages render only HTML templates, so DRF's OPTIONS description of them would be a 500: no OPTIONS.
    path(
        "docs/",
        docs_policy(
            SpectacularSwaggerSplitView.as_view(
                url_name="api:schema", metadata_class=None, template_name="api/swagger_ui.html"
            )
        ),
        name="docs",
    ),
    path(
        "redoc/",
        docs_policy(
            SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html", metadata_class=None)
        ),
        name="redoc",
    ),
]
