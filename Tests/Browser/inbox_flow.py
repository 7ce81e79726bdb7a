"""The web inbox and the dashboard in a real browser (Debian's chromium and chromium-driver, driven by Selenium).

Run by WebInboxBrowserTests with a daemon already started. Ben signs in; a customer's message
(whose name and text try HTML) appears in his open page without a reload, as text; he replies and
the Graph API stand-in takes it; Meta's delivered status shows the tick; he types / and picks a
canned response, which goes out with the customer's name filled in. A second customer's window
closes while her ticket is open: Ben's text is refused, the page offers the queue's fallback
template, and once he confirms it goes out and his text stays as a note; then the reply box offers
only templates, and a template goes out. Ben's note mentions Sam,
whose own page (a second browser) shows it; Ben resolves from the keyboard. Sam's dashboard
(dashboard_flow.py) sees a queue's waiting count change live and reassigns a ticket. Olu, of another
team, gets nothing from a ticket's URL; five wrong passwords slow the next attempt down. Prints one
line per step; exits 1 on the first failure, with what the pages showed.
"""
import sys

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

import dashboard_flow
from support import Stage, arguments, row, step, wait

NAME = "<img src=x onerror=\"window.pwned=1\">"
TEXT = "Hello, where is my parcel? <script>window.pwned=2</script><b>not bold</b>"
CUSTOMER, OLGA, NOOR = "447700900777", "447700900778", "447700900779"

args = arguments()
stage = Stage(args)


def press(driver, keys):
    """Keys typed with nothing focused, as a user does after clicking the page."""
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    ActionChains(driver).send_keys(keys).perform()


def open_row(driver, customer):
    found = wait(driver).until(lambda d: row(d, customer))
    reference = found.get_attribute("data-reference")
    found.click()
    wait(driver).until(lambda d: d.find_element(By.CSS_SELECTOR, ".thread-head .ref").text == reference)
    return reference


def agent_flow(ben):
    stage.sign_in(ben, "ben", "Ben")
    step("Ben signed in; the event stream is open")

    stage.message("wamid.BROWSER-1", CUSTOMER, NAME, TEXT)
    wait(ben).until(lambda d: row(d, NAME))
    step("the new ticket appeared in the list without a reload, its customer's name as text")
    first = open_row(ben, NAME)
    wait(ben).until(lambda d: any(TEXT == m.text for m in d.find_elements(By.CSS_SELECTOR, ".message .body")))
    step("the thread shows the message exactly as written")
    assert ben.execute_script("return window.pwned === undefined"), "customer text ran as script"
    assert not ben.find_elements(By.CSS_SELECTOR, "#tickets img, .messages script, .messages b, .thread-head img"), "customer text became HTML"
    step("nothing the customer wrote ran or became markup")

    stage.message("wamid.BROWSER-2", CUSTOMER, NAME, "And the invoice, please")
    wait(ben).until(lambda d: any(m.text == "And the invoice, please" for m in d.find_elements(By.CSS_SELECTOR, ".message .body")))
    step("a second message appeared in the open thread without a reload")

    wait(ben).until(lambda d: "Window" in d.find_element(By.CSS_SELECTOR, ".window-note").text)
    ben.find_element(By.ID, "reply-text").send_keys("Hi, it ships today.")
    ben.find_element(By.ID, "reply-send").click()
    wait(ben).until(lambda d: any(m.text == "Hi, it ships today." for m in d.find_elements(By.CSS_SELECTOR, ".message.outbound .body")))
    step("the reply appeared in the thread")
    wait(ben).until(lambda d: any(request.get("text", {}).get("body") == "Hi, it ships today." for _, _, request in stage.sends()))
    step("the Graph API stand-in took the reply")
    wait(ben).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.outbound .tick.sent"))
    step("the sent tick appeared once Meta accepted the reply")
    wamid = next(w for w, _, request in stage.sends() if request.get("text", {}).get("body") == "Hi, it ships today.")
    stage.delivered(wamid, CUSTOMER)
    wait(ben).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.outbound .tick.delivered"))
    step("the delivered tick appeared after the status webhook")
    stage.screenshot(ben, "inbox.png")
    canned_flow(ben, first)
    return first


def canned_flow(ben, reference):
    text = ben.find_element(By.ID, "reply-text")
    text.send_keys("/")

    def offered(d):
        options = d.find_elements(By.CSS_SELECTOR, "#canned-picker .canned-option")
        return [o.get_attribute("data-shortcut") for o in options] if options and options[0].is_displayed() else None
    shown = wait(ben).until(offered)
    assert "thanks" in shown and "sales-deal" not in shown, f"offered {shown}"
    text.send_keys("tha")
    wait(ben).until(lambda d: offered(d) == ["thanks"])
    step("typing / offered the canned responses Ben may use (not another queue's), filtered as he typed")
    text.send_keys(Keys.ENTER)
    expected = f"Hi {NAME}, thanks for waiting. Ben Carter ({reference})"
    wait(ben).until(lambda d: expected in d.find_element(By.ID, "canned-preview").text)
    assert ben.execute_script("return window.pwned === undefined"), "the customer's name ran as script in the preview"
    stage.screenshot(ben, "canned.png")
    ben.find_element(By.ID, "reply-send").click()
    wait(ben).until(lambda d: any(request.get("text", {}).get("body") == expected for _, _, request in stage.sends()))
    wait(ben).until(lambda d: d.find_element(By.ID, "reply-text").is_displayed())
    step("the canned response went out filled in with the customer's name")


def template_parameters(request):
    """A template request's body parameters, as texts."""
    components = request.get("template", {}).get("components") or [{}]
    return [p.get("text") for p in components[0].get("parameters", [])]


def template_flow(ben):
    stage.message("wamid.BROWSER-OLGA-1", OLGA, "Olga Petrova", "Can I still return the blue jacket?")
    reference = wait(ben).until(lambda d: row(d, "Olga Petrova")).get_attribute("data-reference")
    open_row(ben, "Olga Petrova")
    # The window closes while the page still offers free text: the reply is refused, and the page
    # offers the support queue's fallback template with what Olga would read.
    wait(ben).until(lambda d: "Window" in d.find_element(By.CSS_SELECTOR, ".window-note").text)
    stage.close_window(reference)
    ben.find_element(By.ID, "reply-text").send_keys("Yes, within 30 days.")
    ben.find_element(By.ID, "reply-send").click()
    dialog = wait(ben).until(EC.visibility_of_element_located((By.ID, "fallback-dialog")))
    assert "order_update" in dialog.text, dialog.text
    assert f"Hello Olga Petrova, your order {reference} has an update" in ben.find_element(By.ID, "fallback-preview").text
    step("a text into the closed window offered the queue's fallback template, with what Olga would read")
    stage.screenshot(ben, "fallback.png")
    ben.find_element(By.ID, "fallback-confirm").click()
    wait(ben).until(lambda d: any(to == OLGA and request.get("type") == "template" and template_parameters(request) == ["Olga Petrova", reference]
                                  for _, to, request in stage.sends()))
    wait(ben).until(lambda d: any("Yes, within 30 days." in n.text for n in d.find_elements(By.CSS_SELECTOR, ".messages .note")))
    step("confirmed, the fallback template went out and Ben's text stayed as a note")
    wait(ben).until(EC.visibility_of_element_located((By.ID, "template")))
    assert not ben.find_elements(By.ID, "reply-text") and not ben.find_elements(By.ID, "reply-send"), "free text offered with the window closed"
    assert "only an approved template" in ben.find_element(By.CSS_SELECTOR, ".window-note").text
    step("with the window closed the reply box offers only templates, no free text")
    choose = wait(ben).until(lambda d: len(Select(d.find_element(By.ID, "template")).options) > 1 and Select(d.find_element(By.ID, "template")))
    choose.select_by_visible_text("order_update (en)")
    ben.find_element(By.ID, "template-param-1").send_keys("Olga")
    ben.find_element(By.ID, "template-param-2").send_keys("#4471")
    wait(ben).until(lambda d: "Hello Olga, your order #4471" in d.find_element(By.ID, "template-preview").text)
    stage.screenshot(ben, "template.png")
    ben.find_element(By.ID, "template-send").click()
    wait(ben).until(lambda d: any(to == OLGA and request.get("type") == "template" and request["template"]["name"] == "order_update"
                                  and template_parameters(request) == ["Olga", "#4471"] for _, to, request in stage.sends()))
    step("a template reply went out to the stand-in")
    return reference


def mention_flow(ben, sam, first):
    stage.sign_in(sam, "sam", "Sam")
    Select(sam.find_element(By.ID, "presence")).select_by_value("online")
    wait(sam).until(lambda d: "online" in d.find_element(By.ID, "presence-dot").get_attribute("class"))
    open_row(ben, NAME)
    press(ben, "n")
    wait(ben).until(lambda d: d.switch_to.active_element.get_attribute("id") == "note-text")
    ben.switch_to.active_element.send_keys("@sam can you look at the customs form? @ana FYI")
    ben.find_element(By.ID, "note-send").click()
    wait(ben).until(lambda d: any("customs form" in n.text for n in d.find_elements(By.CSS_SELECTOR, ".messages .note")))
    step("Ben's note with a mention is in the thread, set apart")
    wait(ben).until(lambda d: "@ana not notified" in d.find_element(By.CSS_SELECTOR, ".compose-status").text)
    step("the page says whom the note could not notify (Ana cannot see Ben's ticket)")
    toast = wait(sam).until(lambda d: next((t for t in d.find_elements(By.CSS_SELECTOR, ".toast.mention")
                                            if first in t.text and "customs form" in t.text), None))
    step("the mention reached Sam's page live")
    toast.find_element(By.CSS_SELECTOR, ".toast-body").click()
    wait(sam).until(lambda d: d.find_element(By.CSS_SELECTOR, ".thread-head .ref").text == first)
    step("the toast opened the ticket for Sam")

    press(ben, "e")
    wait(ben).until(lambda d: d.find_element(By.ID, "ticket-status").text == "resolved")
    step("Ben resolved the ticket from the keyboard")


def other_team_flow(olu, first):
    olu.find_element(By.ID, "sign-out").click()
    wait(olu).until(EC.visibility_of_element_located((By.ID, "sign-in-form")))
    stage.sign_in(olu, "olu", "Olu")
    olu.get(f"{args.base}/#{first}")
    wait(olu).until(lambda d: "not found" in d.find_element(By.ID, "thread").text)
    assert not olu.find_elements(By.CSS_SELECTOR, ".message, .thread-head"), "another team's ticket was shown"
    assert not olu.find_elements(By.CSS_SELECTOR, f'#tickets li[data-reference="{first}"]')
    assert "parcel" not in olu.find_element(By.TAG_NAME, "body").text
    step("an agent of another team gets nothing from a ticket's URL")


def slowdown_flow(driver):
    driver.find_element(By.ID, "sign-out").click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "sign-in-form")))
    for attempt in range(5):
        driver.find_element(By.ID, "handle").clear()
        driver.find_element(By.ID, "handle").send_keys("olu")
        driver.find_element(By.ID, "password").clear()
        driver.find_element(By.ID, "password").send_keys(f"wrong password {attempt}")
        driver.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
        wait(driver).until(lambda d: "wrong handle or password" in d.find_element(By.ID, "sign-in-error").text)
        driver.execute_script("document.getElementById('sign-in-error').textContent = ''")
    driver.find_element(By.ID, "password").clear()
    driver.find_element(By.ID, "password").send_keys("wrong password 6")
    driver.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    wait(driver).until(lambda d: "too many wrong passwords" in d.find_element(By.ID, "sign-in-error").text)
    step("after five wrong passwords the page says to wait")


ben = sam = None
try:
    ben = stage.browser()
    first = agent_flow(ben)
    olga = template_flow(ben)
    sam = stage.browser()
    mention_flow(ben, sam, first)
    dashboard_flow.supervise(stage, sam, ben, moved=olga, customer=(NOOR, "Noor Haddad"))
    other_team_flow(ben, first)
    slowdown_flow(ben)
except Exception as error:  # noqa: BLE001 - every failure is reported with what the pages showed
    print(f"FAILED: {type(error).__name__}: {error}", flush=True)
    for name, driver in (("ben's window", ben), ("sam's window", sam)):
        if driver is not None:
            print(f"--- {name}: {driver.current_url}\n{driver.find_element(By.TAG_NAME, 'body').text[:3000]}", flush=True)
            logs = driver.get_log("browser") if hasattr(driver, "get_log") else []
            for entry in logs[-20:]:
                print(f"console: {entry.get('level')} {entry.get('message')}", flush=True)
    sys.exit(1)
finally:
    stage.quit()
