from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self):
        # Once the registry is ready: the section reads training's models and services.
        from projects import activity, pages
        from training import project_page
        from training.activity import RUN_LINK

        pages.page_section_register(section=project_page.SECTION)
        activity.activity_link_register(key="run", link=RUN_LINK)
