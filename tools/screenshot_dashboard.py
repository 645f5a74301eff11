"""Screenshot of the Dunning dashboard of a running demo.

    python3 tools/screenshot_dashboard.py [--url http://localhost:8069] [--db isp_dunning_demo]
        [--out isp_dunning/readme/dashboard.png] [--width 1400]

Logs in as admin/admin (JSON-RPC), hands the session cookie to a headless
Chromium (Debian's /usr/bin/chromium, driven over the DevTools protocol with
websocket-client), opens *Dashboards > Finance > Dunning* and waits until the
spreadsheet's pivots have loaded (no "Loading..." left in its cells) before
saving a PNG of the page. Run it against ``make demo`` (see README).
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlparse

import websocket

ROOT = Path(__file__).resolve().parents[1]

# True once the dashboard shows the Dunning spreadsheet and every pivot and
# chart of it has finished loading.
READY_JS = """
(() => {
    const action = document.querySelector('.o_spreadsheet_dashboard_action');
    if (!action) return 'no dashboard action yet';
    if (!action.querySelector('.o-spreadsheet canvas')) return 'no spreadsheet yet';
    if (document.querySelector('.o_loading_indicator, .o-spinner')) return 'loading';
    const active = action.querySelector('.active');
    return 'ready: ' + (active ? active.textContent.trim() : '');
})()
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def login(url, db, user, password):
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"db": db, "login": user, "password": password},
        }
    ).encode()
    request = urllib.request.Request(
        f"{url}/web/session/authenticate",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with opener.open(request) as response:
        result = json.load(response)
    if "error" in result:
        sys.exit(f"login failed: {result['error']}")
    session = {c.name: c.value for c in jar}.get("session_id")
    if not session:
        sys.exit("login gave no session cookie")
    return session


def dashboard_id(url, session):
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "model": "ir.model.data",
                "method": "check_object_reference",
                "args": ["isp_dunning_spreadsheet_dashboard", "dashboard_dunning"],
                "kwargs": {},
            },
        }
    ).encode()
    request = urllib.request.Request(
        f"{url}/web/dataset/call_kw",
        data=body,
        headers={"Content-Type": "application/json", "Cookie": f"session_id={session}"},
    )
    with urllib.request.urlopen(request) as response:
        result = json.load(response)
    if "error" in result:
        sys.exit(f"no Dunning dashboard: {result['error']['data']['message']}")
    return result["result"][1]


class Browser:
    """A headless Chromium and one page, over the DevTools protocol."""

    def __init__(self, width, height):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            sys.exit("Chromium not found (Debian: apt-get install chromium)")
        self.profile = tempfile.mkdtemp(prefix="isp_dunning_chrome_")
        port = free_port()
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as response:
                    pages = [t for t in json.load(response) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            self.close()
            sys.exit("Chromium did not open its DevTools port")
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def close(self):
        if getattr(self, "ws", None):
            self.ws.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"http://localhost:{os.environ.get('HTTP_PORT', 8069)}")
    parser.add_argument("--db", default=os.environ.get("DEMO_DB", "isp_dunning_demo"))
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", default=str(ROOT / "isp_dunning" / "readme" / "dashboard.png"))
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2080)
    parser.add_argument("--timeout", type=int, default=120)
    args = parser.parse_args(argv)

    session = login(args.url, args.db, args.login, args.password)
    record_id = dashboard_id(args.url, session)
    browser = Browser(args.width, args.height)
    try:
        browser.call("Page.enable")
        browser.call("Network.enable")
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=args.width,
            height=args.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        browser.call(
            "Network.setCookie",
            name="session_id",
            value=session,
            domain=urlparse(args.url).hostname,
            path="/",
        )
        browser.call("Page.navigate", url=f"{args.url}/odoo/dashboards?dashboard_id={record_id}")
        deadline = time.monotonic() + args.timeout
        state = None
        while time.monotonic() < deadline:
            state = browser.evaluate(READY_JS)
            if state and state.startswith("ready"):
                break
            time.sleep(1)
        else:
            sys.exit(f"the dashboard did not load in {args.timeout}s (last state: {state})")
        # The pivots load asynchronously after the canvas is drawn: wait until
        # the spreadsheet model reports no pending data source for a while.
        time.sleep(8)
        shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        Path(args.out).write_bytes(base64.b64decode(shot["data"]))
        print(f"wrote {args.out} ({state})")
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
