"""Schemathesis against the app's own OpenAPI schema: generated requests (bounded in number) never
get a 5xx, and the JSON API's answers conform to the schema it publishes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from intake.app import create_app
from intake.runtime import Runtime
from tests.security.conftest import READ_AND_WRITE, make_token

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure here is reproducible, never flaky
    suppress_health_check=list(HealthCheck),
    database=None,
)
API_PATHS = "^/(api/|healthz)"


def _fuzz(schema: schemathesis.BaseSchema, checks: Sequence[Callable], headers: dict[str, str]) -> None:  # type: ignore[type-arg]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the filter matched no operation"
    strategy = st.one_of([operation.as_strategy() for operation in operations])

    @given(case=strategy)
    @EXAMPLES
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=list(checks))

    check()


def test_the_json_api_answers_as_documented_and_never_fails(runtime: Runtime) -> None:
    app = create_app(runtime)
    token = make_token(runtime, "fuzzer", READ_AND_WRITE)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex=API_PATHS)
    _fuzz(
        schema,
        [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
        {"Authorization": f"Bearer {token}"},
    )


def test_pages_and_webhooks_never_fail_on_generated_input(runtime: Runtime) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(runtime)).exclude(path_regex=API_PATHS)
    _fuzz(schema, [not_a_server_error], {})
