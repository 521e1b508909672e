"""`make screenshots`: every main page at phone (390×844) and desktop
(1440×900) size, saved as var/screenshots/<size>-<page>.png for people
reviewing a change.  Not part of `make test`.

Uses its own throw-away SQLite database under var/screenshots/db/ with the
same people and rooms as the layout and accessibility browser tests
(marquee/performers/tests/test_browser_layout.py), served by uvicorn and
driven by Debian's Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")

from marquee.performers.tests.test_browser_layout import PAGES, SETUP, SIZES  # noqa: E402
from tests.browser import chromium, manage_shell, uvicorn  # noqa: E402

OUT = ROOT / "var" / "screenshots"


def main() -> int:
    db_dir = OUT / "db"
    shutil.rmtree(db_dir, ignore_errors=True)
    db_dir.mkdir(parents=True)
    env = {
        **os.environ,
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "MARQUEE_VAR_DIR": str(db_dir),
        "DEBUG": "1",
        "AGE_GATE_ENABLED": "1",
        "LOG_LEVEL": "WARNING",
        "MARQUEE_TESTING": "0",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    sessions = manage_shell(env, SETUP)
    saved = 0
    with uvicorn(env) as base, chromium() as browser:
        for size, viewport in SIZES.items():
            for who in dict.fromkeys(who for who, _ in PAGES):
                context = browser.new_context(viewport=viewport, is_mobile=size == "phone")
                context.add_cookies([{"name": "sessionid", "value": sessions[who], "url": base}])
                page = context.new_page()
                for _, path in (p for p in PAGES if p[0] == who):
                    page.goto(f"{base}{path}", wait_until="load")
                    page.wait_for_timeout(300)  # chat connects, times are localised
                    slug = re.sub(r"[^a-z0-9]+", "-", f"{who} {path}".lower()).strip("-")
                    page.screenshot(path=OUT / f"{size}-{slug}.png", full_page=True)
                    saved += 1
                context.close()
    shutil.rmtree(db_dir, ignore_errors=True)
    print(f"{saved} screenshots in {OUT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
