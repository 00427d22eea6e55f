"""Every page in zh-CN, as every demo user: crawl the same-origin links breadth-first from `/` (and from the
detail pages of records and of requests in every state) and fail on any English text of our own catalogue —
a message id that has a Chinese translation, a label of the central table, a raw key, or a comment the app
writes into a request's history — shown untranslated as a text node, a button's value, a placeholder, a title or
an aria-label. The record pickers' JSON is read too. Inside a longer text, an English message of several words is
flagged wherever it appears, and a single word (a raw key such as `open`) only as a whole part between the
separators the pages join values with (`Acme · open`), so user data that merely contains such a word is not.
A demo user's username shown as text where their display name belongs (`alice`) fails it too.
New pages are found by the crawl itself.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

from babel.messages.pofile import read_po
from lxml import html as lxml_html

from api.web.i18n import PO
from api.web.labels import SYSTEM_COMMENTS, VALUE_LABELS
from tests.conftest import Api
from tests.web.conftest import Web

USERS = ("alice", "bob", "carol", "dave", "frank", "grace", "admin")
MAX_PAGES = 150  # per user
MAX_PER_PATH = 2  # the same path with other query strings (pages, filters)
SKIP = re.compile(r"^/(logout|lang/|static/|vendor/|api/|engine-rest/|favicon)|/(export|download)|\.(csv|xlsx|pdf|svg)"
                  r"(\?|$)|/attachments/\d+")
DATA_TAGS = {"code", "kbd", "pre", "textarea", "script", "style", "time"}  # content that is data, not wording
# a display name: the signed-in user's, or a person's shown by `|person` (the demo admin is called "Admin")
DATA_CLASSES = {"who", "person"}
# what the pages join several values with (`Acme · 谈判`); not brackets or commas, which user data uses too
# (`Carol (Finance)`)
SEPARATORS = re.compile(r"\s*(?:·|\||→)\s*")
PEOPLE = {"alice", "bob", "carol", "dave", "erin", "frank", "grace"}  # demo users who have a display name
PICKERS = ("crm.customer", "crm.opportunity", "crm.contract", "crm.order")


def _english_ids() -> set[str]:
    """English texts that must not reach a zh-CN page: translated catalogue ids and the label table's English."""
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    ids = {m.id for m in catalog if m.id and isinstance(m.id, str) and m.string and m.string != m.id}
    ids |= {str(v._args[0]) if hasattr(v, "_args") else str(v) for v in VALUE_LABELS.values()}
    ids |= set(VALUE_LABELS)  # the raw keys themselves (`paid`, `resolved`) must not show either
    ids |= set(SYSTEM_COMMENTS)  # comments the app writes into the history, as stored
    # only wording: with a letter, and no placeholder (those are checked through the texts they produce)
    return {i for i in ids if re.search(r"[A-Za-z]{2}", i) and "%(" not in i and "{" not in i}


def _leaks(page: str, english: set[str]) -> list[str]:
    """Untranslated catalogue texts on a page."""
    tree = lxml_html.fromstring(page)
    found = []
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in DATA_TAGS or DATA_CLASSES & set((el.get("class") or "").split()):
            continue
        texts = [el.text, el.tail] if el.getparent() is None or el.getparent().tag not in DATA_TAGS else [el.tail]
        if el.tag in DATA_TAGS:
            texts = [el.tail]
        texts += [el.get(a) for a in ("placeholder", "title", "aria-label")]
        if el.tag == "input" and el.get("type") in ("submit", "button"):
            texts.append(el.get("value"))
        found += [f"<{el.tag}> {hit!r}" for text in texts for hit in _english_in(text, english)]
    return found


def _usernames(page: str) -> list[str]:
    """Demo usernames shown as page text where the person's display name belongs (`alice`, not "Alice (Sales
    Rep)"): a text node that is one, or one of the parts the pages join values with. A username in `<code>`
    (the admin's user list), a title (the tooltip beside a display name) or a form value is fine."""
    tree = lxml_html.fromstring(page)
    found = []
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        texts = [el.tail] if el.tag in DATA_TAGS or (el.getparent() is not None and el.getparent().tag in DATA_TAGS) \
            else [el.text, el.tail]
        for text in texts:
            text = " ".join((text or "").split()).strip(" :：,，→")
            parts = {text, *SEPARATORS.split(text), *re.split(r"\s*[,，]\s*", text)}
            found += [f"<{el.tag}> {text!r}" for part in parts if part in PEOPLE]
    return found


def _english_in(text: str | None, english: set[str]) -> list[str]:
    """Our English texts in one piece of page text: the whole text, a message of several words anywhere in it,
    or a single word as a whole part between separators."""
    text = " ".join((text or "").split()).rstrip(":：").strip()
    if not text:
        return []
    if text in english:
        return [text]
    hits = [part for part in SEPARATORS.split(text) if part != text and part in english]
    lowered = f" {text.lower()} "
    hits += [e for e in _phrases(english) if e != text and re.search(rf"(?<![\w-]){re.escape(e.lower())}(?![\w-])",
                                                                       lowered)]
    return hits


_PHRASES: list[tuple[set[str], list[str]]] = []  # the last set asked about (kept, so its id is not reused)


def _phrases(english: set[str]) -> list[str]:
    """The English messages of at least three words (a user's text does not repeat those by chance)."""
    if not _PHRASES or _PHRASES[0][0] is not english:
        _PHRASES[:] = [(english, [e for e in english if len(e.split()) >= 3])]
    return _PHRASES[0][1]


def _picker_leaks(web: Web, english: set[str]) -> list[str]:
    """Untranslated texts in what the record pickers show (name · detail)."""
    found = []
    for kind in PICKERS:
        for row in web.get(f"/pick/{kind}?q=").get_json() or []:
            shown = f"{row.get('name', '')} · {row.get('detail', '')}"
            found += [f"/pick/{kind}: {hit!r} in {shown!r}" for hit in _english_in(shown, english)]
    return found


def _links(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    out = []
    for href in tree.xpath("//a/@href"):
        href = urldefrag(href)[0]
        if href.startswith("/") and not href.startswith("//") and not SKIP.search(href):
            out.append(href)
    return out


def _crawl(web: Web, seeds: list[str], english: set[str]) -> tuple[list[str], int]:
    seen: set[str] = set()
    per_path: dict[str, int] = {}
    queue = deque(seeds)
    problems: list[str] = []
    visited = 0
    while queue and visited < MAX_PAGES:
        url = queue.popleft()
        path = urlsplit(url).path
        if url in seen or per_path.get(path, 0) >= MAX_PER_PATH:
            continue
        seen.add(url)
        per_path[path] = per_path.get(path, 0) + 1
        resp = web.get(url)
        visited += 1
        if resp.status_code >= 500:
            problems.append(f"{url}: {resp.status_code}")
            continue
        if resp.status_code != 200 or not resp.content_type.startswith("text/html"):
            continue
        page = resp.get_data(as_text=True)
        problems += [f"{url}: {leak}" for leak in _leaks(page, english)]
        problems += [f"{url}: username {who!r}" for who in _usernames(page)]
        queue.extend(link for link in _links(page) if link not in seen)
    return problems, visited


def _requests_in_every_state(api: Api, web: Web) -> list[int]:
    """Leave requests of alice: waiting, approved, rejected, withdrawn (in the web app); returns their ids."""
    ids = []
    for _ in range(4):
        resp = api.start_leave("alice")
        assert resp.status_code == 201, resp.get_json()
        ids.append(resp.get_json()["id"])
    for instance_id, approved in ((ids[1], True), (ids[2], False)):
        task = next(t for t in api.tasks("bob") if t["instance_id"] == instance_id)
        done = api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                        json={"variables": {"approved": approved, "comment": "ok"}})
        assert done.status_code == 200, done.get_json()
    web.login("alice")
    assert web.post(f"/requests/{ids[3]}/withdraw", csrf_from=f"/instances/{ids[3]}").status_code == 302
    web.logout()
    return ids


def _seed_demo(app) -> None:  # noqa: ANN001
    """The demo records `oaflow seed-demo` makes: attendance, announcements, calendar, forum, customers,
    pipeline, contracts, products, quotes, orders (in their states) and invoices."""
    from api.cli import _crm_seeders
    from api.extensions import db
    from oa import demo_records
    with app.app_context():
        demo_records.seed(db.session, progress=lambda _m: None)
        for _name, seed in _crm_seeders(app):
            seed(db.session, progress=lambda _m: None)
        db.session.commit()


def test_every_page_in_chinese_as_every_demo_user(app, api: Api, web: Web) -> None:  # noqa: ANN001
    english = _english_ids()
    assert {"Waiting for me", "Completed", "Paid"} <= english  # the catalogue and the table were read
    _seed_demo(app)
    instances = _requests_in_every_state(api, web)
    seeds = ["/", *(f"/instances/{i}" for i in instances)]
    problems: list[str] = []
    for user in USERS:
        web.login(user)
        web.get("/lang/zh_CN")
        found, visited = _crawl(web, seeds, english)
        assert visited >= 5, f"{user} reached only {visited} pages"
        problems += [f"{user} {p}" for p in found + _picker_leaks(web, english)]
        web.logout()
    assert problems == [], "untranslated English on zh-CN pages:\n" + "\n".join(sorted(set(problems))[:200])


def test_the_checker_sees_a_username_shown_as_text() -> None:
    page = ('<html><body><td>alice</td><li>Acme · bob</li><span title="carol">Carol (Finance)</span>'
            '<a><code>dave</code></a><input name="head" value="erin"><p>alice@example.com, Alice\'s plan</p>'
            '<p>frank, grace</p></body></html>')
    assert sorted(_usernames(page)) == ["<li> 'Acme · bob'", "<p> 'frank, grace'", "<p> 'frank, grace'",
                                        "<td> 'alice'"]


def test_the_checker_sees_an_untranslated_text() -> None:
    english = {"My tasks", "Save"}
    page = ('<html><body><h1>My tasks</h1><code>Save</code><input type="submit" value="Save">'
            '<input placeholder="My tasks"><p>我的待办</p></body></html>')
    assert _leaks(page, english) == ["<h1> 'My tasks'", "<input> 'Save'", "<input> 'My tasks'"]


def test_the_checker_sees_our_english_inside_a_longer_text_but_not_in_user_data() -> None:
    english = {"open", "Paid", "Finance", "withdrawn in the web app", "Waiting for me"}
    page = ('<html><body><li>Acme Robotics · open</li><p>Paid · 3</p><blockquote>withdrawn in the web app</blockquote>'
            '<p>Note: Waiting for me since Monday</p><p>We open the new store in May</p>'
            '<p>Paid parking is open all day</p><p>Reopened · Opener</p><p>Carol (Finance), open</p></body></html>')
    assert _leaks(page, english) == ["<li> 'open'", "<p> 'Paid'", "<blockquote> 'withdrawn in the web app'",
                                     "<p> 'Waiting for me'"]
