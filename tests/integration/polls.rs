//! Polls through the client API (creating, reading, voting, hidden totals, editing, the
//! end-of-poll notifications) and reports, against a real server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;
use serde_json::{Value, json};

fn poll_path(status: &Value) -> String {
    format!("/api/v1/polls/{}", status["poll"]["id"].as_str().unwrap())
}

#[tokio::test]
async fn polls_are_created_read_and_voted_with_mastodons_rules() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;

    // Validation, with Mastodon's messages.
    for (poll, message) in [
        (
            json!({ "options": ["only one"], "expires_in": 3600 }),
            "Validation failed: Choices must have more than one item",
        ),
        (
            json!({ "options": ["a", "b", "c", "d", "e"], "expires_in": 3600 }),
            "Validation failed: Choices can't contain more than 4 items",
        ),
        (json!({ "options": ["a", "a"], "expires_in": 3600 }), "Validation failed: Choices contain duplicate items"),
        (
            json!({ "options": ["a", "x".repeat(51)], "expires_in": 3600 }),
            "Validation failed: Choices cannot be longer than 50 characters each",
        ),
        (json!({ "options": ["a", "b"], "expires_in": 60 }), "Validation failed: Deadline is too soon"),
        (
            json!({ "options": ["a", "b"], "expires_in": 2_629_747 }),
            "Validation failed: Deadline is too far into the future",
        ),
        (json!({ "options": ["a", "b"] }), "Validation failed: Deadline can't be blank"),
    ] {
        let body =
            app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "q", "poll": poll })).await.expect(422);
        assert_eq!(body["error"], message);
    }
    let statuses: i64 =
        sqlx::query_scalar("SELECT count(*) FROM statuses").fetch_one(&app.state.db.primary).await.unwrap();
    assert_eq!(statuses, 0, "a refused poll leaves no status behind");

    // A single-choice poll, sent form-encoded as most apps send it.
    let status = app
        .post_form(
            "/api/v1/statuses",
            Some(&alice.token),
            &[
                ("status", "Tea or coffee?"),
                ("poll[options][]", "Tea"),
                ("poll[options][]", " Coffee "),
                ("poll[expires_in]", "3600"),
            ],
        )
        .await
        .expect(200);
    let poll = &status["poll"];
    assert_eq!(poll["options"], json!([{ "title": "Tea", "votes_count": 0 }, { "title": "Coffee", "votes_count": 0 }]));
    assert_eq!((poll["multiple"].as_bool(), poll["expired"].as_bool()), (Some(false), Some(false)));
    assert_eq!((poll["votes_count"].as_i64(), poll["voters_count"].as_i64()), (Some(0), Some(0)));
    assert_eq!((poll["voted"].as_bool(), poll["own_votes"].clone()), (Some(true), json!([])), "authors count as voted");
    let path = poll_path(&status);

    // Anonymous readers see it without the viewer fields.
    let anonymous = app.get(&path, None).await.expect(200);
    assert!(anonymous.get("voted").is_none() && anonymous.get("own_votes").is_none(), "{anonymous}");

    // Voting, and the rules around it.
    let votes = format!("{path}/votes");
    let err = |body: Value| body["error"].as_str().unwrap().to_string();
    assert_eq!(
        err(app.post(&votes, Some(&alice.token), json!({ "choices": ["0"] })).await.expect(422)),
        "Validation failed: You cannot vote in your own polls"
    );
    assert_eq!(
        err(app.post(&votes, Some(&bob.token), json!({ "choices": ["2"] })).await.expect(422)),
        "Validation failed: The chosen vote option does not exist"
    );
    assert_eq!(
        err(app.post(&votes, Some(&bob.token), json!({ "choices": ["0", "1"] })).await.expect(422)),
        "Validation failed: You have already voted on this poll",
        "two choices in a single-choice poll"
    );
    let voted = app.post(&votes, Some(&bob.token), json!({ "choices": ["1"] })).await.expect(200);
    assert_eq!((voted["voted"].as_bool(), voted["own_votes"].clone()), (Some(true), json!([1])));
    assert_eq!(voted["options"][1]["votes_count"], 1);
    assert_eq!(
        err(app.post(&votes, Some(&bob.token), json!({ "choices": ["0"] })).await.expect(422)),
        "Validation failed: You have already voted on this poll"
    );
    app.post_form(&votes, Some(&carol.token), &[("choices[]", "1")]).await.expect(200);
    let read = app.get(&path, Some(&carol.token)).await.expect(200);
    assert_eq!((read["votes_count"].as_i64(), read["voters_count"].as_i64()), (Some(2), Some(2)));
    let shown =
        app.get(&format!("/api/v1/statuses/{}", status["id"].as_str().unwrap()), Some(&bob.token)).await.expect(200);
    assert_eq!(shown["poll"]["own_votes"], json!([1]));
    app.post("/api/v1/polls/999999/votes", Some(&bob.token), json!({ "choices": ["0"] })).await.expect(404);

    // Search knows which statuses carry a poll.
    let found = |q: &str| {
        let app = &app;
        let token = alice.token.clone();
        let q = q.replace(' ', "%20").replace(':', "%3A");
        async move { app.get(&format!("/api/v2/search?type=statuses&q={q}"), Some(&token)).await.expect(200) }
    };
    assert_eq!(found("coffee has:poll").await["statuses"][0]["id"], status["id"]);
    assert_eq!(found("coffee -has:poll").await["statuses"], json!([]));

    // A private poll is not there for people who may not see it.
    let private = app
        .post_status(&alice, json!({ "status": "secret", "visibility": "private", "poll": { "options": ["a", "b"], "expires_in": 600 } }))
        .await;
    app.get(&poll_path(&private), Some(&bob.token)).await.expect(404);
    app.post(&format!("{}/votes", poll_path(&private)), Some(&bob.token), json!({ "choices": ["0"] }))
        .await
        .expect(404);

    // Multiple choice with hidden totals: option counts are null until it ends.
    let multi = app
        .post_status(
            &alice,
            json!({ "status": "pick any", "poll": { "options": ["x", "y", "z"], "expires_in": 600, "multiple": true, "hide_totals": true } }),
        )
        .await;
    let voted = app
        .post(&format!("{}/votes", poll_path(&multi)), Some(&bob.token), json!({ "choices": [0, 2] }))
        .await
        .expect(200);
    assert_eq!(voted["own_votes"], json!([0, 2]));
    assert!(voted["options"].as_array().unwrap().iter().all(|o| o["votes_count"].is_null()), "{voted}");
    assert_eq!((voted["votes_count"].as_i64(), voted["voters_count"].as_i64()), (Some(2), Some(1)));

    // The poll ends: the author and the voters are told, and totals show.
    let poll_id: i64 = multi["poll"]["id"].as_str().unwrap().parse().unwrap();
    app.end_poll(poll_id).await;
    ferrodon::domain::polls::end(&app.state, poll_id).await.unwrap();
    for user in [&alice, &bob] {
        let notes = app.get("/api/v1/notifications?types[]=poll", Some(&user.token)).await.expect(200);
        assert_eq!(
            notes.as_array().map(Vec::len),
            Some(1),
            "one poll notification each, even if the job runs twice: {notes}"
        );
        assert_eq!(notes[0]["status"]["id"], multi["id"]);
    }
    let ended = app.get(&poll_path(&multi), Some(&bob.token)).await.expect(200);
    assert_eq!(ended["expired"], true);
    assert_eq!(ended["options"][0]["votes_count"], 1);
    assert_eq!(
        err(app
            .post(&format!("{}/votes", poll_path(&multi)), Some(&carol.token), json!({ "choices": [1] }))
            .await
            .expect(422)),
        "Validation failed: The poll has already ended"
    );

    // Editing: the same options keep the votes; new ones start over; none removes the poll.
    let status_path = format!("/api/v1/statuses/{}", status["id"].as_str().unwrap());
    let same = json!({ "status": "Tea or coffee?", "poll": { "options": ["Tea", "Coffee"], "expires_in": 7200 } });
    let edited = app.put(&status_path, Some(&alice.token), same).await.expect(200);
    assert_eq!(edited["poll"]["votes_count"], 2);
    let changed = json!({ "status": "Tea, coffee or juice?", "poll": { "options": ["Tea", "Coffee", "Juice"], "expires_in": 7200 } });
    let edited = app.put(&status_path, Some(&alice.token), changed).await.expect(200);
    assert_eq!(edited["poll"]["votes_count"], 0);
    assert_eq!(edited["poll"]["options"].as_array().map(Vec::len), Some(3));
    let history = app.get(&format!("{status_path}/history"), Some(&alice.token)).await.expect(200);
    let first = &history[0]["poll"]["options"];
    assert_eq!(first, &json!([{ "title": "Tea" }, { "title": "Coffee" }]), "{history}");
    let edited = app.put(&status_path, Some(&alice.token), json!({ "status": "no poll now" })).await.expect(200);
    assert!(edited["poll"].is_null());

    // The limits are published with the instance.
    let instance = app.get("/api/v2/instance", None).await.expect(200);
    assert_eq!(instance["configuration"]["polls"]["max_options"], 4);
}

#[tokio::test]
async fn reports_reach_the_moderators() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post = app.post_status(&bob, json!({ "status": "spam spam spam" })).await;
    let secret = app.post_status(&bob, json!({ "status": "for followers", "visibility": "private" })).await;

    let report = app
        .post(
            "/api/v1/reports",
            Some(&alice.token),
            json!({ "account_id": bob.id, "status_ids": [post["id"]], "comment": "unsolicited", "category": "spam" }),
        )
        .await
        .expect(200);
    assert_eq!(report["category"], "spam");
    assert_eq!(report["status_ids"], json!([post["id"]]));
    assert_eq!(report["target_account"]["id"], bob.id);
    assert_eq!((report["forwarded"].as_bool(), report["action_taken"].as_bool()), (Some(false), Some(false)));

    // What the reporter cannot see, or what is not the target's, is not found.
    let refused = json!({ "account_id": bob.id, "status_ids": [secret["id"]] });
    app.post("/api/v1/reports", Some(&alice.token), refused).await.expect(404);
    app.post("/api/v1/reports", Some(&alice.token), json!({ "account_id": "12345" })).await.expect(404);
    let long = json!({ "account_id": bob.id, "comment": "x".repeat(1001) });
    let body = app.post("/api/v1/reports", Some(&alice.token), long).await.expect(422);
    assert_eq!(body["error"], "Validation failed: Comment is too long (maximum is 1000 characters)");
    let bad = json!({ "account_id": bob.id, "category": "nonsense" });
    app.post("/api/v1/reports", Some(&alice.token), bad).await.expect(422);
    app.post("/api/v1/reports", None, json!({ "account_id": bob.id })).await.expect(401);

    let stored = ferrodon::model::reports::about(&app.state.db.primary, bob.id.parse().unwrap()).await.unwrap();
    assert_eq!(stored.len(), 1, "refused reports leave nothing behind");
}
