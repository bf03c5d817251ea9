from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Generation"

    def ready(self):
        # Once the registry is ready: the section reads generation's models and selectors.
        from generation import project_page
        from projects import pages

        pages.page_section_register(section=project_page.SECTION)
