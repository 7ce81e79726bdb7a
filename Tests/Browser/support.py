"""What the browser flows share: arguments, Meta's signed webhooks, the database for what only time can do, and Chromium sessions.

Every wait is a WebDriverWait with a deadline for a loaded machine (60 s), never a sleep: a step
passes as soon as the page shows what a user would see.
"""
import argparse
import hashlib
import hmac
import json
import os
import subprocess
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

DEADLINE = 60  # seconds: a bound for a loaded machine, not a measure of speed
BUSINESS = {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"}


def arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--app-secret-file", required=True)
    parser.add_argument("--password", required=True, help="the password of every agent the flows sign in as")
    parser.add_argument("--standin-log", required=True, help="what dev/graph-api-standin.py printed: the replies it took")
    parser.add_argument("--database", required=True, help="libpq connection string of the daemon's database (psql closes a window)")
    parser.add_argument("--screenshot-dir", default=None)
    return parser.parse_args()


def step(text):
    print(f"ok: {text}", flush=True)


class Stage:
    def __init__(self, args):
        self.args = args
        self.secret = open(args.app_secret_file, "rb").read().strip()
        self.drivers = []

    # Meta's side.

    def post(self, value):
        body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "419561257915477", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": BUSINESS, **value}}]}]}).encode()
        signature = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(self.args.base + "/webhooks/whatsapp", data=body, method="POST",
                                         headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
        with urllib.request.urlopen(request) as response:
            assert response.status == 200, response.status

    def message(self, wamid, customer, name, text):
        self.post({"contacts": [{"profile": {"name": name}, "wa_id": customer}],
                   "messages": [{"from": customer, "id": wamid, "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}]})

    def delivered(self, wamid, customer):
        self.post({"statuses": [{"id": wamid, "status": "delivered", "timestamp": str(int(time.time())), "recipient_id": customer}]})

    def sends(self):
        """The stand-in's `send <wamid> to <customer>: <json>` lines, as (wamid, customer, request)."""
        found = []
        for line in open(self.args.standin_log, encoding="utf-8", errors="replace"):
            if line.startswith("send ") and ": {" in line:
                head, body = line.split(": ", 1)
                parts = head.split()
                found.append((parts[1], parts[3], json.loads(body)))
        return found

    def close_window(self, reference):
        """The customer's last message 25 hours ago, as far as the window goes (only time could do it otherwise)."""
        subprocess.run(["psql", self.args.database, "-v", "ON_ERROR_STOP=1", "-qc",
                        "UPDATE switchboard.tickets SET customer_window_expires_at = now() - interval '1 hour' "
                        f"WHERE reference = '{reference}'"], check=True, env={**os.environ, "PGCONNECT_TIMEOUT": "10"})

    # The browser's side.

    def browser(self):
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1360,860", "--lang=en-GB"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.drivers.append(driver)
        return driver

    def sign_in(self, driver, handle, name):
        driver.get(self.args.base + "/")
        wait(driver).until(EC.visibility_of_element_located((By.ID, "sign-in-form")))
        driver.find_element(By.ID, "handle").clear()
        driver.find_element(By.ID, "handle").send_keys(handle)
        driver.find_element(By.ID, "password").send_keys(self.args.password)
        driver.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
        wait(driver).until(EC.visibility_of_element_located((By.ID, "inbox")))
        wait(driver).until(lambda d: name in d.find_element(By.ID, "me").text)
        wait(driver).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class"))

    def screenshot(self, driver, name):
        if self.args.screenshot_dir:
            os.makedirs(self.args.screenshot_dir, exist_ok=True)
            driver.save_screenshot(os.path.join(self.args.screenshot_dir, name))

    def quit(self):
        for driver in self.drivers:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001 - quitting what may already be gone
                pass


def wait(driver):
    return WebDriverWait(driver, DEADLINE, ignored_exceptions=[StaleElementReferenceException])


def click(driver, locate):
    """Clicks what `locate(driver)` finds, finding it again if the page replaced it in between
    (a live page redraws a row when its figures change)."""
    def attempt(d):
        locate(d).click()
        return True
    wait(driver).until(attempt)


def row(driver, customer):
    """The list's row whose customer is `customer`, or None."""
    for li in driver.find_elements(By.CSS_SELECTOR, "#tickets li.ticket"):
        if li.find_element(By.CSS_SELECTOR, ".customer").text == customer:
            return li
    return None
