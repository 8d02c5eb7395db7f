"""Opens the links of the account emails in a real browser (headless Chromium via Selenium).

usage: browser-check.py SERVER_BINARY

Starts the server on a free loopback port with a temporary SQLite database and the `file`
mail transport, then, like a person would:
  1. registers through the API, opens the verification link from the mail, presses the
     confirm button, sees 邮箱已验证, and checks through the API that the account is active;
  2. asks for a password reset, opens the link, types the new password twice, submits, sees
     密码已重置, and logs in with the new password (the old one no longer works).
It also fails when the browser reports a console error (a Content-Security-Policy violation)
or when a token from the mails appears in the server log.

Needs Chromium and chromedriver from the distribution (/usr/bin/chromedriver; nothing is
downloaded) and `pip install selenium`. Exit status 0 when every check passed.
"""
import email
import email.policy
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

PASSWORD = "Browser-Check-2026!"
NEW_PASSWORD = "Browser-Check-New-2026!"
CHROMEDRIVER = os.environ.get("TT_CHROMEDRIVER", "/usr/bin/chromedriver")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base, method, path, body=None, token=None):
    """(status, parsed JSON body or None)."""
    req = urllib.request.Request(base + "/api/v1" + path, method=method)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, data, timeout=10) as res:
            status, raw = res.status, res.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    return status, (json.loads(raw) if raw else None)


def mailed_link(mail_dir, address, page, deadline):
    """The `page` link of the newest mail to `address` (the job queue sends it within a second)."""
    pattern = re.compile(r"https?://\S+/" + re.escape(page) + r"\?token=[A-Za-z0-9_-]+")
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address not in str(message["To"]):
                continue
            body = message.get_body(preferencelist=("plain", "html")).get_content()
            match = pattern.search(body)
            if match:
                return match.group(0)
        time.sleep(0.2)
    sys.exit(f"FAIL: no {page} mail to {address}")


def check(condition, what):
    if not condition:
        sys.exit(f"FAIL: {what}")
    print(f"ok: {what}")


def browser():
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    return driver


def submit_and_expect(driver, button_id, heading):
    """Clicks the button and waits for the next page's <h1> to read `heading`. The old page's
    heading goes stale first, so the check never reads the page being left."""
    old = driver.find_element(By.TAG_NAME, "h1")
    driver.find_element(By.ID, button_id).click()
    wait = WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,))
    wait.until(ec.staleness_of(old))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), heading))


def console_errors(driver):
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    work = pathlib.Path(tempfile.mkdtemp(prefix="tt-browser-"))
    mail_dir = work / "mail"
    mail_dir.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        TT__DATABASE__URL=f"sqlite://{work}/browser.db",
        TT__SERVER__HOST="127.0.0.1",
        TT__SERVER__PORT=str(port),
        TT__SERVER__PUBLIC_BASE_URL=base,
        TT__MAIL__TRANSPORT="file",
        TT__MAIL__FILE_DIR=str(mail_dir),
        TT__AUTH__ARGON2_M_KIB="1024",
        TT__AUTH__ARGON2_T="1",
        TT__JOBS__INTERVAL_SECS="1",
        TT__LOG__LEVEL="debug",
        TT__LOG__FORMAT="json",
        TT__STORAGE__URL=str(work / "files"),
    )
    log_path = work / "server.log"
    log = open(log_path, "wb")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    driver = None
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"FAIL: the server did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.2)
        driver = browser()
        address = f"browser{int(time.time())}@example.cn"

        # 1. Email verification.
        status, _ = api(base, "POST", "/auth/register",
                        {"email": address, "password": PASSWORD, "display_name": "浏览器检查"})
        check(status == 201, "registered through the API")
        link = mailed_link(mail_dir, address, "verify-email", deadline)
        check(link.startswith(base + "/verify-email?token="), "the verification mail links to the page")
        driver.get(link)
        check("验证邮箱" in driver.title, "the verification page opened")
        status, tokens = api(base, "POST", "/auth/login", {"email": address, "password": PASSWORD})
        status, me = api(base, "GET", "/me", token=tokens["access_token"])
        check(me["status"] == "unverified", "opening the link alone verified nothing")
        submit_and_expect(driver, "confirm", "邮箱已验证")
        check(True, "the browser shows 邮箱已验证")
        status, tokens = api(base, "POST", "/auth/login", {"email": address, "password": PASSWORD})
        status, me = api(base, "GET", "/me", token=tokens["access_token"])
        check(status == 200 and me["status"] == "active", "the API reports the email verified")

        # 2. Password reset.
        status, _ = api(base, "POST", "/auth/password-reset", {"email": address})
        check(status == 202, "asked for a password reset")
        reset_link = mailed_link(mail_dir, address, "reset-password", deadline)
        driver.get(reset_link)
        check("重置密码" in driver.title, "the reset page opened")
        driver.find_element(By.ID, "new_password").send_keys(NEW_PASSWORD)
        driver.find_element(By.ID, "new_password_again").send_keys(NEW_PASSWORD)
        submit_and_expect(driver, "submit", "密码已重置")
        check(True, "the browser shows 密码已重置")
        status, _ = api(base, "POST", "/auth/login", {"email": address, "password": NEW_PASSWORD})
        check(status == 200, "the new password logs in")
        status, _ = api(base, "POST", "/auth/login", {"email": address, "password": PASSWORD})
        check(status == 401, "the old password no longer does")

        errors = console_errors(driver)
        check(not errors, f"no browser console errors {errors}")
        log.flush()
        server_log = log_path.read_text(errors="replace")
        for token_link in (link, reset_link):
            token = token_link.split("token=", 1)[1]
            check(token not in server_log, "no mailed token in the server log")
        print("browser check passed")
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
