"""Site fixes for the Jupyter Book 1.x stack, loaded from _config.yml.

sphinx-thebe and sphinx-togglebutton register their inline scripts twice under
jupyter-book 1.0.4 (their setup runs twice), and the second
``const THEBE_JS_URL = ...`` is a JavaScript error on every page. This keeps the
first copy of each identical script.

Both themes also wire the sidebar toggles with ``document.querySelector``, which
finds the first ``.primary-toggle`` (and ``.secondary-toggle``): a button in the
header that sphinx-book-theme hides. The visible buttons in the article header
then do nothing (on a phone the table of contents cannot be opened). A short
script forwards their clicks to the wired button.

``static/mbgd.css`` wraps long printed output and lets long inline formulas
scroll on narrow screens.
"""

from pathlib import Path

FORWARD_TOGGLES = """
document.addEventListener("DOMContentLoaded", () => {
  for (const kind of ["primary", "secondary"]) {
    const [wired, ...others] = document.querySelectorAll(`.${kind}-toggle`);
    for (const button of others) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        wired.click();
      });
    }
  }
});
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for script in context.get("script_files", []):
        # The copies differ only in filename None vs "" for inline scripts.
        key = (getattr(script, "filename", script) or "",
               tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept



def _add_static(app):
    app.config.html_static_path.append(str(Path(__file__).parent / "static"))


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.add_js_file(None, body=FORWARD_TOGGLES)
    app.connect("builder-inited", _add_static)
    app.add_css_file("mbgd.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
