"""Checks of the built website (_build/html, made by `make book`).

The browser test opens the chapter pages in Debian's headless Chromium, driven by
Playwright, with every request outside the local server blocked: the pages must load
without console errors, typeset their math with the vendored MathJax, and their
explorer stand-ins must respond to the keyboard and mouse.
Set MBGD_SCREENSHOTS=DIR to keep screenshots at desktop and phone widths.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files += [s["file"] for s in chapter.get("sections", [])]
    return files


def notebook_pages() -> list[str]:
    return [f for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


@pytest.fixture(scope="module")
def site():
    if not (HTML / "index.html").exists():
        pytest.fail("the site is not built: run `make book` first")
    return HTML


def test_every_toc_entry_has_a_page(site):
    missing = [f for f in toc_files() if not (site / f"{f}.html").exists()]
    assert not missing, f"pages missing for toc entries: {missing}"


@pytest.mark.parametrize("page", toc_files())
def test_pages_load_nothing_from_other_hosts(site, page):
    text = (site / f"{page}.html").read_text()
    remote = re.findall(
        r'<(?:script|link|img)[^>]+(?:src|href)="(https?://[^"]+)"', text)
    assert not remote, f"{page}.html loads from other hosts: {remote}"


def test_every_figure_has_alt_text(site):
    for page in notebook_pages():
        text = (site / f"{page}.html").read_text()
        figures = [t for t in re.findall(r"<img [^>]*>", text)
                   if '_images/' in t or 'src="data:' in t]
        assert figures or not page.startswith("chapters/"), f"{page}: no figures"
        for tag in figures:
            alt = re.search(r'alt="([^"]*)"', tag)
            assert alt and len(alt.group(1)) > 15 and not re.fullmatch(
                r"[0-9a-f]{64}\.png", alt.group(1)), (
                f"{page}: img without alt: {tag[:120]}")


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=site)
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make browser` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        yield b
        b.close()


def open_offline(browser, url, width=1280):
    """Open ``url`` with all non-local requests aborted; collect problems."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    local = urlparse(url).netloc

    def route(r):
        if urlparse(r.request.url).netloc in (local, "") or r.request.url.startswith(
                "data:"):
            r.continue_()
        else:
            problems.append(f"request to another host: {r.request.url}")
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and problems.append(
        f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(url, wait_until="load")
    page.wait_for_function(
        "window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("MathJax.startup.promise")
    return page, problems


@pytest.mark.parametrize("chapter", notebook_pages())
def test_chapter_in_a_real_browser(server, browser, chapter):
    page, problems = open_offline(browser, f"{server}/{chapter}.html")
    typeset = page.locator("mjx-container").count()
    if chapter.startswith("chapters/"):
        assert typeset >= 5, f"only {typeset} formulas typeset"
    prose = page.evaluate("""() => Array.from(
        document.querySelectorAll('article p, article li')).map(e => {
          const c = e.cloneNode(true);
          c.querySelectorAll('code, pre, mjx-container').forEach(x => x.remove());
          return c.textContent; }).join(' ')""")
    leftover = re.findall(r".{0,30}(?:\$\$|\$\\|\\[a-zA-Z]{2,}).{0,30}", prose)
    assert not leftover, f"raw LaTeX left on the page: {leftover[:3]}"
    hidden = page.evaluate("""() => Array.from(
        document.querySelectorAll('div.cell_output pre')).filter(
          e => e.scrollWidth > e.clientWidth + 1).map(
          e => e.textContent.slice(0, 60))""")
    assert not hidden, f"printed output cut at the right edge: {hidden[:3]}"
    for standin in page.locator(".mbgd-standin").all():
        img = standin.locator("img")
        before = img.get_attribute("src"), img.get_attribute("alt")
        slider = standin.locator("input[type=range]").first
        slider.focus()
        page.keyboard.press("ArrowRight")
        after = img.get_attribute("src"), img.get_attribute("alt")
        assert after[0] != before[0] and after[1] != before[1], "slider did nothing"
        select = standin.locator("select")
        if select.count():
            options = select.first.locator("option").all_inner_texts()
            select.first.select_option(index=len(options) - 1)
            assert img.get_attribute("src") != after[0], "select did nothing"
    shots = os.environ.get("MBGD_SCREENSHOTS")
    if shots:
        name = chapter.replace("/", "_")
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/{name}-desktop.png", full_page=True)
        phone, _ = open_offline(browser, f"{server}/{chapter}.html", width=390)
        phone.screenshot(path=f"{shots}/{name}-phone.png", full_page=True)
        phone.close()
    page.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("kind, dialog", [
    ("primary", "#pst-primary-sidebar-modal"),
    ("secondary", "#pst-secondary-sidebar-modal")])
def test_the_visible_toggles_open_the_sidebars_on_a_phone(server, browser, kind,
                                                         dialog):
    page, problems = open_offline(
        browser, f"{server}/chapters/principles/01_gradient_descent.html", width=390)
    assert not page.locator(dialog).evaluate("d => d.open")
    page.locator(f".{kind}-toggle:visible").first.click()
    page.wait_for_function(f"document.querySelector('{dialog}').open")
    assert page.locator(f"{dialog} a").count() > 3  # the links it shows
    page.close()
    assert not problems, "\n".join(problems)

