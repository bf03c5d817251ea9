from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation"

    def ready(self):
        # Once the registry is ready: the section reads generation's models and selectors.
        from generation import checks, project_page  # noqa: F401 (checks registers itself)
        from generation.activity import IMAGE_LINK, JOB_LINK
        from projects import activity, pages

        pages.page_section_register(section=project_page.SECTION)
        activity.activity_link_register(key="generation", link=JOB_LINK)
        activity.activity_link_register(key="image", link=IMAGE_LINK)
