"""The web inbox in a real browser (Debian's chromium and chromium-driver, driven by Selenium).

Run by WebInboxBrowserTests with a daemon already started: signs Ben in through the page, sends a
customer's message by signed webhook and waits for it to appear in the open page without a reload
(list, then thread), checks that what the customer wrote (an <img onerror> name, a <script> text)
is shown as text and runs nothing, replies from the reply box and waits for the Graph API stand-in
to have taken it, and slows down a guesser after five wrong passwords. Prints one line per step;
exits 1 on the first failure.
"""
import argparse
import hashlib
import hmac
import json
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

parser = argparse.ArgumentParser()
parser.add_argument("--base", required=True)
parser.add_argument("--app-secret-file", required=True)
parser.add_argument("--password", required=True)
parser.add_argument("--screenshot", default=None)
parser.add_argument("--standin-log", required=True, help="what dev/graph-api-standin.py printed: the reply's wamid is there")
args = parser.parse_args()
secret = open(args.app_secret_file, "rb").read().strip()

NAME = "<img src=x onerror=\"window.pwned=1\">"
TEXT = "Hello, where is my parcel? <script>window.pwned=2</script><b>not bold</b>"


def webhook(wamid, text):
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "419561257915477", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": NAME}, "wa_id": "447700900777"}],
        "messages": [{"from": "447700900777", "id": wamid, "timestamp": str(int(time.time())), "type": "text", "text": {"body": text}}]}}]}]}).encode()
    signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(args.base + "/webhooks/whatsapp", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200, response.status


def delivered(wamid):
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "419561257915477", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "statuses": [{"id": wamid, "status": "delivered", "timestamp": str(int(time.time())), "recipient_id": "447700900777"}]}}]}]}).encode()
    signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(args.base + "/webhooks/whatsapp", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200, response.status


def step(text):
    print(f"ok: {text}", flush=True)


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 60)  # a deadline for a loaded machine, not a measure of speed
try:
    driver.get(args.base + "/")
    wait.until(EC.visibility_of_element_located((By.ID, "sign-in-form")))
    driver.find_element(By.ID, "handle").send_keys("ben")
    driver.find_element(By.ID, "password").send_keys(args.password)
    driver.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    wait.until(EC.visibility_of_element_located((By.ID, "inbox")))
    wait.until(lambda d: "Ben" in d.find_element(By.ID, "me").text)
    wait.until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class"))
    step("Ben signed in; the event stream is open")

    webhook("wamid.BROWSER-1", TEXT)
    row = wait.until(lambda d: next((li for li in d.find_elements(By.CSS_SELECTOR, "#tickets li")
                                     if li.find_element(By.CSS_SELECTOR, ".customer").text == NAME), None))
    step("the new ticket appeared in the list without a reload, its customer's name as text")
    row.click()
    wait.until(lambda d: any(TEXT == m.text for m in d.find_elements(By.CSS_SELECTOR, ".message .body")))
    step("the thread shows the message exactly as written")
    assert driver.execute_script("return window.pwned === undefined"), "customer text ran as script"
    assert not driver.find_elements(By.CSS_SELECTOR, "#tickets img, .messages script, .messages b"), "customer text became HTML"
    step("nothing the customer wrote ran or became markup")

    webhook("wamid.BROWSER-2", "And the invoice, please")
    wait.until(lambda d: any(m.text == "And the invoice, please" for m in d.find_elements(By.CSS_SELECTOR, ".message .body")))
    step("a second message appeared in the open thread without a reload")

    driver.find_element(By.ID, "reply-text").send_keys("Hi, it ships today.")
    driver.find_element(By.CSS_SELECTOR, ".reply button").click()
    wait.until(lambda d: any(m.text == "Hi, it ships today." for m in d.find_elements(By.CSS_SELECTOR, ".message.outbound .body")))
    step("the reply appeared in the thread")
    reference = row.get_attribute("data-reference")
    def sent(d):
        ticket = d.execute_async_script("fetch('/api/v1/tickets/' + arguments[0]).then(r => r.json()).then(arguments[1])", reference)
        return any(m["direction"] == "outbound" and m["status"] in ("sent", "delivered", "read") for m in ticket["messages"])
    wait.until(sent)
    step("the Graph API stand-in took the reply (status sent)")
    # Meta's status webhook says the reply was delivered: the open page shows it without a reload.
    wamid = next(line.split()[1] for line in open(args.standin_log) if line.startswith("send ") and "Hi, it ships today." in line)
    delivered(wamid)
    wait.until(lambda d: any("delivered" in m.find_element(By.CSS_SELECTOR, ".when").text for m in d.find_elements(By.CSS_SELECTOR, ".message.outbound")))
    step("the delivered tick appeared after the status webhook")
    if args.screenshot:
        driver.save_screenshot(args.screenshot)

    driver.find_element(By.ID, "sign-out").click()
    wait.until(EC.visibility_of_element_located((By.ID, "sign-in-form")))
    for attempt in range(5):
        driver.find_element(By.ID, "handle").clear()
        driver.find_element(By.ID, "handle").send_keys("ana")
        driver.find_element(By.ID, "password").clear()
        driver.find_element(By.ID, "password").send_keys(f"wrong password {attempt}")
        driver.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
        wait.until(lambda d: "wrong handle or password" in d.find_element(By.ID, "sign-in-error").text)
        driver.execute_script("document.getElementById('sign-in-error').textContent = ''")
    driver.find_element(By.ID, "password").clear()
    driver.find_element(By.ID, "password").send_keys("wrong password 6")
    driver.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    wait.until(lambda d: "too many wrong passwords" in d.find_element(By.ID, "sign-in-error").text)
    step("after five wrong passwords the page says to wait")
except Exception as error:  # noqa: BLE001 - every failure is reported with what the page showed
    print(f"FAILED: {type(error).__name__}: {error}", flush=True)
    print(driver.page_source[:4000], flush=True)
    sys.exit(1)
finally:
    driver.quit()
