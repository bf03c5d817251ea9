"""Limits refuse with a reason and queue nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from generation import services
from generation.models import Generation, GenerationLimit
from generation.tests.factories import trained_model

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instant_demo")]


def _job(user, **fields):
    defaults = {
        "prompt": "x",
        "num_outputs": 4,
        "seed": 1,
        "guidance": 3,
        "steps": 28,
        "lora_scale": 1,
        "backend": "replicate",
        "estimated_cost": Decimal("0.128"),
    }
    return Generation.objects.create(user=user, **{**defaults, **fields})


def test_the_concurrent_job_limit_refuses_and_queues_nothing(settings):
    settings.GENERATION_CONCURRENT_JOBS = 1
    run = trained_model()
    _job(run.project.owner, status=Generation.Status.RUNNING)
    with pytest.raises(services.GenerationNotAllowed, match="1 generation"):
        services.generation_create(user=run.project.owner, training_run=run, prompt="x")
    assert Generation.objects.count() == 1


def test_images_per_day_count_the_last_24_hours_but_not_free_failures(settings):
    settings.GENERATION_IMAGES_PER_DAY = 8
    user = UserFactory()
    _job(user, status=Generation.Status.SUCCEEDED, cost=Decimal("0.128"))
    _job(user, status=Generation.Status.FAILED)  # failed before anything was made: free
    old = _job(user, status=Generation.Status.SUCCEEDED, cost=Decimal("0.128"))
    Generation.objects.filter(id=old.id).update(created_at=timezone.now() - timedelta(days=2))
    services.generation_create(user=user, training_run=None, prompt="a lighthouse", num_outputs=4)
    with pytest.raises(services.GenerationNotAllowed, match="limit of 8 a day"):
        services.generation_create(user=user, training_run=None, prompt="a lighthouse", num_outputs=1)


def test_monthly_spend_and_per_user_overrides(settings):
    settings.GENERATION_MONTHLY_SPEND = 0.2
    # Paid images (created here, never submitted): simulated ones would cost nothing.
    settings.GENERATION_BASE_BACKEND = "generation.backends.replicate.ReplicateGenerationBackend"
    user = UserFactory()
    _job(user, status=Generation.Status.SUCCEEDED, cost=Decimal("0.128"))
    with pytest.raises(services.GenerationNotAllowed, match=r"monthly limit of \$0.20 "):
        services.generation_create(user=user, training_run=None, prompt="x", num_outputs=4)
    GenerationLimit.objects.create(user=user, monthly_spend=Decimal("5.00"))
    job = services.generation_create(user=user, training_run=None, prompt="x", num_outputs=4)
    # The override lets the same request through: a paid job, queued with its price.
    assert (job.status, job.backend, job.estimated_cost) == (Generation.Status.QUEUED, "replicate", Decimal("0.128"))
    assert Generation.objects.filter(user=user).count() == 2


def test_prompt_length_and_empty_prompts_are_refused(settings):
    settings.GENERATION_PROMPT_MAX_CHARS = 50
    user = UserFactory()
    with pytest.raises(services.GenerationNotAllowed, match="limit is 50"):
        services.generation_create(user=user, training_run=None, prompt="a" * 51)
    with pytest.raises(services.GenerationNotAllowed, match="Write a prompt"):
        services.generation_create(user=user, training_run=None, prompt="   ")
    assert not Generation.objects.exists()


def test_another_users_model_cannot_be_used():
    run = trained_model()
    with pytest.raises(services.GenerationNotAllowed, match="trained models"):
        services.generation_create(user=UserFactory(), training_run=run, prompt="x")


def test_simulated_images_cost_nothing_and_never_count_against_the_monthly_spend(settings, run_on_commit):
    settings.GENERATION_MONTHLY_SPEND = 0.05
    user = UserFactory()
    for _ in range(3):  # 6 images: $0.19 if they were charged, over the $0.05 limit
        with run_on_commit():
            services.generation_create(user=user, training_run=None, prompt="a lighthouse", num_outputs=2)
    jobs = list(Generation.objects.filter(user=user))
    assert [job.status for job in jobs] == [Generation.Status.SUCCEEDED] * 3
    assert {(job.estimated_cost, job.cost) for job in jobs} == {(Decimal("0"), Decimal("0"))}
    assert services.generation_usage(user=user).spent_this_month == 0
    # A row written before this rule, with a price on it, is still not spend.
    _job(user, backend="demo", status=Generation.Status.SUCCEEDED, cost=Decimal("0.128"))
    assert services.generation_usage(user=user).spent_this_month == 0


def test_the_generation_form_shows_simulated_images_as_free(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get("/generation/new/").content.decode()
    assert "cost nothing" in page
    assert "$0.03" not in page
