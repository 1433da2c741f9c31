"""Drives the web console in headless Chromium against a running imagegen with the mock provider.

Run by ConsoleBrowserTests (swift test), which starts the system and passes:
  console_test.py API_BASE_URL PROVIDER_BASE_URL USER_KEY ADMIN_KEY SCREENSHOT_DIR
Every wait is a liveness guard (generous timeouts); what is checked is the page's state.
Exits non-zero with the first failed check.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

API, PROVIDER, USER_KEY, ADMIN_KEY, SHOTS = sys.argv[1:6]
LIVENESS = 90  # seconds; a guard against a hang, never the thing a check is about
XSS_PROMPT = '<img src=x onerror="window.__xss = 1"> a fox & a <b>hound</b>'


def api(method, path, key, body=None, base=API):
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header('Content-Type', 'application/json')
    if key:
        request.add_header('Authorization', f'Bearer {key}')
    try:
        with urllib.request.urlopen(request, timeout=LIVENESS) as response:
            return response.status, json.loads(response.read() or b'null')
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b'null')


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def wait(driver, condition, what):
    try:
        return WebDriverWait(driver, LIVENESS, poll_frequency=0.1).until(lambda d: condition(d))
    except TimeoutException:
        raise AssertionError(f'waited {LIVENESS} s for {what}') from None


def by_test_id(driver, test_id):
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{test_id}"]')


def task_status(driver, task_id):
    found = driver.find_elements(By.CSS_SELECTOR, f'#recent [data-testid="task-status"][data-task-id="{task_id}"]')
    return found[0] if found else None


def newest_task_id(driver, count_before):
    items = wait(driver, lambda d: (lambda found: found if len(found) > count_before else None)(
        d.find_elements(By.CSS_SELECTOR, '#recent li.task')), 'the submitted task to appear')
    return items[0].get_attribute('data-task-id')


def submit(driver, prompt):
    before = len(driver.find_elements(By.CSS_SELECTOR, '#recent li.task'))
    box = by_test_id(driver, 'prompt')
    box.clear()
    box.send_keys(prompt)
    by_test_id(driver, 'submit').click()
    return newest_task_id(driver, before)


def wait_status(driver, task_id, status):
    wait(driver, lambda d: (task_status(d, task_id) or {}) and task_status(d, task_id).get_attribute('data-status') == status,
         f'task {task_id} to show {status}')


def card_ids(driver):
    """The gallery's cards as task ids, read in one step (the gallery replaces its cards as pages load)."""
    return driver.execute_script('return [...document.querySelectorAll("#gallery li.card")].map(c => c.dataset.taskId)')


def severe_console_entries(driver):
    return [entry for entry in driver.get_log('browser') if entry['level'] == 'SEVERE']


def d_visible(driver, element_id):
    return driver.find_element(By.ID, element_id).is_displayed()


def sign_in(driver, key):
    driver.get(API + '/')
    field = wait(driver, lambda d: by_test_id(d, 'api-key'), 'the sign-in form')
    field.send_keys(key)
    by_test_id(driver, 'sign-in').click()
    wait(driver, lambda d: by_test_id(d, 'signed-in-as').text, 'the signed-in user name')
    check(d_visible(driver, 'tabs') and not d_visible(driver, 'sign-in-view'), 'the tabs replace the sign-in form')


def main():
    options = webdriver.ChromeOptions()
    for argument in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--window-size=1200,900'):
        options.add_argument(argument)
    options.binary_location = '/usr/bin/chromium'
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=options)
    try:
        run(driver)
    finally:
        driver.quit()


def run(driver):
    os.makedirs(SHOTS, exist_ok=True)

    # A wrong key is refused on the page; its 401 is the one console error this test causes on purpose.
    driver.get(API + '/')
    check(not d_visible(driver, 'tabs'), 'no tabs before signing in')
    by_test_id(driver, 'api-key').send_keys('ig_not-a-key')
    by_test_id(driver, 'sign-in').click()
    wait(driver, lambda d: 'unknown or revoked' in d.find_element(By.ID, 'sign-in-error').text, 'the wrong key to be refused')
    driver.get_log('browser')  # reading the log empties it

    sign_in(driver, USER_KEY)
    check(not driver.find_element(By.ID, 'operators-tab').is_displayed(), 'an ordinary key sees no operator tab')
    check(USER_KEY not in driver.current_url, 'the key is never in the URL')
    check(driver.execute_script('return sessionStorage.getItem("imagegen.apiKey")') == USER_KEY, 'the key is in session storage')

    # Create: the price is on the button before submitting; the task goes live to succeeded.
    wait(driver, lambda d: '$' in by_test_id(d, 'submit').text, 'the price on the submit button')
    check('fits your limits' in driver.find_element(By.ID, 'estimate').text, 'the estimate says it fits')
    fox = submit(driver, 'a red fox in the snow')
    wait_status(driver, fox, 'succeeded')
    wait(driver, lambda d: d.execute_script(
        'const i = document.querySelector(`#recent li[data-task-id="${arguments[0]}"] img.thumb`); return i && i.complete && i.naturalWidth > 0;',
        fox), 'the image to render')

    # The model's own options: gpt-image-2 offers an output format, and a JPEG comes back and renders.
    Select(driver.find_element(By.ID, 'model')).select_by_value('gpt-image-2')
    wait(driver, lambda d: d.find_element(By.ID, 'output-format-field').is_displayed(), 'the output format choice')
    check(not d_visible(driver, 'style-field'), 'gpt-image-2 offers no style')
    Select(driver.find_element(By.ID, 'output-format')).select_by_value('jpeg')
    Select(driver.find_element(By.ID, 'quality')).select_by_value('low')
    jpeg = submit(driver, 'a harbour at night, as a jpeg')
    wait_status(driver, jpeg, 'succeeded')
    wait(driver, lambda d: d.execute_script(
        'const i = document.querySelector(`#recent li[data-task-id="${arguments[0]}"] img.thumb`); return i && i.complete && i.naturalWidth > 0;',
        jpeg), 'the JPEG to render')
    status, task = api('GET', f'/images/tasks/{jpeg}/status', USER_KEY)
    check(task['model'] == 'gpt-image-2' and task['images'][0]['media_type'] == 'image/jpeg', f'a gpt-image-2 JPEG, got {task["model"]}')

    # Drafts: the mock streams two drafts of a held gpt-image-2 call; the latest shows in the
    # task's card while the call runs (it ends when the cancel step below releases held calls).
    Select(driver.find_element(By.ID, 'output-format')).select_by_value('default')
    Select(driver.find_element(By.ID, 'drafts')).select_by_value('2')
    drafted = submit(driver, '[mock:hold] a heron, in drafts')
    wait(driver, lambda d: d.execute_script(
        'const i = document.querySelector(`#recent li[data-task-id="${arguments[0]}"] img.draft`); return i && i.complete && i.naturalWidth > 0;',
        drafted), 'a draft to render while the call runs')
    check(task_status(driver, drafted).get_attribute('data-status') == 'running', 'the drafted task still runs')
    Select(driver.find_element(By.ID, 'drafts')).select_by_value('0')
    Select(driver.find_element(By.ID, 'model')).select_by_value('dall-e-3')
    wait(driver, lambda d: not d_visible(d, 'drafts-field'), 'dall-e-3 to offer no drafts')
    wait(driver, lambda d: not d_visible(d, 'output-format-field'), 'dall-e-3 to offer no output format')

    # A prompt with markup is shown as text: no element made from it, no script run.
    xss = submit(driver, XSS_PROMPT)
    wait_status(driver, xss, 'succeeded')
    prompt_text = driver.find_element(By.CSS_SELECTOR, f'#recent li[data-task-id="{xss}"] .prompt').text
    check(prompt_text == XSS_PROMPT, f'the prompt is shown as typed, got {prompt_text!r}')
    check(not driver.find_elements(By.CSS_SELECTOR, 'img[src="x"], b'), 'no element was made from the prompt')
    check(driver.execute_script('return window.__xss') is None, 'no script from the prompt ran')

    # A slow task (the mock holds its call) is canceled from the page: cancel requested while
    # the call runs, canceled once the call ends.
    slow = submit(driver, '[mock:hold] a slow one')
    wait_status(driver, slow, 'running')
    driver.find_element(By.CSS_SELECTOR, f'#recent li[data-task-id="{slow}"] [data-testid="cancel"]').click()
    wait(driver, lambda d: 'cancel requested' in task_status(d, slow).text, 'cancel requested to show')
    status, _ = api('POST', '/_mock/release', None, {}, base=PROVIDER.removesuffix('/v1'))
    check(status == 200, f'the mock released its held calls (HTTP {status})')
    wait_status(driver, slow, 'canceled')
    # Released too, the drafted task ends: its image replaces the draft.
    wait_status(driver, drafted, 'succeeded')
    wait(driver, lambda d: d.execute_script(
        'const c = document.querySelector(`#recent li[data-task-id="${arguments[0]}"]`); const i = c.querySelector("img.thumb");'
        ' return !c.querySelector("img.draft") && i && i.complete && i.naturalWidth > 0;', drafted), 'the image to replace the draft')
    driver.save_screenshot(os.path.join(SHOTS, 'create.png'))

    # Enough tasks for two gallery pages; one fails for good once, for the operator's retry below.
    for index in range(11):
        status, _ = api('POST', '/images/generate', USER_KEY, {'prompt': f'gallery picture {index}', 'model': 'dall-e-2', 'size': '256x256'})
        check(status == 202, f'submission {index} accepted (HTTP {status})')
    status, failed = api('POST', '/images/generate', USER_KEY, {'prompt': '[mock:content_policyx1] refused once'})
    check(status == 202, 'the refused task was accepted')
    failed_id = failed['task_id']
    for _ in range(LIVENESS * 10):
        _, page = api('GET', '/images/tasks?limit=100', USER_KEY)
        if all(task['status'] in ('succeeded', 'failed', 'canceled') for task in page['tasks']):
            break
        time.sleep(0.1)
    total = len(page['tasks'])
    check(total == 17, f'17 tasks in all, got {total}')

    # Gallery: newest first, 12 a page, thumbnails, full-size view with a download link, then the older page.
    driver.find_element(By.CSS_SELECTOR, '#tabs a[data-view="gallery"]').click()
    gallery = by_test_id(driver, 'gallery')
    wait(driver, lambda d: len(card_ids(d)) == 12, 'the first page of 12')
    first_page = card_ids(driver)
    check(first_page[0] == failed_id, 'the newest task comes first')
    wait(driver, lambda d: d.execute_script(
        'return [...document.querySelectorAll("#gallery img.thumb")].filter(i => i.complete && i.naturalWidth > 0).length') == 11,
        'the 11 thumbnails of the first page to render')
    driver.save_screenshot(os.path.join(SHOTS, 'gallery.png'))
    gallery.find_element(By.CSS_SELECTOR, 'img.thumb').click()
    viewer = wait(driver, lambda d: d.find_element(By.ID, 'viewer') if d.find_element(By.ID, 'viewer').get_attribute('open') is not None else None, 'the full-size view')
    download = driver.find_element(By.ID, 'viewer-download')
    check(download.get_attribute('href').startswith('blob:') and download.get_attribute('download'), 'the full-size view offers a download')
    driver.find_element(By.ID, 'viewer-close').click()
    wait(driver, lambda d: viewer.get_attribute('open') is None, 'the full-size view to close')
    by_test_id(driver, 'gallery-next').click()
    wait(driver, lambda d: len(card_ids(d)) == 5, 'the second page of 5')
    second_page = card_ids(driver)
    check(not set(first_page) & set(second_page), 'the pages do not overlap')
    check(not by_test_id(driver, 'gallery-next').is_enabled(), 'there is no third page')
    Select(driver.find_element(By.ID, 'gallery-status')).select_by_visible_text('canceled')
    wait(driver, lambda d: card_ids(d) == [slow], 'the status filter to show the canceled task only')
    xss_card_text = driver.execute_script(
        'return [...document.querySelectorAll("#gallery .prompt")].map(p => p.textContent)')
    check(all('<img' not in text or text == XSS_PROMPT for text in xss_card_text), 'gallery prompts are text')

    # Usage: today's spend and a bar per day.
    driver.find_element(By.CSS_SELECTOR, '#tabs a[data-view="usage"]').click()
    wait(driver, lambda d: '$' in by_test_id(d, 'usage-today').text, "today's spend")
    bars = driver.find_elements(By.CSS_SELECTOR, '#usage-chart rect.bar')
    check(len(bars) == 30, f'30 days in the chart, got {len(bars)}')

    # An ordinary key: the operator view says it needs an admin key, and the server refuses it too.
    driver.get(API + '/#operators')
    wait(driver, lambda d: 'needs an admin key' in d.find_element(By.ID, 'operators-error').text, 'the operator view to refuse')
    status, body = api('GET', '/admin/queue', USER_KEY)
    check(status == 403 and body['error']['code'] == 'admin_required', f'the server refuses an ordinary key (HTTP {status})')
    errors = severe_console_entries(driver)
    check(not errors, f'no errors in the browser console: {errors}')

    # An admin key: the queue view, the dead letter retried from the page, spend per user.
    driver.find_element(By.ID, 'sign-out').click()
    wait(driver, lambda d: by_test_id(d, 'api-key').is_displayed(), 'the sign-in form after signing out')
    sign_in(driver, ADMIN_KEY)
    tab = driver.find_element(By.ID, 'operators-tab')
    check(tab.is_displayed(), 'an admin key sees the operator tab')
    tab.click()
    wait(driver, lambda d: 'Ready' in by_test_id(d, 'queue-view').text, 'the queue view')
    wait(driver, lambda d: 'content_policy_violation' in d.find_element(By.ID, 'problems').text, 'failures by code')
    wait(driver, lambda d: failed_id[:8] in d.find_element(By.ID, 'dead-letters').text, 'the dead letter')
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '#queue-chart polyline'), 'the queue chart')
    check(driver.find_element(By.ID, 'cost-report').text.count('console-user') == 1, 'spend per user lists the user')
    driver.save_screenshot(os.path.join(SHOTS, 'operators.png'))
    driver.find_element(By.CSS_SELECTOR, '#dead-letters [data-testid="retry-task"]').click()
    for _ in range(LIVENESS * 10):
        _, task = api('GET', f'/images/tasks/{failed_id}/status', USER_KEY)
        if task['status'] == 'succeeded':
            break
        time.sleep(0.1)
    check(task['status'] == 'succeeded', f'the retried dead letter succeeded, got {task["status"]}')

    # Phone width: nothing wider than the screen.
    driver.set_window_size(390, 844)
    driver.find_element(By.CSS_SELECTOR, '#tabs a[data-view="create"]').click()
    overflow = driver.execute_script('return document.documentElement.scrollWidth - document.documentElement.clientWidth')
    check(overflow <= 0, f'the create page fits a phone ({overflow} px too wide)')
    errors = severe_console_entries(driver)
    check(not errors, f'no errors in the browser console: {errors}')
    print('console: all checks passed')


if __name__ == '__main__':
    try:
        main()
    except AssertionError as failure:
        print(f'console check failed: {failure}', file=sys.stderr)
        sys.exit(1)
