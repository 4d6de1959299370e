#!/usr/bin/env python3
"""Opens a thresher run report in headless Chromium and checks it draws.

Usage: report_check.py REPORT.html [--screenshot-dir DIR]

Drives Chromium over the DevTools protocol (websocket-client, no browser download): loads the
page from disk with the network off, waits for every chart, then checks that each chart's
scene graph has marks with items, that the console stayed free of errors and warnings of
level error, and that a sample document opens (its text becomes visible). Prints a JSON
summary; exits 1 on a failed check. With --screenshot-dir, saves PNG screenshots of the top
of the page and of the measured-values section.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import websocket


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("report_check: no chromium on PATH (apt-get install chromium)")


class Cdp:
    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expr, await_promise=False):
        r = self.call(
            "Runtime.evaluate",
            expression=expr,
            awaitPromise=await_promise,
            returnByValue=True,
        )
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluate: {r['exceptionDetails']}")
        return r["result"].get("value")


def start_browser(profile):
    chromium = find_chromium()
    proc = subprocess.Popen(
        [
            chromium,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--window-size=1200,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 60
    while time.time() < deadline:
        if os.path.exists(port_file):
            lines = open(port_file).read().split("\n")
            if len(lines) >= 2 and lines[0].strip():
                return proc, int(lines[0])
        if proc.poll() is not None:
            sys.exit("report_check: chromium exited at start")
        time.sleep(0.1)
    proc.kill()
    sys.exit("report_check: chromium did not open its debugging port")


def page_target(port):
    import urllib.request

    deadline = time.time() + 30
    while time.time() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json") as r:
            targets = json.load(r)
        pages = [t for t in targets if t.get("type") == "page"]
        if pages:
            return pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.1)
    sys.exit("report_check: no page target")


CHECK_CHARTS = """
window.thresherCharts.then(function(views) {
  function count(node) {
    var n = 0;
    (node.items || []).forEach(function(item) {
      if (item.marktype && item.marktype !== 'group' && item.items) {
        n += item.items.length;
      }
      n += count(item);
    });
    return n;
  }
  var out = {};
  Object.keys(window.thresherViews).forEach(function(id) {
    var root = window.thresherViews[id].scenegraph().root;
    var marks = 0;
    (function walk(node) {
      (node.items || []).forEach(function(item) {
        if (item.marktype && item.marktype !== 'group') {
          // A mark drawing data: rect, rule, text, line... with at least one item.
          var role = item.role || '';
          if (role === 'mark' && item.items) marks += item.items.length;
        }
        walk(item);
      });
    })(root);
    out[id] = marks;
  });
  return {charts: document.querySelectorAll('.chart').length, marks: out};
})
"""

OPEN_SAMPLE = """
(function() {
  var d = document.querySelector('details.doc');
  if (!d) return {found: false};
  var pre = d.querySelector('pre');
  var before = pre.checkVisibility();
  d.querySelector('summary').click();
  var after = pre.checkVisibility();
  return {found: true, open: d.open, visible_before: before, visible_after: after,
          height: pre.getBoundingClientRect().height, chars: pre.textContent.length};
})()
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report")
    ap.add_argument("--screenshot-dir")
    args = ap.parse_args()
    report = os.path.abspath(args.report)
    with tempfile.TemporaryDirectory() as profile:
        proc, port = start_browser(profile)
        try:
            cdp = Cdp(page_target(port))
            cdp.call("Runtime.enable")
            cdp.call("Log.enable")
            cdp.call("Page.enable")
            # Offline: a report must not need the network.
            cdp.call("Network.enable")
            cdp.call(
                "Network.emulateNetworkConditions",
                offline=True,
                latency=0,
                downloadThroughput=-1,
                uploadThroughput=-1,
            )
            cdp.call("Page.navigate", url="file://" + report)
            deadline = time.time() + 60
            while time.time() < deadline:
                if cdp.evaluate("document.readyState") == "complete" and cdp.evaluate(
                    "typeof window.thresherCharts"
                ) == "object":
                    break
                time.sleep(0.1)
            charts = cdp.evaluate(CHECK_CHARTS, await_promise=True)
            sample = cdp.evaluate(OPEN_SAMPLE)
            requests = [
                e["params"]["request"]["url"]
                for e in cdp.events
                if e.get("method") == "Network.requestWillBeSent"
                and not e["params"]["request"]["url"].startswith(("file:", "data:"))
            ]
            errors = []
            for e in cdp.events:
                m = e.get("method")
                if m == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"):
                    errors.append(json.dumps(e["params"].get("args", []))[:300])
                elif m == "Runtime.exceptionThrown":
                    errors.append(json.dumps(e["params"]["exceptionDetails"])[:300])
                elif m == "Log.entryAdded" and e["params"]["entry"]["level"] == "error":
                    errors.append(e["params"]["entry"].get("text", "")[:300])
            if args.screenshot_dir:
                os.makedirs(args.screenshot_dir, exist_ok=True)
                cdp.call(
                    "Emulation.setDeviceMetricsOverride",
                    width=1200,
                    height=1500,
                    deviceScaleFactor=1,
                    mobile=False,
                )
                for name, anchor in (("report-top", None), ("report-values", "values")):
                    y = 0
                    if anchor:
                        y = cdp.evaluate(
                            f"document.getElementById('{anchor}').getBoundingClientRect().top"
                            " + window.scrollY"
                        )
                    shot = cdp.call(
                        "Page.captureScreenshot",
                        format="png",
                        clip={"x": 0, "y": y, "width": 1200, "height": 1500, "scale": 1},
                        captureBeyondViewport=True,
                    )
                    with open(os.path.join(args.screenshot_dir, name + ".png"), "wb") as f:
                        f.write(base64.b64decode(shot["data"]))
        finally:
            proc.kill()
            proc.wait()
    empty = [k for k, v in charts["marks"].items() if v == 0]
    result = {
        "charts": charts["charts"],
        "drawn": len(charts["marks"]),
        "empty": empty,
        "marks": charts["marks"],
        "console_errors": errors,
        "network_requests": requests,
        "sample": sample,
    }
    print(json.dumps(result, indent=1))
    ok = (
        charts["charts"] > 0
        and len(charts["marks"]) == charts["charts"]
        and not empty
        and not errors
        and not requests
        and sample.get("found")
        and sample.get("open")
        and sample.get("visible_before") is False
        and sample.get("visible_after") is True
        and sample.get("height", 0) > 0
        and sample.get("chars", 0) > 0
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
