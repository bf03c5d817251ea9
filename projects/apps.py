from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects"

    def ready(self):
        from projects import activity, pages, receivers  # noqa: F401

        pages.page_section_register(
            section=pages.Section(
                key="activity",
                template="projects/_activity.html",
                context=activity.activity_section_context,
                order=200,
            )
        )
