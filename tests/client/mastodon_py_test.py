#!/usr/bin/env python3
"""End-to-end test of ferrodon with the unmodified Mastodon.py client library.

    mastodon_py_test.py BASE_URL            e.g. http://127.0.0.1:41234

Needs a running `ferrodon web` and a worker, with the demo accounts from `ferrodon db seed`
(alice, bob and charlie, emails <name>@localhost, password ferrodon-demo-password).

Runs a list of named steps; a step whose prerequisites failed is skipped, the others still run.
If FERRODON_API_RECORD_DIR is set, every HTTP exchange is appended to
$FERRODON_API_RECORD_DIR/mastodon_py.jsonl for tests/client/openapi_check.py.
Prints `client test: N passed, M failed` and exits 1 on any failure.
"""

from __future__ import annotations

import html.parser
import json
import os
import secrets
import sys
import time
import traceback
import warnings
from importlib.metadata import version as package_version
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from mastodon import Mastodon
from mastodon.errors import MastodonIllegalArgumentError, MastodonNotFoundError, MastodonUnauthorizedError

PASSWORD = "ferrodon-demo-password"
SCOPES = ["read", "write", "follow", "push"]
OOB = "urn:ietf:wg:oauth:2.0:oob"
# Never contacted: the test reads the redirect's Location header without following it.
CALLBACK = "http://127.0.0.1:9/ferrodon-client-test/callback"
POLL_SECONDS = 10
TIMEOUT = 30


# ---- recording -----------------------------------------------------------------------------
class Recorder:
    def __init__(self, directory: str | None):
        self.file = None
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            self.file = open(Path(directory) / "mastodon_py.jsonl", "a", encoding="utf-8")

    def hook(self, response: requests.Response, *args, **kwargs):
        if self.file is None:
            return
        url = urlsplit(response.request.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        content_type = response.headers.get("Content-Type", "")
        body = None
        if "json" in content_type.lower() and response.content:
            try:
                body = response.json()
            except ValueError:
                body = None
        record = {
            "method": response.request.method,
            "path": path,
            "status": response.status_code,
            "body": body,
            "content_type": content_type,
            "source": "mastodon_py_test",
        }
        self.file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.file.flush()


RECORDER = Recorder(os.environ.get("FERRODON_API_RECORD_DIR"))


def new_session() -> requests.Session:
    s = requests.Session()
    s.hooks["response"].append(RECORDER.hook)
    return s


# ---- helpers -------------------------------------------------------------------------------
class Skip(Exception):
    pass


def poll(what: str, fn, seconds: float = POLL_SECONDS, interval: float = 0.25):
    """Calls fn() until it returns a truthy value; fails with the last value after `seconds`."""
    deadline = time.monotonic() + seconds
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not true after {seconds}s")
        time.sleep(interval)


def ids(items) -> list[str]:
    return [str(x["id"]) for x in items]


class FormParser(html.parser.HTMLParser):
    """Collects <form> elements with their <input>s, and the text of <code id=authorization-code>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._in_form = False
        self._in_code = False
        self.code_text: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.forms.append({"method": a.get("method", "get").lower(), "action": a.get("action", ""), "inputs": []})
            self._in_form = True
        elif tag == "input" and self._in_form:
            self.forms[-1]["inputs"].append(a)
        elif tag == "code" and a.get("id") == "authorization-code":
            self._in_code = True
            self.code_text = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "code":
            self._in_code = False

    def handle_data(self, data):
        if self._in_code:
            self.code_text = (self.code_text or "") + data


def authorization_form(page_html: str) -> dict:
    p = FormParser()
    p.feed(page_html)
    for form in p.forms:
        if form["method"] == "post" and urlsplit(form["action"]).path == "/oauth/authorize":
            return form
    raise AssertionError(
        'authorization page has no <form method="post" action="/oauth/authorize">; '
        f"forms found: {[(f['method'], f['action']) for f in p.forms]}"
    )


def authorize(auth_url: str, email: str, password: str) -> requests.Response:
    """Fetches the authorization page, fills in the form as a browser would and submits it."""
    browser = new_session()
    page = browser.get(auth_url, timeout=TIMEOUT)
    assert page.status_code == 200, f"GET {auth_url} -> {page.status_code}: {page.text[:300]}"
    assert "html" in page.headers.get("Content-Type", ""), \
        f"authorization page Content-Type is {page.headers.get('Content-Type')!r}, expected text/html"
    form = authorization_form(page.text)
    data = {}
    names = set()
    for inp in form["inputs"]:
        name = inp.get("name")
        if not name:
            continue
        names.add(name)
        kind = inp.get("type", "text").lower()
        if kind == "hidden":
            data[name] = inp.get("value", "")
    assert "username" in names, f"form has no input named 'username' (inputs: {sorted(names)})"
    assert "password" in names, f"form has no input named 'password' (inputs: {sorted(names)})"
    data["username"] = email
    data["password"] = password
    action = urljoin(page.url, form["action"])
    return browser.post(action, data=data, allow_redirects=False, timeout=TIMEOUT)


def code_from_oob_page(resp: requests.Response) -> str:
    assert resp.status_code == 200, f"POST /oauth/authorize -> {resp.status_code}: {resp.text[:300]}"
    p = FormParser()
    p.feed(resp.text)
    assert p.code_text is not None, \
        f'no <code id="authorization-code"> in the response: {resp.text[:300]}'
    code = p.code_text.strip()
    assert code, "empty authorization code"
    return code


# ---- the test ------------------------------------------------------------------------------
class ClientTest:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.host = urlsplit(self.base).netloc
        self.nonce = secrets.token_hex(4)
        self.steps: list[tuple[str, list[str], callable]] = []
        self.results: dict[str, str] = {}  # name -> "pass" | "fail" | "skip"
        # State shared between steps.
        self.client_id = self.client_secret = None
        self.alice = self.bob = self.charlie = None
        self.alice_account = self.bob_account = None
        self.post = self.reply = self.reblog = None

    def step(self, name: str, needs: list[str] | None = None):
        def register(fn):
            self.steps.append((name, needs or [], fn))
            return fn
        return register

    def api(self, token: str | None = None) -> Mastodon:
        return Mastodon(
            client_id=self.client_id,
            client_secret=self.client_secret,
            access_token=token,
            api_base_url=self.base,
            session=new_session(),
            request_timeout=TIMEOUT,
            ratelimit_method="throw",
        )

    def run(self) -> int:
        print(f"client test: Mastodon.py {package_version('Mastodon.py')} against {self.base}")
        for name, needs, fn in self.steps:
            missing = [n for n in needs if self.results.get(n) != "pass"]
            if missing:
                self.results[name] = "skip"
                print(f"SKIP {name} (needs {', '.join(missing)})")
                continue
            started = time.monotonic()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    fn()
                    self.results[name] = "pass"
                    print(f"PASS {name} ({time.monotonic() - started:.2f}s)")
                except AssertionError as e:
                    self.results[name] = "fail"
                    print(f"FAIL {name}: {e}")
                except Exception as e:  # noqa: BLE001 - report any error as a step failure
                    self.results[name] = "fail"
                    print(f"FAIL {name}: {type(e).__name__}: {e}")
                    tb = traceback.format_exc().strip().splitlines()
                    print("    " + "\n    ".join(tb[-5:-1]))
            for w in caught:
                print(f"     warning in {name}: {w.category.__name__}: {w.message}")
        passed = sum(1 for r in self.results.values() if r == "pass")
        failed = sum(1 for r in self.results.values() if r == "fail")
        skipped = [n for n, r in self.results.items() if r == "skip"]
        if skipped:
            print(f"skipped because an earlier step failed: {', '.join(skipped)}")
        print(f"client test: {passed} passed, {failed} failed")
        return 0 if failed == 0 and not skipped else 1


def build(t: ClientTest) -> ClientTest:
    @t.step("health")
    def _():
        r = new_session().get(f"{t.base}/health", timeout=TIMEOUT)
        assert r.status_code == 200, f"GET /health -> {r.status_code}"

    @t.step("create_app")
    def _():
        t.client_id, t.client_secret = Mastodon.create_app(
            "ferrodon client test",
            scopes=SCOPES,
            redirect_uris=OOB,
            website="https://example.org/ferrodon-client-test",
            api_base_url=t.base,
            session=new_session(),
            request_timeout=TIMEOUT,
        )
        assert t.client_id and t.client_secret, "create_app returned an empty client_id or client_secret"

    @t.step("unauthenticated_request_rejected", needs=["create_app"])
    def _():
        try:
            t.api().account_verify_credentials()
        except MastodonUnauthorizedError:
            return
        raise AssertionError("GET /api/v1/accounts/verify_credentials without a token did not answer 401")

    @t.step("password_grant_alice", needs=["create_app"])
    def _():
        t.alice = t.api()
        token = t.alice.log_in(username="alice@localhost", password=PASSWORD, scopes=SCOPES, allow_http=True)
        assert token, "log_in returned an empty access token"

    @t.step("password_grant_wrong_password_rejected", needs=["create_app"])
    def _():
        try:
            t.api().log_in(username="alice@localhost", password="not-" + PASSWORD, scopes=SCOPES, allow_http=True)
        except MastodonIllegalArgumentError as e:
            # Mastodon.py wraps the API error: (..., 400, 'Bad Request', 'invalid_grant'); Mastodon answers 400.
            assert "400" in str(e) and "invalid_grant" in str(e), \
                f"expected a 400 invalid_grant error, got: {e}"
            return
        raise AssertionError("log_in with a wrong password succeeded")

    @t.step("authorization_code_bob", needs=["create_app"])
    def _():
        bob = t.api()
        url = bob.auth_request_url(redirect_uris=OOB, scopes=SCOPES, state=secrets.token_hex(8), allow_http=True)
        resp = authorize(url, "bob@localhost", PASSWORD)
        code = code_from_oob_page(resp)
        token = bob.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
        assert token, "log_in(code=...) returned an empty access token"
        t.bob = bob

    @t.step("authorization_code_wrong_password_rejected", needs=["create_app"])
    def _():
        api = t.api()
        url = api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, state=secrets.token_hex(8), allow_http=True)
        resp = authorize(url, "bob@localhost", "not-" + PASSWORD)
        assert resp.status_code < 500, f"POST /oauth/authorize with a wrong password -> {resp.status_code}"
        assert 'id="authorization-code"' not in resp.text, "a wrong password still produced an authorization code"
        assert "code=" not in resp.headers.get("Location", ""), "a wrong password still redirected with a code"

    @t.step("authorization_code_redirect_charlie")
    def _():
        client_id, client_secret = Mastodon.create_app(
            "ferrodon client test (redirect)",
            scopes=SCOPES,
            redirect_uris=[CALLBACK, OOB],
            api_base_url=t.base,
            session=new_session(),
            request_timeout=TIMEOUT,
        )
        charlie = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=t.base,
                           session=new_session(), request_timeout=TIMEOUT, ratelimit_method="throw")
        state = secrets.token_hex(8)
        url = charlie.auth_request_url(redirect_uris=CALLBACK, scopes=SCOPES, state=state, allow_http=True)
        resp = authorize(url, "charlie@localhost", PASSWORD)
        assert resp.status_code == 302, f"POST /oauth/authorize -> {resp.status_code}, expected 302 to {CALLBACK}"
        location = resp.headers.get("Location", "")
        assert location.startswith(CALLBACK + "?"), f"redirected to {location!r}, expected {CALLBACK}?code=...&state=..."
        query = parse_qs(urlsplit(location).query)
        assert query.get("state") == [state], f"state in the redirect is {query.get('state')}, expected [{state!r}]"
        assert query.get("code") and query["code"][0], f"no code in the redirect {location!r}"
        charlie.log_in(code=query["code"][0], redirect_uri=CALLBACK, scopes=SCOPES, allow_http=True)
        me = charlie.account_verify_credentials()
        assert me["username"] == "charlie", f"verify_credentials says {me['username']!r}, expected 'charlie'"
        t.charlie = charlie

    @t.step("verify_credentials", needs=["password_grant_alice", "authorization_code_bob"])
    def _():
        me = t.alice.account_verify_credentials()
        assert me["username"] == "alice" and me["acct"] == "alice", f"alice's credentials: {me['username']!r}/{me['acct']!r}"
        assert "source" in me, "verify_credentials has no 'source' (CredentialAccount)"
        t.alice_account = me
        me = t.bob.account_verify_credentials()
        assert me["username"] == "bob", f"bob's credentials say username {me['username']!r}"
        t.bob_account = me

    @t.step("instance", needs=["password_grant_alice"])
    def _():
        info = t.alice.instance()
        domain = info.get("domain") or info.get("uri")
        assert domain == t.host, f"instance domain/uri is {domain!r}, expected {t.host!r}"
        assert info.get("version"), "instance has no version"
        assert info.get("title") is not None, "instance has no title"

    @t.step("bob_follows_alice", needs=["verify_credentials"])
    def _():
        found = t.bob.account_lookup("alice")
        assert str(found["id"]) == str(t.alice_account["id"]), \
            f"account_lookup('alice') gave id {found['id']}, verify_credentials gave {t.alice_account['id']}"
        rel = t.bob.account_follow(found["id"])
        assert rel["following"] is True, f"relationship after follow: following={rel['following']}, requested={rel.get('requested')}"

    @t.step("alice_posts", needs=["password_grant_alice"])
    def _():
        text = f"Hello from the ferrodon client test {t.nonce}"
        st = t.alice.status_post(text, visibility="public")
        assert t.nonce in st["content"], f"status content {st['content']!r} lacks {t.nonce!r}"
        assert st["account"]["username"] == "alice", f"status author is {st['account']['username']!r}"
        assert st["visibility"] == "public", f"visibility is {st['visibility']!r}"
        t.post = st

    @t.step("bob_home_timeline_has_post", needs=["bob_follows_alice", "alice_posts"])
    def _():
        poll(f"status {t.post['id']} in bob's home timeline",
             lambda: str(t.post["id"]) in ids(t.bob.timeline_home()))

    @t.step("bob_favourites", needs=["authorization_code_bob", "alice_posts"])
    def _():
        st = t.bob.status_favourite(t.post["id"])
        assert st["favourited"] is True, f"favourited is {st['favourited']}"
        assert st["favourites_count"] >= 1, f"favourites_count is {st['favourites_count']}"

    @t.step("bob_reblogs", needs=["authorization_code_bob", "alice_posts"])
    def _():
        st = t.bob.status_reblog(t.post["id"])
        assert st.get("reblog") is not None, "status_reblog did not return a reblog wrapper"
        assert str(st["reblog"]["id"]) == str(t.post["id"]), f"reblog of {st['reblog']['id']}, expected {t.post['id']}"
        assert st["reblog"]["reblogged"] is True, f"reblog.reblogged is {st['reblog']['reblogged']}"
        t.reblog = st

    @t.step("bob_replies_with_mention", needs=["authorization_code_bob", "alice_posts"])
    def _():
        st = t.bob.status_post(f"@alice thanks! {t.nonce}", in_reply_to_id=t.post["id"])
        assert str(st["in_reply_to_id"]) == str(t.post["id"]), f"in_reply_to_id is {st['in_reply_to_id']}"
        mentioned = [m["acct"] for m in st["mentions"]]
        assert "alice" in mentioned, f"mentions are {mentioned}, expected alice"
        t.reply = st

    @t.step("alice_notifications",
            needs=["bob_follows_alice", "bob_favourites", "bob_reblogs", "bob_replies_with_mention"])
    def _():
        want = {"follow", "favourite", "reblog", "mention"}

        def seen():
            by_type = {}
            for n in t.alice.notifications(limit=40):
                if n["account"]["username"] == "bob":
                    by_type.setdefault(n["type"], n)
            return by_type if want <= set(by_type) else None

        try:
            by_type = poll("follow, favourite, reblog and mention notifications from bob", seen)
        except AssertionError:
            got = sorted({n["type"] for n in t.alice.notifications(limit=40)})
            raise AssertionError(f"alice's notifications have types {got} after {POLL_SECONDS}s, expected {sorted(want)}")
        for kind in ("favourite", "reblog"):
            assert str(by_type[kind]["status"]["id"]) == str(t.post["id"]), \
                f"{kind} notification points at status {by_type[kind]['status']['id']}, expected {t.post['id']}"
        assert str(by_type["mention"]["status"]["id"]) == str(t.reply["id"]), \
            f"mention notification points at {by_type['mention']['status']['id']}, expected {t.reply['id']}"

    @t.step("poll_and_vote", needs=["authorization_code_bob", "password_grant_alice"])
    def _():
        question = t.alice.make_poll(["tea", "coffee"], expires_in=600)
        st = t.alice.status_post(f"tea or coffee? {t.nonce}", poll=question)
        assert st["poll"] is not None, "status_post with make_poll() returned no poll"
        assert [o["title"] for o in st["poll"]["options"]] == ["tea", "coffee"], f"options are {st['poll']['options']}"
        voted = t.bob.poll_vote(st["poll"]["id"], [1])
        assert voted["voted"] is True and list(voted["own_votes"]) == [1], f"after voting: {voted}"
        assert voted["options"][1]["votes_count"] == 1, f"tallies after voting: {voted['options']}"
        seen = t.alice.poll(st["poll"]["id"])
        assert seen["votes_count"] == 1, f"poll(id) gives votes_count {seen['votes_count']}"

    @t.step("report", needs=["authorization_code_bob", "password_grant_alice", "alice_posts"])
    def _():
        report = t.bob.report(t.alice_account["id"], status_ids=[t.post["id"]], comment="test report", category="spam")
        assert str(report["target_account"]["id"]) == str(t.alice_account["id"]), f"report target is {report['target_account']['id']}"
        assert report["category"] == "spam", f"report category is {report['category']!r}"

    @t.step("status_context", needs=["bob_replies_with_mention"])
    def _():
        ctx = t.alice.status_context(t.post["id"])
        assert str(t.reply["id"]) in ids(ctx["descendants"]), \
            f"reply {t.reply['id']} not among descendants {ids(ctx['descendants'])}"
        ctx = t.bob.status_context(t.reply["id"])
        assert str(t.post["id"]) in ids(ctx["ancestors"]), \
            f"post {t.post['id']} not among ancestors {ids(ctx['ancestors'])}"

    @t.step("status_delete", needs=["alice_posts"])
    def _():
        deleted = t.alice.status_delete(t.post["id"])
        assert str(deleted["id"]) == str(t.post["id"]), f"status_delete returned id {deleted['id']}"
        assert t.nonce in (deleted.get("text") or ""), \
            f"deleted status 'text' is {deleted.get('text')!r}, expected the source text (delete and redraft)"
        try:
            t.alice.status(t.post["id"])
        except MastodonNotFoundError:
            return
        raise AssertionError(f"GET /api/v1/statuses/{t.post['id']} still answers after the delete")

    @t.step("deleted_status_leaves_home_timeline", needs=["status_delete", "bob_home_timeline_has_post"])
    def _():
        def gone():
            for st in t.bob.timeline_home():
                if str(st["id"]) == str(t.post["id"]) or (st.get("reblog") and str(st["reblog"]["id"]) == str(t.post["id"])):
                    return False
            return True
        poll(f"deleted status {t.post['id']} gone from bob's home timeline", gone)

    return t


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].startswith(("http://", "https://")):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    return build(ClientTest(argv[0])).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
