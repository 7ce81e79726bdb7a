"""The browser side of `switchboard-bench web` (not a test): Selenium driving Debian's headless Chromium.

`switchboard-bench web` starts this script and sends it one JSON command a line on standard input;
each answer is one JSON line on standard output (anything else the script or Selenium prints goes to
standard error, the benchmark's browser.log). Every time is taken inside the page
(`performance.now()`, or `performance.timeOrigin + performance.now()` where the benchmark compares it
with the wall-clock instant a webhook was acknowledged), so WebDriver's own round trips are not in
the figures.

The page's DOM hooks the measurements rely on are all in HOOKS below: change them there when the page
changes.
"""
import argparse
import http.cookiejar
import json
import sys
import time
import traceback
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

PROTOCOL = sys.stdout
sys.stdout = sys.stderr  # only answers on the protocol stream

HOOKS = {
    "sign_in_form": "#sign-in-form",
    "handle": "#handle",
    "password": "#password",
    "submit": "#sign-in-form button[type=submit]",
    "live": "#live.on",                                   # the event stream is open
    "row": "#tickets li.ticket",                          # a list row
    "row_of": '#tickets li.ticket[data-reference="{}"]',  # the row of one ticket
    "thread": "thread",                                   # id of the section the open ticket is drawn in
    "messages": "messages",                               # id of the open ticket's timeline
    "message": '#messages [data-key^="m"]',               # a message in the timeline
    "view_key": "switchboard.view",                       # localStorage: the list's view (mine, waiting, all)
}

DEADLINE = 120


def answer(**fields):
    PROTOCOL.write(json.dumps({"ok": True, **fields}) + "\n")
    PROTOCOL.flush()


class Bench:
    def __init__(self, args):
        self.base = args.base.rstrip("/")
        self.handle = args.handle
        self.password = args.password
        options = webdriver.ChromeOptions()
        options.binary_location = args.chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1360,860", "--lang=en-GB",
                     "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-default-apps"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
        self.driver.set_script_timeout(DEADLINE)
        self.driver.execute_cdp_cmd("Performance.enable", {"timeDomain": "threadTicks"})
        self.driver.execute_cdp_cmd("Network.enable", {})

    def wait(self):
        return WebDriverWait(self.driver, DEADLINE)

    def cookie(self):
        return "; ".join(f"{c['name']}={c['value']}" for c in self.driver.get_cookies())

    def timed_get(self, path, cookie, repeats):
        times, size = [], 0
        for _ in range(repeats):
            request = urllib.request.Request(self.base + path, headers={"Cookie": cookie, "Accept": "application/json"})
            start = time.perf_counter()
            with urllib.request.urlopen(request) as response:
                body = response.read()
            times.append((time.perf_counter() - start) * 1000)
            size = len(body)
        return times, size, body

    # Commands.

    def start(self, view="all"):
        """Signs in from the page: submit → the first page of rows in the DOM."""
        d = self.driver
        d.get(self.base + "/")
        self.wait().until(EC.visibility_of_element_located((By.CSS_SELECTOR, HOOKS["sign_in_form"])))
        d.execute_script("localStorage.setItem(arguments[0], arguments[1])", HOOKS["view_key"], view)
        d.find_element(By.CSS_SELECTOR, HOOKS["handle"]).send_keys(self.handle)
        d.find_element(By.CSS_SELECTOR, HOOKS["password"]).send_keys(self.password)
        result = d.execute_async_script("""
            const [rowSelector, submitSelector, done] = arguments;
            const start = performance.now();
            let finished = false;
            const observer = new MutationObserver(() => {
              if (finished) return;
              const rows = document.querySelectorAll(rowSelector).length;
              if (!rows) return;
              finished = true;
              observer.disconnect();
              const at = performance.now();
              requestAnimationFrame(() => done({ms: at - start, frame_ms: performance.now() - start, rows}));
            });
            observer.observe(document.body, {childList: true, subtree: true});
            document.querySelector(submitSelector).click();
        """, HOOKS["row"], HOOKS["submit"])
        self.wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, HOOKS["live"])))
        answer(signin_ms=result["ms"], signin_frame_ms=result["frame_ms"], rows=result["rows"])

    def navigate_and_time_rows(self):
        """Loads `/` with an empty cache; the first page of rows, timed from navigation start."""
        d = self.driver
        d.execute_cdp_cmd("Network.clearBrowserCache", {})
        d.get(self.base + "/")
        return d.execute_async_script("""
            const done = arguments[0];
            const poll = () => window.__bench?.frameAt ? done(window.__bench) : setTimeout(poll, 20);
            poll();
        """)

    def install_row_timer(self):
        return self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
            (() => {
              if (location.pathname !== "/") return;
              const bench = window.__bench = {};
              const observer = new MutationObserver(() => {
                const rows = document.querySelectorAll(%s).length;
                if (!rows) return;
                observer.disconnect();
                bench.rowsAt = performance.now();
                bench.rows = rows;
                requestAnimationFrame(() => { bench.frameAt = performance.now(); });
              });
              observer.observe(document, {childList: true, subtree: true});
            })();
        """ % json.dumps(HOOKS["row"])})["identifier"]

    def resources(self):
        """What `/` loads with an empty cache: bytes by kind, and every URL's origin."""
        d = self.driver
        timer = self.install_row_timer()
        d.get_log("performance")  # drop what came before
        self.navigate_and_time_rows()
        time.sleep(1.0)
        d.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": timer})
        entries = d.execute_script("""
            const nav = performance.getEntriesByType("navigation")[0];
            return [nav, ...performance.getEntriesByType("resource")].map((e) => ({
              name: e.name, type: e.initiatorType || "navigation", transfer: e.transferSize, decoded: e.decodedBodySize }));
        """)
        origin = urllib.parse.urlsplit(self.base)
        urls = {e["name"] for e in entries}
        for entry in d.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                urls.add(message["params"]["request"]["url"])
        external = sorted(u for u in urls
                          if not u.startswith(("data:", "blob:")) and urllib.parse.urlsplit(u)[:2] != origin[:2])
        sizes = {"js": 0, "css": 0, "html": 0, "api": 0, "other": 0}
        transfer, files = 0, []
        for e in entries:
            path = urllib.parse.urlsplit(e["name"]).path
            kind = ("api" if path.startswith("/api/") else "html" if e["type"] == "navigation" or path.endswith(".html")
                    else "js" if path.endswith(".js") else "css" if path.endswith(".css") else "other")
            sizes[kind] += e["decoded"] or 0
            if kind != "api":
                transfer += e["transfer"] or 0
                files.append(f"{path} {e['decoded']} B")
        answer(**sizes, transfer=transfer, files=len(files), file_list=files, external=external, requests=len(urls))

    def list(self, repeats=5):
        """The first page of rows after a navigation (cold cache), `repeats` times; the API beside it."""
        timer = self.install_row_timer()
        ms, frames, rows = [], [], []
        for _ in range(repeats):
            bench = self.navigate_and_time_rows()
            ms.append(bench["rowsAt"])
            frames.append(bench["frameAt"])
            rows.append(bench["rows"])
        self.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": timer})
        self.wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, HOOKS["live"])))
        cookie = self.cookie()
        api, size, body = self.timed_get("/api/v1/tickets?view=all&status=open&limit=50", cookie, repeats)
        api_rows = len(json.loads(body)["tickets"])
        # What the page asks about the rows events named that are not loaded (list.js flush(), up to 100 at once; here one).
        sample = json.loads(body)["tickets"][-1]["reference"]
        refresh, _, _ = self.timed_get(f"/api/v1/tickets?view=all&status=open&references={sample}&limit=100", cookie, max(repeats, 10))
        # Signing in as the page does it: the password check, then who I am, then the list.
        signin = []
        for _ in range(repeats):
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            start = time.perf_counter()
            request = urllib.request.Request(self.base + "/auth/sign-in", method="POST", data=json.dumps({"handle": self.handle, "password": self.password}).encode(),
                                             headers={"Content-Type": "application/json", "Origin": self.base})
            opener.open(request).read()
            opener.open(self.base + "/api/v1/me").read()
            opener.open(self.base + "/api/v1/tickets?view=all&status=open&limit=50").read()
            signin.append((time.perf_counter() - start) * 1000)
        answer(ms=ms, frame_ms=frames, rows=rows[0], rows_all=rows, api_ms=api, api_bytes=size, api_rows=api_rows, api_signin_ms=signin, api_refresh_ms=refresh)

    def open_by_click(self, reference, condition):
        return self.driver.execute_async_script("""
            const [rowSelector, threadId, messagesId, marker, wanted, done] = arguments;
            const row = document.querySelector(rowSelector);
            if (!row) return done({error: "no row " + rowSelector});
            const ready = () => {
              const timeline = document.getElementById(messagesId);
              if (!timeline) return false;
              const has = timeline.textContent.includes(marker);
              return wanted ? has : !has;
            };
            const start = performance.now();
            let finished = false;
            const observer = new MutationObserver(() => {
              if (finished || !ready()) return;
              finished = true;
              observer.disconnect();
              const at = performance.now();
              requestAnimationFrame(() => done({ms: at - start, frame_ms: performance.now() - start}));
            });
            observer.observe(document.getElementById(threadId), {childList: true, subtree: true});
            row.click();
        """, HOOKS["row_of"].format(reference), HOOKS["thread"], HOOKS["messages"], condition[0], condition[1])

    def thread(self, reference, marker, repeats=5):
        """Click the long thread's row → its newest message in the DOM (another ticket opened in between)."""
        d = self.driver
        self.wait().until(EC.presence_of_element_located((By.CSS_SELECTOR, HOOKS["row_of"].format(reference))))
        others = [li.get_attribute("data-reference") for li in d.find_elements(By.CSS_SELECTOR, HOOKS["row"])[:10]]
        other = next(r for r in others if r != reference)
        ms, frames = [], []
        for _ in range(repeats):
            away = self.open_by_click(other, (marker, False))
            if "error" in away:
                raise RuntimeError(away["error"])
            time.sleep(0.5)
            result = self.open_by_click(reference, (marker, True))
            if "error" in result:
                raise RuntimeError(result["error"])
            ms.append(result["ms"])
            frames.append(result["frame_ms"])
            time.sleep(0.5)
        shown = len(d.find_elements(By.CSS_SELECTOR, HOOKS["message"]))
        api, size, _ = self.timed_get(f"/api/v1/tickets/{urllib.parse.quote(reference)}?messages=50", self.cookie(), repeats)
        answer(ms=ms, frame_ms=frames, messages=shown, api_ms=api, api_bytes=size)

    def watch(self, reference, marker):
        """Notes the wall-clock instant each marked message is first added to the open thread, and the next frame after it."""
        d = self.driver
        # Open the ticket afresh (its latest page only), so each run starts from the same timeline.
        d.execute_script("location.hash = ''")
        self.wait().until(lambda _: not d.find_elements(By.ID, HOOKS["messages"]))
        d.execute_script("location.hash = arguments[0]", reference)
        self.wait().until(EC.presence_of_element_located((By.ID, HOOKS["messages"])))
        time.sleep(1.0)
        d.execute_script("""
            const [threadId, marker] = arguments;
            window.__benchObserver?.disconnect();
            const marks = window.__marks = {}, frames = window.__frames = {};
            performance.setResourceTimingBufferSize(100000);
            performance.clearResourceTimings();
            window.__watchStart = performance.now();
            const pattern = new RegExp(marker + "(\\\\d+)", "g");
            const observer = window.__benchObserver = new MutationObserver((records) => {
              const at = performance.timeOrigin + performance.now();
              const fresh = [];
              for (const record of records) for (const node of record.addedNodes) {
                const text = node.textContent;
                if (!text || !text.includes(marker)) continue;
                for (const match of text.matchAll(pattern)) if (!(match[1] in marks)) { marks[match[1]] = at; fresh.push(match[1]); }
              }
              if (fresh.length) requestAnimationFrame(() => { const f = performance.timeOrigin + performance.now(); for (const k of fresh) frames[k] = f; });
            });
            observer.observe(document.getElementById(threadId), {childList: true, subtree: true});
            const long = window.__longTasks = [];
            window.__longTaskObserver?.disconnect();
            window.__longTaskObserver = new PerformanceObserver((list) => { for (const e of list.getEntries()) long.push(e.duration); });
            window.__longTaskObserver.observe({type: "longtask"});
        """, HOOKS["thread"], marker)
        answer()

    def collect(self):
        result = self.driver.execute_script("""
            window.__benchObserver?.disconnect();
            window.__longTaskObserver?.disconnect();
            const long = window.__longTasks ?? [];
            const rows = document.querySelectorAll(arguments[0]).length;
            const api = performance.getEntriesByType("resource").filter((e) => e.name.includes("/api/") && e.startTime >= window.__watchStart);
            const requests = api.length;
            const kinds = {};
            for (const e of api) {
              const url = new URL(e.name);
              const kind = url.pathname === "/api/v1/tickets" ? (url.searchParams.get("references") ? "rows asked about again (references=)" : url.searchParams.get("q") ? "searches (q=)" : "list pages") : url.pathname.replace(/T-\\d+/, "{ref}");
              kinds[kind] = (kinds[kind] ?? 0) + 1;
            }
            const messages = document.querySelectorAll(arguments[1]).length;
            return {marks: window.__marks, frames: window.__frames, requests, rows, kinds, messages, longCount: long.length,
                    longTotal: long.reduce((a, b) => a + b, 0), longMax: Math.max(0, ...long), skew: performance.timeOrigin + performance.now() - Date.now(),
                    visibility: `${document.visibilityState}${document.hasFocus() ? ", focused" : ", not focused"}`};
        """, HOOKS["row"], HOOKS["message"])
        answer(marks=result["marks"], frames=result["frames"], requests=result["requests"], clock_skew_ms=result["skew"], visibility=result["visibility"],
               notes=f"{result['rows']} rows in the list and {result['messages']} messages in the thread at the end; the page's API requests: "
                     f"{', '.join(f'{k} {v}' for k, v in sorted(result['kinds'].items()))}; {result['longCount']} long tasks (> 50 ms) on the page's main thread, "
                     f"{result['longTotal'] / 1000:.1f} s in all, longest {result['longMax']:.0f} ms")

    def metrics(self):
        found = self.driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
        answer(metrics={m["name"]: m["value"] for m in found})

    def dump(self):
        """What the page showed and logged when a command failed (to the log)."""
        try:
            print("page:", self.driver.current_url, self.driver.execute_script("return document.body.innerText.slice(0, 2000)"), flush=True)
            for entry in self.driver.get_log("browser"):
                print("console:", entry.get("level"), entry.get("message"), flush=True)
        except Exception as error:  # noqa: BLE001 - a report of a failure must not fail
            print("could not read the page:", error, flush=True)

    def quit(self):
        self.driver.quit()
        answer()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--handle", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    bench = None
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        name = command.pop("cmd")
        try:
            if bench is None:
                if name == "quit":
                    answer()
                    return
                bench = Bench(args)
            getattr(bench, name)(**command)
            if name == "quit":
                return
        except Exception as error:  # noqa: BLE001 - every failure goes back to the benchmark
            traceback.print_exc()
            if bench is not None:
                bench.dump()
            PROTOCOL.write(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}) + "\n")
            PROTOCOL.flush()
    if bench is not None:
        bench.driver.quit()


if __name__ == "__main__":
    main()
