"""Screenshots of key pages of the built docs site, for people to look at (not a test).

Usage: ``python docs/_ext/screenshots.py SITE_DIR OUT_DIR [MATHJAX_JS]``. Needs Debian's
Chromium (``apt-get install chromium``); serves the site on a local port and calls
``chromium --headless --screenshot`` for each page in :data:`PAGES`. The site loads MathJax from
jsDelivr; on a machine without that network give a local MathJax 3 bundle (e.g.
``es5/tex-svg.js`` from ``npm pack mathjax@3``): a copy of the site then loads it instead.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import tempfile
import subprocess
import sys
import threading
from pathlib import Path

PAGES = (
    "index.html",
    "model/index.html",
    "welfare/index.html",
    "principal/index.html",
    "reference/principal/index.html",
    "reference/model/index.html",
)


def main(argv: list[str]) -> int:
    site, out = Path(argv[1] if len(argv) > 1 else "site"), Path(argv[2] if len(argv) > 2 else "screenshots")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no chromium found: apt-get install chromium", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    if len(argv) > 3:
        site = _with_local_mathjax(site, Path(argv[3]))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for page in PAGES:
            target = out / (page.replace("/index.html", "").replace("/", "-").replace(".html", "") + ".png")
            url = f"http://127.0.0.1:{server.server_address[1]}/{page}"
            subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--virtual-time-budget=5000",
                    "--window-size=1280,2000",
                    f"--screenshot={target}",
                    url,
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            print(f"{url} -> {target}")
    finally:
        server.shutdown()
    return 0


CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"


def _with_local_mathjax(site: Path, bundle: Path) -> Path:
    """A copy of the site that loads ``bundle`` instead of MathJax from the CDN."""
    copy = Path(tempfile.mkdtemp(prefix="site-")) / "site"
    shutil.copytree(site, copy)
    shutil.copy(bundle, copy / "mathjax.js")
    for page in copy.rglob("*.html"):
        page.write_text(page.read_text().replace(CDN, "/mathjax.js"))
    return copy


if __name__ == "__main__":
    sys.exit(main(sys.argv))
