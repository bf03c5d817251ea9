"""The provider fuzzer in `make test`: a bounded number of examples (`--fuzz-examples`)."""

import json
import time
from pathlib import Path

import pytest
import time_machine
from celery.app.task import Task as CeleryTask
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.stateful import run_state_machine_as_test

from fuzz.machine import World, machine_for, patched_apply_async
from generation.tests.factories import trained_model
from training.tests.factories import ready_project


@pytest.fixture
def world(transactional_db, settings, monkeypatch):
    traveller = time_machine.travel(timezone.now(), tick=False)
    clock = traveller.start()
    project = ready_project()
    model = trained_model(owner=project.owner, backend="replicate")
    world = World(settings_fixture=settings, traveller=clock, owner=project.owner, project=project, model=model)
    # Celery messages go to the fuzzer's queue, to be run in any order, late, twice or never.
    monkeypatch.setattr(CeleryTask, "apply_async", patched_apply_async(world))
    # The clients' waits between their own retries (Retry-After, the Hub's backoff) take no wall
    # time: the fuzzer's clock is time-machine's, moved by its rules.
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    yield world
    world.close()
    traveller.stop()


def test_every_provider_answer_ends_somewhere(world, request):
    examples = request.config.getoption("--fuzz-examples")
    report = request.config.getoption("--fuzz-report")
    try:
        run_state_machine_as_test(
            machine_for(world),
            settings=hypothesis_settings(
                max_examples=examples,
                stateful_step_count=30,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        print(world.totals.line())
        if report:
            Path(report).write_text(json.dumps(world.totals.as_dict()))
    assert world.totals.runs >= examples
