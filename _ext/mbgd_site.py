"""Site fixes for the Jupyter Book 1.x stack, loaded from _config.yml.

sphinx-thebe and sphinx-togglebutton register their inline scripts twice under
jupyter-book 1.0.4 (their setup runs twice), and the second
``const THEBE_JS_URL = ...`` is a JavaScript error on every page. This keeps the
first copy of each identical script.
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



def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
