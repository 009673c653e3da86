"""A reader's first visit: a fresh browser profile, nothing in localStorage.

- pydata-sphinx-theme starts from `default_mode`, which is empty unless set: its script then logs
  "Got invalid theme mode: . Resetting to auto." as a console error on every first visit. Start in
  "auto" (follow the reader's system setting), as the theme's own documentation recommends.
- "auto" must become "light" or "dark" before the first paint: the theme's own script does that only when
  the DOM is ready (its scripts are deferred), so until then the page would have no theme at all (a
  flash of unstyled colours, and a race for anything that reads the theme). A one-line script in <head>
  resolves it from the reader's system setting at once, as the theme's script later confirms.
- The logo (`logo` in _config.yml, the light variant) gets its dark twin, <name with -dark>.svg beside
  it, which the theme shows in dark mode (Jupyter Book's configuration has no key for it), and the
  book's title stays beside it as text.
"""
from pathlib import Path


def dark_logo(app, config):
    light = Path(config.html_logo or "")
    dark = light.with_name(light.name.replace("-light", "-dark"))
    if light.name and dark != light and (Path(app.srcdir) / dark).exists():
        logo = dict(config.html_theme_options.get("logo", {}))
        logo.setdefault("image_light", str(light))
        logo.setdefault("image_dark", str(dark))
        logo.setdefault("text", config.html_title)   # the title stays visible beside the logo ...
        logo.setdefault("alt_text", "")               # ... so the image is decorative: read once, not twice
        config.html_theme_options = {**config.html_theme_options, "logo": logo}


RESOLVE_AUTO = """(() => { const d = document.documentElement;
  if (!d.dataset.theme || d.dataset.theme === "auto") {
    d.dataset.theme = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
})();"""


def default_mode(app, pagename, templatename, context, doctree):
    context.setdefault("default_mode", "auto")


def resolve_auto_early(app):
    app.add_js_file(None, body=RESOLVE_AUTO, priority=100)   # before every other script in <head>
