"""The course website (tools/site.py) as a reader meets it, in headless Chromium.

Builds the site once for the module (every lecture executed fresh: about as long as
tests/test_lectures.py), serves it on 127.0.0.1, opens the contents page and follows
each entry to its lecture, checking that every picture loaded (naturalWidth > 0), that
every explorer shows its picture, that the mathematics was typeset, that every link
inside the site leads somewhere (pages, downloads, and #anchors on their page), and that
no page asked for anything outside the site.

Screenshots of the contents and of each lecture's first explorer (or first screen) go to
test-artifacts/site/.
"""

from __future__ import annotations

import functools
import re
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import nbformat
import pytest

from tests.browser.lab import chromium
from tests.notebooks import ROOT, warm_up
from tools.site import BINDER, DEFAULT_LAB_LINK, build

pytestmark = pytest.mark.site

ARTIFACTS = ROOT / "test-artifacts" / "site"
# every notebook in lectures/, found the way the builder finds them (no list to keep)
LECTURES = sorted(path.stem for path in (ROOT / "lectures").glob("*.ipynb"))
BINDER_REPO = "course-owner/nnkit"
LOAD_MS = 60_000
# MathJax 2 tests whether web fonts have loaded with a font whose source is about:blank
BLANK = ("about:blank",)
# what a page shows for a widget that was not replaced by its picture
WIDGET_AS_TEXT = re.compile(r"^\s*(\w*Box|Explorer|Image|\w+Slider)\(|Error displaying widget")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # a line per request would flood pytest's output
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site and its pages, by lecture name."""
    warm_up()
    out = tmp_path_factory.mktemp("site") / "_site"
    pages = build(out, binder=BINDER_REPO, log=lambda _message: None)
    return out, {page.source.stem: page for page in pages}


@pytest.fixture(scope="module")
def url(site):
    """The site served over HTTP on a free local port."""
    out, _ = site
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(out))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def reader(url, tmp_path_factory, browser_executable):
    """One browser page, with every request it makes and every failure recorded."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with chromium(tmp_path_factory.mktemp("site-profile"), browser_executable) as context:
        page = context.new_page()
        page.set_default_timeout(LOAD_MS)
        page.requests, page.failures = [], []
        page.on("request", lambda request: page.requests.append(request.url))
        page.on(
            "requestfailed",
            lambda request: (
                page.failures.append(f"{request.url}: {request.failure}")
                if request.url not in BLANK
                else None
            ),
        )
        page.on(
            "response",
            lambda response: (
                page.failures.append(f"{response.url}: HTTP {response.status}")
                if response.status >= 400
                else None
            ),
        )
        page.on("pageerror", lambda exc: page.failures.append(f"page error: {exc}"))
        yield page
        page.close()


def status(href: str) -> int:
    """The HTTP status of a GET of ``href``."""
    try:
        with urllib.request.urlopen(href, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_contents_list_every_lecture(reader, url, site):
    """index.html lists every lectures/*.ipynb in order, by its title, with open links."""
    _, pages = site
    reader.goto(f"{url}/index.html")
    entries = reader.locator("ul.contents a.lecture")
    hrefs = [entries.nth(i).get_attribute("href") for i in range(entries.count())]
    assert hrefs == [f"lectures/{name}.html" for name in LECTURES]
    texts = entries.all_inner_texts()
    for name, text in zip(LECTURES, texts, strict=True):
        assert text == pages[name].title
        assert pages[name].title != name, f"{name}.ipynb has no markdown heading to title it"
    opens = reader.locator("ul.contents a.open")
    expected = [
        href
        for name in LECTURES
        for href in (
            DEFAULT_LAB_LINK.replace("{path}", f"lectures/{name}.ipynb"),
            BINDER.format(
                repo=BINDER_REPO,
                branch="main",
                urlpath=urllib.parse.quote(f"lab/tree/lectures/{name}.ipynb", safe=""),
            ),
        )
    ]
    assert [opens.nth(i).get_attribute("href") for i in range(opens.count())] == expected
    reader.screenshot(path=ARTIFACTS / "00_contents.png", full_page=True)


@pytest.mark.parametrize("name", LECTURES)
def test_a_lecture_reached_from_the_contents_is_whole(reader, url, site, name):
    """Follow the contents to the lecture: pictures load, math is typeset, links resolve."""
    _, pages = site
    page = pages[name]
    reader.goto(f"{url}/index.html")
    reader.requests.clear()
    reader.failures.clear()
    reader.locator("ul.contents a.lecture", has_text=page.title).click()
    reader.wait_for_url(f"{url}/lectures/{name}.html")
    reader.wait_for_load_state("load")

    images = reader.evaluate(
        """() => [...document.images].map(img => ({
            src: img.src.slice(0, 80), complete: img.complete, width: img.naturalWidth}))"""
    )
    assert len(images) >= page.figures >= 1, f"{name}: {len(images)} images, {page.figures} figures"
    broken = [img["src"] for img in images if not (img["complete"] and img["width"] > 0)]
    assert not broken, f"{name}: images that did not load: {broken}"

    explorers = reader.locator("figure.nnkit-explorer")
    assert explorers.count() == page.explorers
    outputs = reader.locator(".jp-OutputArea-output").all_inner_texts()
    fallbacks = [text[:80] for text in outputs if WIDGET_AS_TEXT.match(text)]
    assert not fallbacks, f"{name}: widgets shown as text: {fallbacks}"
    for i in range(explorers.count()):
        assert explorers.nth(i).locator("img").evaluate("img => img.naturalWidth") > 100

    # MathJax 2 (served from the site's static/) has typeset the page's formulas
    reader.wait_for_function(
        "() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0"
        " && MathJax.Hub.queue.running === 0"
    )
    cells = nbformat.read(page.source, as_version=4).cells
    has_math = any(cell.cell_type == "markdown" and "$" in cell.source for cell in cells)
    if has_math:
        assert reader.locator(".MathJax, .MathJax_Display, .MathJax_CHTML").count() > 0

    links = reader.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    here = f"{url}/lectures/{name}.html"
    local = sorted({href for href in links if href.startswith(url)})
    for href in local:
        target, _, anchor = href.partition("#")
        assert status(target) == 200, f"{name}: link to {href} is broken"
        if anchor and target == here:
            # as a browser resolves a fragment: the id as written, else percent-decoded
            found = reader.evaluate(
                """(id) => document.getElementById(id) !== null
                    || document.getElementById(decodeURIComponent(id)) !== null""",
                anchor,
            )
            assert found, f"{name}: link to #{anchor}, which is not on the page"
    assert f"{url}/index.html" in local
    assert f"{url}/notebooks/{name}.ipynb" in local
    outside = [href for href in links if not href.startswith(url)]
    assert DEFAULT_LAB_LINK.replace("{path}", f"lectures/{name}.ipynb") in outside
    assert all(re.match(r"https?://", href) for href in outside), outside

    assert reader.failures == [], f"{name}: {reader.failures}"
    foreign = [r for r in reader.requests if not r.startswith((url, "data:", *BLANK))]
    assert foreign == [], f"{name} fetched from outside the site: {foreign}"

    shown = explorers.first if page.explorers else reader.locator("body")
    shown.scroll_into_view_if_needed()
    reader.screenshot(path=ARTIFACTS / f"{name}.png")
