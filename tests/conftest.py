"""Fixtures shared by every test: settings per database backend, a pinned model, Redis, job failures.

PostgreSQL and Redis are the real local servers (INTAKE_TEST_POSTGRES_URL, INTAKE_TEST_REDIS_URL).
When one is unreachable its tests are skipped with a message — unless INTAKE_TEST_REQUIRE_SERVICES=1
(as in .ci/run), when they fail instead.

Isolation, so two runs (or two pytest-xdist workers) on one machine never collide:
- PostgreSQL: each run (each xdist worker) migrates one template database once; every test gets its
  own `CREATE DATABASE … TEMPLATE` clone, dropped afterwards;
- Redis: every rq test uses its own queue name, and rq job ids are namespaced by the queue name;
- the model: trained once from the seed TRAIN split into var/test-models/<hash of what shapes it>
  (or copied from var/models when `make model` trained it from the same inputs), reused by later
  runs, and copied per run, so nothing a test does (or the learning loop does to var/models/CURRENT)
  moves the model under test.

A job that fails in the in-process queue fails the test that ran it, unless the test takes the
`job_failures` fixture and asserts on them itself.
"""

from __future__ import annotations

import fcntl
import itertools
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from intake.runtime import Runtime, use_runtime
from intake.settings import Settings

POSTGRES_URL = os.environ.get("INTAKE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("INTAKE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("INTAKE_TEST_REQUIRE_SERVICES") == "1"
REPO = Path(__file__).resolve().parent.parent
MODEL_CACHE = Path(os.environ.get("INTAKE_TEST_MODEL_CACHE", REPO / "var" / "test-models"))
# A name unique to this run and this xdist worker: databases and queues carry it.
RUN_ID = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


def _unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if REQUIRE_SERVICES:
        pytest.fail(message + " and INTAKE_TEST_REQUIRE_SERVICES=1")
    pytest.skip(message)


# --- PostgreSQL: migrate once, clone per test ----------------------------------------------------


def _admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _url_for(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """The name of this run's migrated template database (dropped at the end of the run)."""
    name = f"intake_tpl_{RUN_ID}"
    try:
        admin = _admin_engine()
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        _unavailable("PostgreSQL", error)
    from intake.db import upgrade_database

    engine = create_engine(_url_for(name))
    upgrade_database(engine)
    engine.dispose()  # a template may have no connections while it is cloned
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_clone_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    """A migrated database of this test's own, cloned from the template and dropped afterwards."""
    name = f"intake_t_{RUN_ID}_{next(_clone_numbers)}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    yield _url_for(name)
    with admin.connect() as connection:
        # FORCE: a worker process a test started may still hold a connection.
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    from redis import Redis

    try:
        Redis.from_url(REDIS_URL).ping()
    except Exception as error:
        _unavailable("Redis", error)
    return REDIS_URL


@pytest.fixture
def queue_name() -> str:
    """An rq queue name (and so a job-id namespace) no other test or run uses."""
    return f"intake-test-{RUN_ID}-{uuid.uuid4().hex[:6]}".replace("_", "-")


# --- the pinned model ----------------------------------------------------------------------------


def _installed_model_dir() -> Path:
    """Where `make model` (`intake model ensure`) installs the service's model."""
    try:
        return Settings().model_dir
    except Exception:  # settings that do not load here: the default place
        return REPO / "var" / "models"


def _adopt_installed_model(inputs_hash: str, into: Path, installed: Path | None = None) -> bool:
    """Copy the installed model's version into `into` when it was trained on the seed TRAIN split
    from these very inputs (its metadata says so): the same model the fixture would train, so a fresh
    clone's `make test` (which runs `make model` first) trains once, not twice. A copy: what the
    service or the learning loop later does to var/models never reaches the model under test."""
    from classifier import ModelRegistry

    registry = ModelRegistry(installed or _installed_model_dir())
    version = registry.version_trained_from_seed(inputs_hash)
    if version is None:
        return False
    shutil.copytree(registry.path_of(version), into / version)
    ModelRegistry(into).promote(version)
    return True


def _cached_model() -> Path:
    """The model trained on the seed TRAIN split, trained at most once per change of its inputs
    (the seed data and the code that trains it), or adopted from `make model`'s when it has the same.

    A lock file makes concurrent runs (and xdist workers) wait for one training instead of racing.
    """
    from classifier import ModelRegistry, train_model
    from classifier.data import load_examples, seed_files, split_examples
    from classifier.registry import SEED_INPUTS_KEY, seed_inputs_hash
    from intake.clock import SYSTEM_CLOCK

    inputs_hash = seed_inputs_hash()
    target = MODEL_CACHE / inputs_hash
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    with open(MODEL_CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target.exists() and ModelRegistry(target).current_version() is not None):
            building = MODEL_CACHE / f".building-{RUN_ID}"
            shutil.rmtree(building, ignore_errors=True)
            building.mkdir()
            if not _adopt_installed_model(inputs_hash, building):
                train, _ = split_examples(load_examples(seed_files()))
                train_model(train, out_dir=building, notes={SEED_INPUTS_KEY: inputs_hash}, clock=SYSTEM_CLOCK)
            shutil.rmtree(target, ignore_errors=True)
            building.rename(target)
    return target


@pytest.fixture(scope="session")
def trained_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This run's own copy of the pinned model (tests that retrain or promote change only the copy)."""
    copy = tmp_path_factory.mktemp("models") / "models"
    shutil.copytree(_cached_model(), copy)
    return copy


# --- SQLite and the two-backend database fixture -------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "intake.db"
    runtime = Runtime.build(Settings(database_url=f"sqlite:///{path}", environment="test"))
    runtime.database.upgrade()
    runtime.database.dispose()
    return path


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "outbox_dir": tmp_path / "outbox",
        "raw_store_dir": tmp_path / "raw",
        "redis_url": None,
        "stuck_after_seconds": 1,
        # Jobs run at once in the test's process unless the test brings Redis (then rq workers).
        "jobs": "auto" if overrides.get("redis_url") else "inline",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "intake.db"
        shutil.copy(_sqlite_template, path)
        yield f"sqlite:///{path}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def loaded_classifier(trained_model_dir: Path):  # type: ignore[no-untyped-def]
    """The model loaded once per run: loading is the slow part of building a runtime."""
    from classifier import Classifier

    return Classifier.load(trained_model_dir)


@pytest.fixture
def runtime(tmp_path: Path, database_url: str, trained_model_dir: Path, loaded_classifier) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]
    """A runtime with in-process jobs on each database backend, installed as the process's runtime."""
    settings = make_settings(tmp_path, database_url, model_dir=trained_model_dir)
    built = Runtime.build(settings)
    built.__dict__["classifier"] = loaded_classifier  # the cached_property's slot
    with use_runtime(built):
        yield built
    built.database.dispose()


# --- job failures fail the test ------------------------------------------------------------------


class _JobFailures(logging.Handler):
    """Collects the in-process queue's job failures (log records carrying `job_id`)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "job_failed", False):
            self.records.append(record)

    def describe(self) -> str:
        return "\n".join(
            f"{record.job_id}: {record.exc_info[1]!r}" if record.exc_info else record.getMessage()  # type: ignore[attr-defined]
            for record in self.records
        )


@pytest.fixture(autouse=True)
def _fail_on_job_failures(request: pytest.FixtureRequest) -> Iterator[_JobFailures]:
    handler = _JobFailures()
    logger = logging.getLogger("intake.queueing")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
    if handler.records and "job_failures" not in request.fixturenames:
        pytest.fail(f"{len(handler.records)} job(s) failed in this test:\n{handler.describe()}", pytrace=False)


@pytest.fixture
def job_failures(_fail_on_job_failures: _JobFailures) -> list[logging.LogRecord]:
    """The jobs that failed so far in this test; a test taking this fixture checks them itself."""
    return _fail_on_job_failures.records


# --- the order files run in ------------------------------------------------------------------

# Seconds the slowest files took in a whole run (`pytest -n 2 --dist loadfile --durations=0`, setup +
# call + teardown summed per file by scripts/file_durations.py; 5 Dec 2026 with a CPU hog beside it,
# load average ~10: see docs/testing.md). Files under 60 s are left to the test count. Only the ORDER
# reads them: `make test` gives pytest-xdist whole files (`--dist loadfile --no-loadscope-reorder`)
# in collection order, so the slowest start first and the quick ones fill in around them, instead
# of a several-minute file starting last while the other worker has nothing left to do (xdist's own
# order, most tests first, put the one-test fault campaign and full training at the very end).
SLOW_FILES_SECONDS: dict[str, float] = {
    "tests/channels/test_email_imap.py": 278,
    "tests/intake/test_workers.py": 235,
    "tests/lifecycle/test_quarter.py": 220,
    "tests/classifier/test_training.py": 192,
    "tests/intake/test_jobs_rq.py": 176,
    "tests/intake/test_training.py": 168,
    "tests/security/test_bad_input.py": 167,
    "tests/reports/test_reports_daily_facts.py": 136,
    "tests/web/test_search.py": 124,
    "tests/reports/test_reports_service.py": 120,
    "tests/intake/test_faults_campaign.py": 112,
    "tests/web/test_team_workflow.py": 100,
    "tests/web/test_single_sign_on.py": 95,
    "tests/web/test_auth.py": 93,
    "tests/web/test_staff_workspace.py": 91,
    "tests/privacy/test_pages.py": 90,
    "tests/web/test_replies.py": 86,
    "tests/security/test_openapi_fuzz.py": 81,
    "tests/channels/test_email_oauth2.py": 78,
    "tests/web/test_browser.py": 76,
    "tests/web/test_notes_and_notifications.py": 72,
    "tests/privacy/test_erasure.py": 71,
    "tests/web/test_staff_alerts.py": 65,
    "tests/channels/test_transcripts.py": 65,
    "tests/intake/test_acknowledgement_sending.py": 64,
    "tests/reports/test_reports_views.py": 64,
    "tests/security/test_sessions.py": 63,
    "tests/web/test_contact.py": 62,
}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slowest files first (measured above), then the files with the most tests; a file's own
    tests keep their order (a stable sort on a key every test of a file shares)."""
    tests_in: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        tests_in[path] = tests_in.get(path, 0) + 1

    def file_order(item: pytest.Item) -> tuple[float, int, str]:
        path = item.nodeid.split("::", 1)[0]
        return (-SLOW_FILES_SECONDS.get(path, 0.0), -tests_in[path], path)

    items.sort(key=file_order)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Find (or train, once per change of its inputs) the pinned model before any test's timeout
    starts counting: on a loaded machine training alone can outlast one test's 300 s."""
    _cached_model()
