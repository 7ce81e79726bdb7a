"""The supervisor's dashboard in a real browser, as inbox_flow.py calls it with Sam (a supervisor) and Ben signed in.

Sam opens the dashboard from the inbox's header and pauses the support queue; a customer writes,
and the queue's waiting count goes up without a reload. He reassigns one of Ben's tickets to Ana
(Ben's list drops it live), then resumes the queue, and routing takes the waiting ticket.
"""
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from support import click, step, wait


def queue_row(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f'#queues tr[data-queue="{name}"]')


def waiting(driver, name):
    return int(queue_row(driver, name).find_element(By.CSS_SELECTOR, ".waiting").text)


def lever(driver, name):
    return queue_row(driver, name).find_element(By.CSS_SELECTOR, 'button[data-lever="pause"]')


def supervise(stage, sam, ben, moved, customer):
    sam.find_element(By.ID, "dashboard-link").click()
    wait(sam).until(lambda d: queue_row(d, "support"))
    wait(sam).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class"))
    step("Sam opened the dashboard from the inbox's header")

    click(sam, lambda d: lever(d, "support"))
    wait(sam).until(lambda d: lever(d, "support").text == "Resume")
    # Read where a redrawn row cannot go stale between finding the cell and reading it.
    before = wait(sam).until(lambda d: (waiting(d, "support"),))[0]
    step("Sam paused the support queue from the dashboard")

    stage.message("wamid.BROWSER-NOOR-1", customer[0], customer[1], "Hello, is anyone there?")
    wait(sam).until(lambda d: waiting(d, "support") == before + 1)
    step("the queue's waiting count changed live on the dashboard")
    stage.screenshot(sam, "dashboard.png")

    click(sam, lambda d: d.find_element(By.CSS_SELECTOR, f'#agents tr[data-agent="ben"] .ticket-chip[data-ticket="{moved}"] button.reassign'))
    wait(sam).until(lambda d: d.find_element(By.ID, "reassign").is_displayed())
    Select(sam.find_element(By.ID, "reassign-agent")).select_by_value("ana")
    sam.find_element(By.ID, "reassign-submit").click()
    wait(sam).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#agents tr[data-agent="ana"] .ticket-chip[data-ticket="{moved}"]'))
    step("Sam reassigned a ticket from the dashboard")
    wait(ben).until(lambda d: not d.find_elements(By.CSS_SELECTOR, f'#tickets li[data-reference="{moved}"]'))
    step("the reassigned ticket left Ben's list without a reload")

    click(sam, lambda d: lever(d, "support"))
    wait(sam).until(lambda d: lever(d, "support").text == "Pause")
    wait(sam).until(lambda d: waiting(d, "support") == before)
    step("resuming the queue let routing take the waiting ticket")
