"""Forum: boards, threads, replies, @mentions that notify, admin moderation."""

from __future__ import annotations

from tests.oa.conftest import problem_fields


def _board(api) -> int:  # noqa: ANN001
    resp = api.post("/api/v1/forum/boards", "admin", json={"name": "General", "description": "Anything"})
    assert resp.status_code == 201
    return resp.get_json()["id"]


def test_threads_replies_and_mentions(api) -> None:  # noqa: ANN001
    board = _board(api)
    resp = api.post(f"/api/v1/forum/boards/{board}/threads", "alice",
                    json={"title": "Lunch?", "body": "Anyone? @bob @ghost @alice email@example.com"})
    assert resp.status_code == 201 and resp.get_json()["mentioned"] == ["bob"]
    thread = resp.get_json()["id"]
    bob_inbox = api.get("/api/v1/notifications", "bob").get_json()["items"]
    assert [n["kind"] for n in bob_inbox] == ["mention"] and "Lunch?" in bob_inbox[0]["title"]
    assert api.get("/api/v1/notifications", "alice").get_json()["total"] == 0  # no self-mention
    resp = api.post(f"/api/v1/forum/threads/{thread}/replies", "bob", json={"body": "Sure, @carol too"})
    assert resp.status_code == 201 and resp.get_json()["mentioned"] == ["carol"]
    got = api.get(f"/api/v1/forum/threads/{thread}", "carol").get_json()
    assert [p["author"] for p in got["posts"]] == ["alice", "bob"]
    assert [t["id"] for t in api.get(f"/api/v1/forum/boards/{board}/threads", "dave").get_json()["items"]] == [thread]
    assert [b["name"] for b in api.get("/api/v1/forum/boards", "dave").get_json()["items"]] == ["General"]


def test_moderation(api) -> None:  # noqa: ANN001
    board = _board(api)
    thread = api.post(f"/api/v1/forum/boards/{board}/threads", "alice", json={"title": "T", "body": "first"}
                      ).get_json()["id"]
    post = api.post(f"/api/v1/forum/threads/{thread}/replies", "bob", json={"body": "rude"}).get_json()["id"]
    assert api.post(f"/api/v1/forum/posts/{post}/moderate", "alice", json={"hidden": True}).status_code == 403
    assert api.post(f"/api/v1/forum/posts/{post}/moderate", "admin", json={"hidden": True}).status_code == 200
    assert [p["body"] for p in api.get(f"/api/v1/forum/threads/{thread}", "carol").get_json()["posts"]] == ["first"]
    assert len(api.get(f"/api/v1/forum/threads/{thread}", "admin").get_json()["posts"]) == 2
    assert api.post(f"/api/v1/forum/threads/{thread}/moderate", "bob", json={"locked": True}).status_code == 403
    assert api.post(f"/api/v1/forum/threads/{thread}/moderate", "admin", json={"locked": True}).status_code == 200
    resp = api.post(f"/api/v1/forum/threads/{thread}/replies", "carol", json={"body": "late"})
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json"
    assert api.post(f"/api/v1/forum/threads/{thread}/moderate", "admin", json={"hidden": True}).status_code == 200
    assert api.get(f"/api/v1/forum/threads/{thread}", "alice").status_code == 404
    assert api.get(f"/api/v1/forum/boards/{board}/threads", "alice").get_json()["total"] == 0
    assert api.get(f"/api/v1/forum/threads/{thread}", "admin").status_code == 200
    assert api.post(f"/api/v1/forum/threads/{thread}/replies", "alice", json={"body": "x"}).status_code == 404


def test_forum_bad_input(api) -> None:  # noqa: ANN001
    assert api.post("/api/v1/forum/boards", "alice", json={"name": "Mine"}).status_code == 403
    board = _board(api)
    assert api.post("/api/v1/forum/boards", "admin", json={"name": "General"}).status_code == 409
    for body, field in (({"title": "", "body": "x"}, "title"), ({"title": "x"}, "body"),
                        ({"title": "x", "body": "y", "sticky": True}, "sticky")):
        resp = api.post(f"/api/v1/forum/boards/{board}/threads", "alice", json=body)
        assert resp.status_code == 422 and problem_fields(resp) == {field}, body
    assert api.post("/api/v1/forum/boards/99999/threads", "alice", json={"title": "x", "body": "y"}
                    ).status_code == 404
    assert api.post("/api/v1/forum/threads/99999/replies", "alice", json={"body": "y"}).status_code == 404
    resp = api.post("/api/v1/forum/posts/1/moderate", "admin", json={"hidden": "perhaps"})
    assert resp.status_code == 422 and problem_fields(resp) == {"hidden"}
    assert api.post("/api/v1/forum/posts/99999/moderate", "admin", json={"hidden": True}).status_code == 404
