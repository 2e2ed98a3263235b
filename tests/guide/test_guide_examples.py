"""The user guide builds with no broken link, `limelight serve` serves it at /guide, and every bash
and python example of the guide and of the README's Quickstart runs against a demo server started as
the Quickstart starts it (`limelight serve --demo`, after the set-up `scripts/demo` does), with the
API key that server prints.

The rules examples follow are in `tests/guide/examples.py`. To run one page's examples against a
server that is already up (a demo you started yourself), set ``LIMELIGHT_GUIDE_SERVER`` (its URL),
``LIMELIGHT_GUIDE_KEY`` and optionally ``LIMELIGHT_GUIDE_GRPC`` (host:port), then select the page:
``pytest tests/guide -k tasks-text``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.guide.examples import (
    Example,
    Target,
    nav_pages,
    page_examples,
    readme_section_examples,
    run_example,
)
from tests.support.live_server import LiveServer, start_live_server
from tests.ui.browser import ConsoleWatch

ROOT = Path(__file__).resolve().parents[2]
PAGES = nav_pages()
SOURCES = ["README.md#Quickstart", *PAGES]


def _examples(source: str) -> list[Example]:
    return readme_section_examples("Quickstart") if source.startswith("README") else page_examples(source)


@pytest.fixture(scope="module")
def built_guide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``mkdocs build --strict``: a link to a missing page or anchor, or a page left out of the nav, fails."""
    mkdocs = Path(sys.executable).with_name("mkdocs")
    if not mkdocs.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("mkdocs is missing: install the `guide` extra")
        pytest.skip("mkdocs is missing (the `guide` extra)")
    site = tmp_path_factory.mktemp("guide-site")
    done = subprocess.run([str(mkdocs), "build", "--strict", "--clean", "-d", str(site)], cwd=ROOT,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's banner about MkDocs 2
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"the guide does not build:\n{done.stdout}{done.stderr}"
    return site


@pytest.fixture(scope="module")
def demo(built_guide: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Target, LiveServer | None]]:
    """(where examples run, the server when this module started it)."""
    external = os.environ.get("LIMELIGHT_GUIDE_SERVER")
    if external:
        yield Target(external.rstrip("/"), os.environ.get("LIMELIGHT_GUIDE_GRPC", "127.0.0.1:8001"),
                     os.environ["LIMELIGHT_GUIDE_KEY"]), None
        return
    home = tmp_path_factory.mktemp("demo-home")
    live = start_live_server(home, f"sqlite:///{home / 'limelight.db'}", init=False, serve_args=("--demo",),
                             ready_timeout_s=900)
    try:
        printed = re.search(r"api key: (ll_\S+)", live.log_text())
        assert printed, f"the demo printed no API key:\n{live.log_text()[-3000:]}"
        yield Target(live.url, f"127.0.0.1:{live.grpc_port}", printed.group(1)), live
    finally:
        live.stop()


def test_the_guide_builds_every_page_of_its_nav(built_guide):
    assert len(PAGES) >= 10
    for page in PAGES:
        built = built_guide / (page.removesuffix(".md").removesuffix("index") + "/index.html").lstrip("/")
        assert built.is_file(), f"{page} was not built"


def test_every_task_page_and_the_quickstart_have_examples_that_run():
    for source in ["README.md#Quickstart", *(p for p in PAGES if p.startswith("tasks/"))]:
        assert any(e.not_run is None for e in _examples(source)), f"{source} has no runnable example"
    for source in SOURCES:
        for example in _examples(source):
            assert example.not_run is None or example.not_run.strip(), f"{example.where}: not-run needs a reason"


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.removesuffix(".md").replace("/", "-").replace("#", "-"))
def test_the_examples_run_as_written(source, demo, tmp_path):
    target, _ = demo
    for example in _examples(source):
        if example.not_run is not None:
            continue
        outcome = run_example(example, target, tmp_path)
        expected = f" (expected error code {example.expect_error})" if example.expect_error else ""
        assert outcome.ok, f"{example.where} failed{expected}:\n{example.code}\n--- output ---\n{outcome.output[-4000:]}"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value and not value.startswith(("#", "mailto:", "data:")):
                self.found.append(value)


@pytest.fixture(scope="module")
def guide_server(built_guide: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A plain server (no demo) serving the guide this module built."""
    home = tmp_path_factory.mktemp("guide-home")
    live = start_live_server(home, f"sqlite:///{home / 'meta.db'}", LIMELIGHT_SERVER__GUIDE_DIR=str(built_guide))
    try:
        yield live
    finally:
        live.stop()


def test_the_server_serves_the_guide_without_a_key_and_every_link_in_it_answers(guide_server):
    """A crawl from /guide/ over every same-site link and asset: each answers 200; pages carry a CSP
    that allows their own inline scripts by hash, never 'unsafe-inline' scripts."""
    live = guide_server
    with httpx.Client(base_url=live.url, timeout=30) as anonymous:
        assert anonymous.get("/guide").status_code in (200, 307)  # to /guide/
        seen: set[str] = set()
        queue = ["/guide/"]
        while queue:
            path = queue.pop()
            if path in seen:
                continue
            seen.add(path)
            response = anonymous.get(path)
            assert response.status_code == 200, f"{path} -> {response.status_code}"
            if not response.headers["content-type"].startswith("text/html"):
                continue
            policy = response.headers["content-security-policy"]
            script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
            assert "'unsafe-inline'" not in script_src and "'sha256-" in script_src, path
            parser = _Links()
            parser.feed(response.text)
            for link in parser.found:
                absolute = urlsplit(urljoin(f"{live.url}{path}", link))
                if absolute.netloc == urlsplit(live.url).netloc and absolute.path.startswith("/guide"):
                    queue.append(absolute.path)
    assert len([p for p in seen if p.endswith("/")]) >= len(PAGES)


def test_the_guide_runs_in_chromium_offline_and_its_search_finds_a_page(guide_server, browser):
    """Material's scripts run under the page's CSP (a blocked script would be a console error), its
    search index answers, and a page fits a phone's width."""
    live = guide_server
    for viewport in ({"width": 1280, "height": 860}, {"width": 390, "height": 844}):
        context = browser.new_context(base_url=live.url, viewport=viewport)
        try:
            page = context.new_page()
            watch = ConsoleWatch()
            watch.attach(page)
            page.goto("/guide/concepts/")
            if viewport["width"] > 1000:  # the search field sits in the header; on a phone behind an icon
                page.locator("input.md-search__input").fill("recipes")
                results = page.locator(".md-search-result__item")
                results.first.wait_for(timeout=20_000)
                assert "Recipes" in results.first.inner_text()
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"the guide scrolls sideways by {overflow}px at {viewport['width']}px"
            watch.assert_clean()
        finally:
            context.close()


def test_without_a_built_guide_the_server_says_how_to_build_it(tmp_path):
    empty = tmp_path / "no-guide"
    empty.mkdir()
    live = start_live_server(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}", LIMELIGHT_SERVER__GUIDE_DIR=str(empty))
    try:
        answer = httpx.get(f"{live.url}/guide/concepts/", timeout=30)
        assert answer.status_code == 404
        assert "mkdocs build" in answer.text and "scripts/bootstrap" in answer.text
    finally:
        live.stop()
