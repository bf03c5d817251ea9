"""Publishing the LoRA with the real huggingface_hub client against a local Hub stand-in."""

import pytest

from standins.hub import start_hub_standin
from standins.replicate import start_replicate_standin
from training import services
from training.models import TrainingRun
from training.tests.factories import poll_now, ready_project
from training.weights import check_safetensors

pytestmark = pytest.mark.django_db


@pytest.fixture
def providers(settings):
    replicate, hub = start_replicate_standin(), start_hub_standin()
    settings.TRAINING_BACKEND = "training.backends.replicate.ReplicateTrainingBackend"
    settings.REPLICATE_API_TOKEN = "r8_standin"
    settings.REPLICATE_BASE_URL = replicate.url
    settings.REPLICATE_OWNER = "acme"
    settings.HF_TOKEN = "hf_standin"
    settings.HF_ENDPOINT = hub.url
    settings.HF_NAMESPACE = "acme-loras"
    yield replicate, hub
    for server in (replicate, hub):
        server.shutdown()
        server.server_close()


def trained_run(replicate, run_on_commit) -> TrainingRun:
    project = ready_project(name="Blue Mug")
    with run_on_commit():
        run = services.training_start(project=project)
    run.refresh_from_db()
    replicate.advance(run.provider_training_id, "succeeded")
    with run_on_commit():
        poll_now(run.id)
    run.refresh_from_db()
    return run


def test_the_lora_goes_to_a_private_repo_with_a_model_card(providers, run_on_commit):
    replicate, hub = providers
    run = trained_run(replicate, run_on_commit)
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert run.hf_repo_id == f"acme-loras/blue-mug-{run.project_id}-run-{run.id}"
    repo = hub.repos[run.hf_repo_id]
    assert repo["private"] is True
    assert run.hf_commit == repo["commits"][0]["id"]
    import io

    check_safetensors(io.BytesIO(repo["files"]["lora.safetensors"]))
    card = repo["files"]["README.md"].decode()
    assert "base_model: black-forest-labs/FLUX.1-dev" in card
    assert f"Trigger word: `{run.trigger_word}`" in card


def test_publishing_twice_makes_one_commit(providers, run_on_commit):
    replicate, hub = providers
    run = trained_run(replicate, run_on_commit)
    # A crash after the commit but before recording it: the retry must reuse the commit.
    TrainingRun.objects.filter(id=run.id).update(status=TrainingRun.Status.PUBLISHING, hf_commit="", hf_repo_id="")
    services.training_publish(run_id=run.id)
    run.refresh_from_db()
    assert len(hub.repos[run.hf_repo_id]["commits"]) == 1
    assert run.hf_commit == hub.repos[run.hf_repo_id]["commits"][0]["id"]


def test_a_hub_outage_is_retried_and_then_publishes(providers, run_on_commit):
    from core.exceptions import TransientProviderError

    replicate, hub = providers
    hub.fail_commit_with = 503
    project = ready_project()
    with run_on_commit():
        run = services.training_start(project=project)
    run.refresh_from_db()
    replicate.advance(run.provider_training_id, "succeeded")
    poll_now(run.id)
    with pytest.raises(TransientProviderError):
        services.training_publish(run_id=run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.PUBLISHING
    services.training_publish(run_id=run.id)  # the task's retry
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert len(hub.repos[run.hf_repo_id]["commits"]) == 1
