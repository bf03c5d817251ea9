"""A stateful fuzzer of provider behaviour (Hypothesis rule-based state machine).

Each example starts one training run and up to two generation jobs through the real services and
tasks, with the real replicate, huggingface_hub and sendgrid clients pointed at stand-ins
(fuzz/standins.py) whose behaviour Hypothesis draws: scripted statuses per training and
prediction, their outputs, HTTP faults on any route, webhooks delivered, lost, duplicated,
reordered, early or forged, secret rotations, user cancels. Celery messages go to a queue of the
fuzzer's own, so they can also be run late, twice or never (as a broker restart or a redelivery
would), and the clock (time-machine) moves forward by the rules and by beat.

At the end of each example the clock is driven past every deadline, running beat and every due
message, and the invariants are checked: every run and job ended by its deadline; one email per
ended training (none for a user's cancel); at most one training or prediction created per run or
job; no image stored twice; provider requests per run and job under a bound derived from the
deadlines and backoff; no task raised an unclassified exception.
"""

import base64
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from celery.app.trace import build_tracer
from celery.exceptions import Retry
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from core.exceptions import ProviderError
from core.ratelimit import limit_cache
from fuzz.standins import (
    ERRORS,
    HUB_ROUTES,
    HUB_TOKEN,
    PREDICTION_OUTCOMES,
    REPLICATE_ROUTES,
    REPLICATE_TOKEN,
    SENDGRID_KEY,
    TRAINING_OUTCOMES,
    FuzzHub,
    FuzzReplicate,
    FuzzSendGrid,
    Script,
    start,
)
from generation import services as generation_services
from generation import tasks as generation_tasks  # noqa: F401 (registers the tasks the fuzzer runs)
from generation.models import GeneratedImage, Generation, GenerationLimit
from photoagent.celery import app as celery_app
from standins.replicate import sign
from training import services as training_services
from training import tasks as training_tasks  # noqa: F401
from training.models import TrainingLimit, TrainingRun

# Celery tasks the fuzzer runs; the others (library analysis, likeness) do no provider work.
PROVIDER_TASKS = ("training.", "generation.")
SKIPPED_TASKS = ("generation.score_likeness",)
BEAT = {"training.reconcile_runs": 10, "generation.reconcile_jobs": 15}
MAX_DRAIN_STEPS = 800


@dataclass
class Message:
    id: str
    name: str
    args: tuple
    kwargs: dict
    eta: float
    retries: int = 0


@dataclass
class Totals:
    runs: int = 0
    jobs: int = 0
    stuck: int = 0
    duplicate_emails: int = 0
    missing_emails: int = 0
    duplicate_creates: int = 0
    duplicate_images: int = 0
    duplicate_commits: int = 0
    unclassified: int = 0
    over_bound: int = 0
    max_requests_per_run: int = 0
    problems: list = field(default_factory=list)

    def line(self) -> str:
        return (
            f"providers: runs={self.runs} jobs={self.jobs} stuck={self.stuck} duplicate_emails={self.duplicate_emails} "
            f"duplicate_creates={self.duplicate_creates} unclassified={self.unclassified} "
            f"max_requests_per_run={self.max_requests_per_run}"
        )

    def as_dict(self) -> dict:
        return {name: value for name, value in self.__dict__.items()}


class World:
    """The stand-ins, the message queue, the clock and the shared fixtures of every example."""

    def __init__(self, *, settings_fixture, traveller, owner, project, model):
        self.replicate = start(FuzzReplicate())
        self.hub = start(FuzzHub())
        self.sendgrid = start(FuzzSendGrid())
        self.traveller = traveller
        self.owner, self.project, self.model = owner, project, model
        self.queue: list[Message] = []
        self.totals = Totals()
        self.tracers: dict = {}
        self.client = Client(raise_request_exception=False)
        self.unclassified: list[str] = []
        self._configure(settings_fixture)
        TrainingLimit.objects.update_or_create(user=owner, defaults={"runs_per_day": 10**6, "monthly_spend": 100_000})
        GenerationLimit.objects.update_or_create(
            user=owner, defaults={"concurrent_jobs": 10, "images_per_day": 10**6, "monthly_spend": 100_000}
        )

    def _configure(self, s) -> None:
        s.SITE_URL = "https://testserver"  # webhooks are sent (to the fuzzer's mailbox)
        s.TRAINING_BACKEND = "training.backends.replicate.ReplicateTrainingBackend"
        s.GENERATION_BACKEND = "generation.backends.replicate.ReplicateGenerationBackend"
        s.GENERATION_BASE_BACKEND = "generation.backends.replicate.ReplicateGenerationBackend"
        s.REPLICATE_API_TOKEN = REPLICATE_TOKEN
        s.REPLICATE_BASE_URL = self.replicate.url
        s.REPLICATE_OWNER = "acme"
        s.REPLICATE_WEBHOOK_SECRET = ""
        s.REPLICATE_TIMEOUT = 0.3
        s.REPLICATE_GENERATION_WAIT_SECONDS = 1
        s.TRAINING_MAX_WEIGHTS_BYTES = 64 * 1024
        s.REPLICATE_DATA_URI_MAX_BYTES = 64 * 1024
        s.HF_TOKEN = HUB_TOKEN
        s.HF_NAMESPACE = "acme"
        s.HF_ENDPOINT = self.hub.url
        s.EMAIL_BACKEND = "integrations.sendgrid.SendGridEmailBackend"
        s.SENDGRID_API_KEY = SENDGRID_KEY
        s.SENDGRID_API_HOST = self.sendgrid.url
        s.EMAIL_TIMEOUT = 1

    def close(self) -> None:
        for server in (self.replicate, self.hub, self.sendgrid):
            server.shutdown()
            server.server_close()

    # Messages
    # --------------------------------------------------------------------------

    def enqueue(self, task, args, kwargs, options) -> None:
        if not task.name.startswith(PROVIDER_TASKS) or task.name in SKIPPED_TASKS:
            return
        eta = options.get("eta")
        when = eta.timestamp() if eta else time.time() + float(options.get("countdown") or 0)
        message_id = options.get("task_id") or uuid.uuid4().hex
        self.queue.append(
            Message(message_id, task.name, tuple(args or ()), dict(kwargs or {}), when, options.get("retries", 0))
        )

    def execute(self, message: Message) -> None:
        """Run one message as a worker would: retries go back to the queue, failures run on_failure."""
        task = celery_app.tasks[message.name]
        tracer = self.tracers.get(message.name)
        if tracer is None:
            tracer = self.tracers[message.name] = build_tracer(
                message.name, task, eager=False, propagate=False, app=celery_app, hostname="fuzz@local"
            )
        request = {
            "id": message.id,
            "retries": message.retries,
            "is_eager": False,
            "delivery_info": {"is_eager": False, "redelivered": False},
            "hostname": "fuzz@local",
            "headers": {},
        }
        result = tracer(message.id, list(message.args), message.kwargs, request)
        info = result.info
        if info is not None and info.state == "FAILURE":
            error = info.retval
            if not isinstance(error, ProviderError | Retry):
                self.unclassified.append(f"{message.name}{message.args}: {type(error).__name__}: {error}")

    def due(self) -> list[Message]:
        now = time.time()
        return [message for message in self.queue if message.eta <= now]

    def run_due(self, limit: int = 300) -> None:
        for _ in range(limit):
            due = self.due()
            if not due:
                return
            message = min(due, key=lambda m: m.eta)
            self.queue.remove(message)
            self.execute(message)

    def beat(self) -> None:
        for name in BEAT:
            self.execute(Message(uuid.uuid4().hex, name, (), {}, time.time()))

    # The clock
    # --------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move the clock on; beat runs at every moment something falls due on the way (a deadline,
        a poll, a provider step), as it would every 10 seconds. Workers run nothing meanwhile: that
        is the rules' choice."""
        target = time.time() + seconds
        while True:
            step = min(target, self.next_event()) - time.time()
            self.traveller.shift(timedelta(seconds=max(step, 0)))
            self.beat()
            self.replicate.emit_webhooks()
            if time.time() >= target:
                return

    # Webhooks
    # --------------------------------------------------------------------------

    def post_webhook(self, delivery: dict, *, mode: str = "ok") -> int:
        body = json.dumps(delivery["payload"]).encode()
        secret, timestamp = self.replicate.secret, None
        if mode == "array":
            body = json.dumps([delivery["payload"]]).encode()
        elif mode == "forged":
            secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        elif mode == "stale":
            timestamp = int(time.time()) - 3600
        headers = (
            {}
            if mode == "unsigned"
            else sign(body, webhook_id=delivery["webhook_id"], secret=secret, timestamp=timestamp)
        )
        path = delivery["url"].removeprefix(settings.SITE_URL)
        response = self.client.post(path, body, content_type="application/json", **headers)
        if response.status_code >= 500 and response.status_code != 503:
            self.unclassified.append(f"webhook {path} answered {response.status_code}")
        return response.status_code

    # One example
    # --------------------------------------------------------------------------

    def begin(self) -> None:
        for server in (self.replicate, self.hub, self.sendgrid):
            server.reset()
        self.queue.clear()
        self.unclassified.clear()
        cache.clear()  # the webhook secret, rate-limit counts: nothing carries over between examples
        limit_cache.clear()
        # A failed example may have left work active: the next one starts clean.
        TrainingRun.objects.filter(project=self.project, status__in=TrainingRun.ACTIVE).update(
            status=TrainingRun.Status.FAILED, error_kind="user_canceled", completed_at=timezone.now()
        )
        Generation.objects.filter(user=self.owner, status__in=Generation.ACTIVE).update(
            status=Generation.Status.FAILED, completed_at=timezone.now()
        )
        self.run_ids: list[int] = []
        self.job_ids: list[int] = []
        self.user_canceled: set = set()

    def start_training(self) -> None:
        run = training_services.training_start(project=self.project)
        self.run_ids.append(run.id)

    def start_generation(self, *, num_outputs: int) -> None:
        job = generation_services.generation_create(
            user=self.owner,
            training_run=self.model,
            prompt=f"on a marble counter, job {uuid.uuid4().hex[:12]}",
            num_outputs=num_outputs,
        )
        self.job_ids.append(job.id)

    def quiet(self) -> bool:
        if TrainingRun.objects.filter(id__in=self.run_ids, status__in=TrainingRun.ACTIVE).exists():
            return False
        if Generation.objects.filter(id__in=self.job_ids, status__in=Generation.ACTIVE).exists():
            return False
        unannounced = TrainingRun.objects.filter(id__in=self.run_ids, notified_at__isnull=True, email_error="").exclude(
            error_kind="user_canceled"
        )
        return not unannounced.exists() and not self.queue

    def next_event(self) -> float:
        """When something can next happen: a message, a poll, a deadline, a re-drive, a provider step."""
        now = time.time()
        times = [message.eta for message in self.queue]
        for run in TrainingRun.objects.filter(id__in=self.run_ids, status__in=TrainingRun.ACTIVE):
            times.append(training_services.state_deadline(run).timestamp() + 1)
            if run.next_poll_at:
                times.append(run.next_poll_at.timestamp())
            if run.lease_until:
                times.append(run.lease_until.timestamp() + 1)
            times.append(now + settings.REDRIVE_AFTER_SECONDS)
        for job in Generation.objects.filter(id__in=self.job_ids, status__in=Generation.ACTIVE):
            times.append(generation_services.phase_deadline(job).timestamp() + 1)
            if job.next_poll_at:
                times.append(job.next_poll_at.timestamp() + 11)
            times.append(now + settings.REDRIVE_AFTER_SECONDS)
        for remote in self.replicate.remotes.values():
            times += [remote.created + after for after, _ in remote.script.steps]
        times.append(now + 120)
        return max(now + 1, min(t for t in times if t > now))

    def drain(self) -> None:
        self.replicate.mailbox.clear()  # undelivered webhooks are lost: polling must cover them
        for _ in range(MAX_DRAIN_STEPS):
            self.run_due()
            if self.quiet():
                return
            self.traveller.shift(timedelta(seconds=self.next_event() - time.time()))
            self.beat()
            self.replicate.emit_webhooks()

    # Invariants
    # --------------------------------------------------------------------------

    def check(self) -> list[str]:
        problems = []
        totals = self.totals
        total_training = sum(settings.TRAINING_STATE_DEADLINE_MINUTES.values()) + 20
        for run in TrainingRun.objects.filter(id__in=self.run_ids):
            totals.runs += 1
            if run.is_active:
                totals.stuck += 1
                problems.append(f"run {run.id} still {run.status}: {run.error or run.last_error}")
                continue
            if run.completed_at - run.created_at > timedelta(minutes=total_training):
                totals.stuck += 1
                problems.append(f"run {run.id} ended after {run.completed_at - run.created_at}, past its deadlines")
            if run.status == TrainingRun.Status.SUCCEEDED and not (
                run.lora_file and default_storage.exists(run.lora_file.name)
            ):
                problems.append(f"run {run.id} succeeded without a stored LoRA")
            mails = self.sendgrid.mails_about(f"/training/runs/{run.id}/")
            expected = 0 if run.error_kind == "user_canceled" or run.email_error else 1
            if mails > 1:
                totals.duplicate_emails += 1
                problems.append(f"run {run.id} ({run.status}) emailed {mails} times")
            elif mails != expected:
                totals.missing_emails += 1
                problems.append(f"run {run.id} ({run.status}, {run.error_kind}) emailed {mails}, expected {expected}")
            trainings = [
                r
                for r in self.replicate.remotes.values()
                if r.kind == "training" and (r.body.get("input") or {}).get("input_images") == run.dataset_url
            ]
            if len(trainings) > 1:
                totals.duplicate_creates += 1
                problems.append(f"run {run.id}: {len(trainings)} trainings created; requests: {self.replicate.log}")
            if self.hub.commits_with(f"PhotoAgent LoRA (run-{run.id})") > 1:
                totals.duplicate_commits += 1
                problems.append(f"run {run.id}: more than one Hub commit")
            requests = self.training_requests(run)
            totals.max_requests_per_run = max(totals.max_requests_per_run, requests)
            if requests > self.training_bound():
                totals.over_bound += 1
                problems.append(f"run {run.id}: {requests} provider requests, over the bound {self.training_bound()}")
        total_generation = sum(settings.GENERATION_STATE_DEADLINE_MINUTES.values()) + 10
        for job in Generation.objects.filter(id__in=self.job_ids):
            totals.jobs += 1
            if job.is_active:
                totals.stuck += 1
                problems.append(f"job {job.id} still {job.phase}: {job.error or job.last_error}")
                continue
            if job.completed_at - job.created_at > timedelta(minutes=total_generation):
                totals.stuck += 1
                problems.append(f"job {job.id} ended after {job.completed_at - job.created_at}, past its deadlines")
            predictions = [
                r
                for r in self.replicate.remotes.values()
                if r.kind == "prediction" and (r.body.get("input") or {}).get("prompt") == job.prompt
            ]
            if len(predictions) > 1:
                totals.duplicate_creates += 1
                problems.append(f"job {job.id}: {len(predictions)} predictions created; requests: {self.replicate.log}")
            images = GeneratedImage.objects.filter(generation=job).count()
            folder = f"users/{job.user_id}/generations/{job.id}"
            files = len(default_storage.listdir(folder)[1]) if default_storage.exists(folder) else 0
            if files != 2 * images or images > job.num_outputs:
                totals.duplicate_images += 1
                problems.append(f"job {job.id}: {images} images but {files} stored files")
            if job.status == Generation.Status.SUCCEEDED and not images:
                problems.append(f"job {job.id} succeeded without an image")
            requests = sum(self.replicate.concerning(remote.id) for remote in predictions) + sum(
                1 for _, _, about in self.replicate.requests if about == job.prompt
            )
            totals.max_requests_per_run = max(totals.max_requests_per_run, requests)
            if requests > self.generation_bound():
                totals.over_bound += 1
                problems.append(f"job {job.id}: {requests} provider requests, over the bound {self.generation_bound()}")
        if self.unclassified:
            totals.unclassified += len(self.unclassified)
            problems += self.unclassified[:5]
        totals.problems += problems[:3]
        return problems

    def training_requests(self, run: TrainingRun) -> int:
        """Requests about this run: its training (polls, cancel, weights), creates and uploads."""
        about_training = self.replicate.concerning(run.provider_training_id) if run.provider_training_id else 0
        submitting = sum(
            1
            for method, path, about in self.replicate.requests
            if about == run.dataset_url
            or path in ("/v1/files", "/v1/trainings")
            or path.startswith("/v1/models/acme")
            or path == "/v1/models"
        )
        return about_training + submitting

    def faults(self) -> int:
        return self.replicate.faults_injected

    def training_bound(self) -> int:
        """Polls: each real poll moves the next one at least TRAINING_POLL_SECONDS ahead, doubling up to the
        status' cap, until the status' deadline; each step's attempts (submit: upload, model check and
        create, list, create; publish: fetch and download; cancel) within its budget; and one more request
        for every fault the client retried."""
        polls = 0
        for status in ("starting", "training"):
            cap = settings.TRAINING_POLL_MAX_SECONDS[status]
            delay, elapsed, deadline = (
                settings.TRAINING_POLL_SECONDS,
                0,
                settings.TRAINING_STATE_DEADLINE_MINUTES[status] * 60,
            )
            while elapsed <= deadline:
                polls += 1
                elapsed += delay
                delay = min(delay * 2, cap)
        return polls + settings.TRAINING_STEP_ATTEMPTS * (5 + 2) + 4 + 10 * self.faults()

    def generation_bound(self) -> int:
        polls, elapsed, deadline = 0, 0, settings.GENERATION_STATE_DEADLINE_MINUTES["running"] * 60
        while elapsed <= deadline:
            elapsed += settings.GENERATION_POLL_SECONDS * min(2 ** (polls // 10), 8)
            polls += 1
        return polls + settings.GENERATION_STEP_ATTEMPTS * (2 + 4) + 4 + 10 * self.faults()


# Strategies
# ------------------------------------------------------------------------------

KNOWN = ("starting", "processing", "succeeded", "failed", "canceled", "aborted")
STATUSES = st.one_of(
    st.sampled_from(KNOWN),
    st.sampled_from(["queued", "booting", "", "PROCESSING"]),
    st.none(),
    st.integers(-5, 5),
)


@st.composite
def scripts(draw, *, outcomes) -> Script:
    steps, at = [], 0
    for status in draw(st.lists(STATUSES, max_size=5)):
        at += draw(st.sampled_from([0, 1, 5, 30, 120, 600, 1800]))
        steps.append((at, status))
    # Mostly an end (a success most often, to reach publishing and collecting); sometimes none at all.
    end = draw(st.sampled_from(["succeeded", "succeeded", "failed", "canceled", "aborted", None]))
    if end is not None:
        at += draw(st.sampled_from([0, 5, 60, 300, 1200, 5400]))
        steps.append((at, end))
    return Script(steps=steps, outcome=draw(st.sampled_from(outcomes)), error=draw(st.sampled_from(ERRORS)))


REPLICATE_FAULTS = (
    "429",
    "429_bare",
    "500",
    "503",
    "504",
    "404",
    "reset",
    "timeout",
    "lost_reply",
    "malformed",
    "json_array",
)
HUB_FAULTS = ("500", "503", "403", "400", "reset", "lost_reply")
SENDGRID_FAULTS = ("429", "500", "503", "400", "reset", "timeout")
FAULTS = st.one_of(
    st.tuples(st.sampled_from(REPLICATE_ROUTES), st.sampled_from(REPLICATE_FAULTS)),
    st.tuples(st.sampled_from(HUB_ROUTES), st.sampled_from(HUB_FAULTS)),
    st.tuples(st.just("mail_send"), st.sampled_from(SENDGRID_FAULTS)),
)
WEBHOOK_MODES = st.sampled_from(["ok", "ok", "ok", "twice", "unsigned", "forged", "stale", "array"])


def machine_for(world: World):
    class ProviderMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.world = world
            world.begin()

        @initialize(data=st.data())
        def start_work(self, data):
            self.world.replicate.scripts["training"].append(data.draw(scripts(outcomes=TRAINING_OUTCOMES)))
            for _ in range(data.draw(st.integers(0, 2))):
                self.world.replicate.scripts["prediction"].append(data.draw(scripts(outcomes=PREDICTION_OUTCOMES)))
                self.world.start_generation(num_outputs=data.draw(st.integers(1, 4)))
            self.world.start_training()

        @rule(data=st.data())
        def a_worker_runs_a_message(self, data):
            due = self.world.due()
            if due:
                message = due[data.draw(st.integers(0, len(due) - 1))]
                self.world.queue.remove(message)
                self.world.execute(message)

        @rule(data=st.data())
        def the_broker_delivers_a_message_twice(self, data):
            if self.world.queue:
                message = self.world.queue[data.draw(st.integers(0, len(self.world.queue) - 1))]
                self.world.queue.append(Message(**message.__dict__))

        @rule(data=st.data())
        def the_broker_loses_a_message(self, data):
            if self.world.queue:
                self.world.queue.pop(data.draw(st.integers(0, len(self.world.queue) - 1)))

        @rule(seconds=st.sampled_from([1, 3, 10, 30, 60, 120, 300, 900, 3600]))
        def time_passes(self, seconds):
            self.world.advance(seconds)

        @rule(data=st.data(), mode=WEBHOOK_MODES)
        def a_webhook_arrives(self, data, mode):
            mailbox = self.world.replicate.mailbox
            if mailbox:
                index = data.draw(st.integers(0, len(mailbox) - 1))
                delivery = mailbox[index] if mode in ("unsigned", "forged", "stale", "array") else mailbox.pop(index)
                for _ in range(2 if mode == "twice" else 1):
                    self.world.post_webhook(delivery, mode="ok" if mode == "twice" else mode)

        @rule(data=st.data())
        def a_webhook_is_lost(self, data):
            mailbox = self.world.replicate.mailbox
            if mailbox:
                mailbox.pop(data.draw(st.integers(0, len(mailbox) - 1)))

        @rule(fault=FAULTS, count=st.integers(1, 3))
        def a_provider_fails(self, fault, count):
            route, kind = fault
            server = {"mail_send": self.world.sendgrid}.get(route) or (
                self.world.hub if route.startswith("hub_") else self.world.replicate
            )
            server.inject(route, kind, count)

        @rule()
        def the_webhook_secret_is_rotated(self):
            self.world.replicate.secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()

        @rule(data=st.data())
        def the_user_cancels(self, data):
            if data.draw(st.integers(0, 5)):
                return  # rarely: most examples should see the provider's end
            targets = [("run", i) for i in self.world.run_ids] + [("job", i) for i in self.world.job_ids]
            kind, object_id = targets[data.draw(st.integers(0, len(targets) - 1))]
            try:
                if kind == "run":
                    training_services.training_cancel(run=TrainingRun.objects.get(id=object_id))
                else:
                    generation_services.generation_cancel(generation=Generation.objects.get(id=object_id))
            except ProviderError:
                pass  # the page says "could not reach the provider, try again"

        def teardown(self):
            self.world.drain()
            problems = self.world.check()
            assert not problems, problems

    return ProviderMachine


def patched_apply_async(world: World):
    def apply_async(task, args=None, kwargs=None, **options):
        world.enqueue(task, args, kwargs, options)

    return apply_async
