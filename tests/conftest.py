"""Fixtures shared by every test: settings per database backend, a trained model, Redis.

PostgreSQL and Redis are the real local servers (INTAKE_TEST_POSTGRES_URL, INTAKE_TEST_REDIS_URL).
When one is unreachable its tests are skipped with a message — unless INTAKE_TEST_REQUIRE_SERVICES=1
(as in .ci/run), when they fail instead.
"""

from __future__ import annotations

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


def _unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if REQUIRE_SERVICES:
        pytest.fail(message + " and INTAKE_TEST_REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test run's own on the server at INTAKE_TEST_POSTGRES_URL, dropped afterwards.

    Its own database, not the shared one, so two test runs on one server never collide.
    """
    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        name = f"intake_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        _unavailable("PostgreSQL", error)
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
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


@pytest.fixture(scope="session")
def trained_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model `make test` installed (var/models, trained on the seed TRAIN split), or one trained now."""
    from classifier import ModelRegistry, train_model
    from classifier.data import load_examples, seed_files, split_examples

    installed = Path(os.environ.get("INTAKE_TEST_MODEL_DIR", REPO / "var" / "models"))
    if ModelRegistry(installed).current_version() is not None:
        return installed
    train, _ = split_examples(load_examples(seed_files()))
    out_dir = tmp_path_factory.mktemp("models")
    train_model(train, out_dir=out_dir)
    return out_dir


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


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
        url = request.getfixturevalue("postgres_url")
        _reset_postgres(url)
        engine = create_engine(url)
        from intake.db import upgrade_database

        upgrade_database(engine)
        engine.dispose()
        yield url


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
