"""A reader's first visit: a fresh browser profile, nothing in localStorage.

- pydata-sphinx-theme starts from `default_mode`, which is empty unless set: its script then logs
  "Got invalid theme mode: . Resetting to auto." as a console error on every first visit. Start in
  "auto" (follow the reader's system setting), as the theme's own documentation recommends.
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


def default_mode(app, pagename, templatename, context, doctree):
    context.setdefault("default_mode", "auto")
