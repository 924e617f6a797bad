"""The OpenAPI document: generated from the code, checked in, served, browsable."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from cbp.adapters.clock_and_ids.clock import SystemClock
from cbp.adapters.falcon.openapi import build_spec
from cbp.adapters.rules.verifier import RulesAccountVerifier
from cbp.adapters.simulator.processor import SimulatedPaymentProcessor
from cbp.adapters.simulator.server import create_simulator_app
from tests.e2e.server import Server, running_server

API_JSON = Path(__file__).parents[2] / "api.json"


def test_the_checked_in_api_json_matches_the_code() -> None:
    assert json.loads(API_JSON.read_text()) == build_spec(), (
        "api.json is stale: run `cbp openapi --output api.json` and commit it"
    )


def test_the_api_document_is_valid_openapi() -> None:
    validate(json.loads(API_JSON.read_text()))


def test_every_bound_is_a_keyword_json_schema_knows() -> None:
    """pydantic writes a bound it cannot place as "ge"/"le", which every validator ignores."""
    leaked: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            leaked.extend(f"{where}.{key}" for key in ("ge", "gt", "le", "lt") if key in node)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(json.loads(API_JSON.read_text()), "api.json")
    assert leaked == []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("docs")) as running:
        yield running


def test_the_served_document_is_the_checked_in_one(server: Server) -> None:
    served = server.call("GET", "/openapi.json", key="")
    assert served.status == 200
    assert served.body == json.loads(API_JSON.read_text())


def test_the_docs_page_and_its_assets_come_from_this_server(server: Server) -> None:
    page = server.call("GET", "/docs", key="")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    html = page.raw.decode()
    assert "http://" not in html and "https://" not in html
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "docs-init.js"):
        assert f"/docs/assets/{asset}" in html
        served = server.call("GET", f"/docs/assets/{asset}", key="")
        assert served.status == 200 and len(served.raw) > 10
    assert server.call("GET", "/docs/assets/..%2Fpasswd", key="").status == 404
    assert server.call("GET", "/docs/assets/index.html", key="").status == 404


def test_the_processor_protocol_is_valid_openapi_and_the_simulator_serves_its_paths() -> None:
    document = json.loads(Path("docs/processor-api.json").read_text())
    validate(document)
    app = create_simulator_app(SimulatedPaymentProcessor(SystemClock()), RulesAccountVerifier())
    for path in document["paths"]:
        route = app._router.find(path.replace("{reference}", "pmt_1"))
        assert route is not None, f"the simulator does not serve {path}"


def test_every_link_leads_to_an_operation_that_takes_the_new_id() -> None:
    document = json.loads(API_JSON.read_text())
    operations = {
        op["operationId"]: path for path, ops in document["paths"].items() for op in ops.values()
    }
    links = [
        link
        for ops in document["paths"].values()
        for op in ops.values()
        for response in op["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) >= 10
    for link in links:
        target = operations[link["operationId"]]
        (parameter,) = link["parameters"]
        assert "{" + parameter + "}" in target, (link, target)
