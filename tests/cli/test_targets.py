"""Endpoint and region are checked before any call; an answer that is not AWS's is one line."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stackops.config import check_endpoint_url, choose_target
from stackops.errors import InvalidInput

PAGE = b"<!DOCTYPE html>\n<html><head><title>Oops</title></head>\n<body><h1>Not here</h1></body>\n"


class HtmlSite:
    """A loopback web server that answers every request with an HTML page, and counts them."""

    def __init__(self, status: int) -> None:
        self.requests = 0
        self.status = status
        site = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                site.requests += 1
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HtmlSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture(params=[404, 200, 500])
def html_site(request: pytest.FixtureRequest) -> Iterator[HtmlSite]:
    with HtmlSite(request.param) as site:
        yield site


def test_an_html_page_is_never_printed_nor_taken_for_an_answer(html_site, invoke):
    result = invoke("--endpoint-url", html_site.url, "describe-stacks")
    assert result.exit_code == 1, result.output
    assert html_site.requests >= 1
    assert result.stdout == ""  # a 200 page is not read as "no stacks"
    errors = [line for line in result.stderr.splitlines() if line.startswith("stackops: error")]
    assert errors == [
        f"stackops: error: dynamodb:Query failed: {html_site.url} answered HTTP "
        f"{html_site.status} with an HTML page, not an AWS reply"
    ]
    assert "<html" not in result.stderr and "DOCTYPE" not in result.stderr


def test_an_unknown_region_is_refused_before_any_call(invoke):
    with HtmlSite(200) as site:
        for region, said in (
            ("bogus", "region 'bogus' is not an AWS region name"),
            ("us-east-9", "--region 'us-east-9' is not a region AWS has; did you mean"),
        ):
            result = invoke("--endpoint-url", site.url, "--region", region, "describe-stacks")
            assert result.exit_code == 2
            assert said in result.stderr
            assert len(result.stderr.strip().splitlines()) == 1
        assert site.requests == 0


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("notaurl", "is not an http:// or https:// URL"),
        ("ftp://127.0.0.1:21", "is not an http:// or https:// URL"),
        ("http://", "names no host"),
        ("http://127.0.0.1:99999", "is not a URL"),
        ("http://127.0.0.1:port", "is not a URL"),
        ("http://127.0.0.1 :4566", "names no host"),
        ("http://127.0.0.1:0", "port 0 is not a port"),
    ],
)
def test_endpoint_urls_that_cannot_work(url: str, why: str, invoke) -> None:
    with pytest.raises(InvalidInput) as info:
        check_endpoint_url(url)
    assert why in info.value.message
    result = invoke("--endpoint-url", url, "describe-stacks")
    assert result.exit_code == 2
    assert result.stderr.startswith("stackops: error: --endpoint-url (or AWS_ENDPOINT_URL)")
    assert "Traceback" not in result.output


def test_targets_from_the_environment_are_checked_too(tmp_path: Path) -> None:
    env = {"AWS_ENDPOINT_URL": "localhost:4566", "AWS_REGION": "us-east-1"}
    with pytest.raises(InvalidInput, match="AWS_ENDPOINT_URL"):
        choose_target(endpoint_url=None, region=None, profile=None, home=tmp_path, environ=env)
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_DEFAULT_REGION": "Europe"}
    with pytest.raises(InvalidInput, match="AWS_DEFAULT_REGION"):
        choose_target(endpoint_url=None, region=None, profile=None, home=tmp_path, environ=env)
    good = choose_target(
        endpoint_url="http://127.0.0.1:4566",
        region="eu-west-1",
        profile=None,
        home=tmp_path,
        environ={},
    )
    assert (good.kind, good.region) == ("endpoint", "eu-west-1")


def test_a_missing_profile_is_bad_input(invoke):
    result = invoke("--profile", "no-such-profile", "describe-stacks")
    assert result.exit_code == 2
    assert result.stderr == "stackops: error: --profile: AWS profile not found: no-such-profile\n"
