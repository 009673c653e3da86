"""The Chromium the browser tests and tools/lighthouse.py drive, and the flags it runs with."""
import os
import shutil
from pathlib import Path

CHROMIUM_HELP = ("no Chromium found: `apt-get install chromium` (or `brew install --cask chromium`), or "
                 "`.venv/bin/playwright install chromium`; CHROMIUM=/path/to/chrome picks another")


def find_chromium():
    """CHROMIUM if set, else a Chromium or Chrome on PATH, else the one Playwright manages (if installed)."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"] if Path(os.environ["CHROMIUM"]).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    try:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            managed = p.chromium.executable_path
        return managed if Path(managed).exists() else None
    except Exception:  # no Playwright browser downloaded
        return None


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
