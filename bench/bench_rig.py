"""The rig the in-process worker benches share (profile_worker.py, bench_acknowledgements.py): the
Twilio stand-in in a process of its own, so its CPU is not counted as the worker's, and the
Settings of a bench runtime whose texts go to it."""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from intake.settings import Settings, TwilioSettings
from tests.channels.twilio_standin import TwilioStandIn

REPO = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
LANDLORD_NUMBER = "+447480000001"


def _serve(account_sid: str, auth_token: str, connection: Connection) -> None:
    with TwilioStandIn(account_sid, auth_token) as standin:
        connection.send(standin.url)
        connection.recv()  # until the bench is done


class StandInProcess:
    """A Twilio stand-in served by a child process from construction until `stop`."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        self._ours, theirs = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve, args=(account_sid, auth_token, theirs), daemon=True)
        self._process.start()
        self.url: str = self._ours.recv()

    def stop(self) -> None:
        self._ours.send("done")
        self._process.join(timeout=5)


def bench_settings(
    database_url: str, *, work: Path, standin: StandInProcess, redis_url: str | None, jobs: Literal["rq", "inline"]
) -> Settings:
    """A test-environment runtime on `database_url` with its files under `work`, the trained model in
    var/models, and texts sent through `standin`."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None, environment="test", database_url=database_url, outbox_dir=work / "outbox",
        raw_store_dir=work / "raw", redis_url=redis_url, jobs=jobs, model_dir=REPO / "var" / "models",
        public_base_url="https://intake.bench.example",
        twilio=TwilioSettings(account_sid=standin.account_sid, auth_token=SecretStr(standin.auth_token),
                              from_number=LANDLORD_NUMBER, api_base_url=standin.url, timeout_seconds=30.0),
    )
