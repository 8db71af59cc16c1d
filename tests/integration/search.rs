//! Search on PostgreSQL full-text search: accounts, hashtags and statuses through
//! `/api/v2/search` and `/api/v1/accounts/search`, with Mastodon's errors and its rules for
//! which statuses a searcher may find.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{TestApp, User};
use serde_json::{Value, json};

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()).collect()
}

fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_array().unwrap().iter().map(|v| v[field].as_str().unwrap().to_string()).collect()
}

async fn search(app: &TestApp, user: Option<&User>, query: &str) -> Value {
    app.get(&format!("/api/v2/search?{query}"), user.map(|u| u.token.as_str())).await.ok()
}

#[tokio::test]
async fn accounts_and_hashtags() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let alicia = app.register("alicia").await;
    let bob = app.register("bob").await;
    app.patch("/api/v1/accounts/update_credentials", Some(&bob.token), json!({ "display_name": "Alice's friend Bob" }))
        .await
        .ok();
    app.follow(&bob, &alicia).await;

    let anonymous = search(&app, None, "q=ali&type=accounts").await;
    assert_eq!(anonymous["accounts"].as_array().unwrap().len(), 3, "prefix on usernames and display names");
    assert_eq!(anonymous["statuses"], json!([]));
    // Signed in, accounts one follows (or is followed by) come first.
    let for_bob = search(&app, Some(&bob), "q=ali&type=accounts").await;
    assert_eq!(names(&for_bob["accounts"], "username")[0], "alicia");
    // Only accounts one follows (and oneself) with `following`.
    let following = names(&search(&app, Some(&bob), "q=ali&following=true").await["accounts"], "username");
    assert!(following.contains(&"alicia".to_string()) && !following.contains(&"alice".to_string()), "{following:?}");
    // A full address finds the account itself first, even anonymously below three letters.
    let domain = &app.state.config.local_domain;
    let exact = search(&app, None, &format!("q=%40alice%40{domain}")).await;
    assert_eq!(ids(&exact["accounts"])[0], alice.id);
    assert!(search(&app, None, "q=al").await["accounts"].as_array().unwrap().is_empty());
    assert_eq!(
        search(&app, Some(&bob), "q=al&type=accounts&limit=1&offset=1").await["accounts"].as_array().unwrap().len(),
        1
    );

    let v1 = app.get("/api/v1/accounts/search?q=bob", Some(&alice.token)).await.ok();
    assert_eq!(names(&v1, "username"), vec!["bob"]);
    app.get("/api/v1/accounts/search?q=bob", None).await.expect(401);

    app.post_status(&alice, json!({ "status": "#rust #rustlang #rustaceans and #ruby" })).await;
    let tags = search(&app, None, "q=%23rust&type=hashtags").await;
    assert_eq!(names(&tags["hashtags"], "name"), vec!["rust", "rustlang", "rustaceans"]);
    assert!(search(&app, Some(&alice), "q=rust").await["hashtags"][0]["following"].is_boolean());
}

#[tokio::test]
async fn bad_searches_get_mastodons_errors() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let error = |v: Value| v["error"].as_str().unwrap().to_string();
    assert!(error(app.get("/api/v2/search", None).await.expect(400)).contains("q"));
    assert!(error(app.get("/api/v2/search?q=a&offset=1", None).await.expect(401)).contains("pagination"));
    assert!(error(app.get("/api/v2/search?q=a&resolve=true", None).await.expect(401)).contains("resolve"));
    assert!(error(app.get("/api/v2/search?q=a&limit=-1", Some(&alice.token)).await.expect(400)).contains("positive"));
    let no_keyword = app.get("/api/v2/search?q=from%3Ame&type=statuses", Some(&alice.token)).await.expect(400);
    assert_eq!(error(no_keyword), "At least one keyword or phrase is required");
    app.get("/api/v2/search?q=cats+before%3Asoon&type=statuses", Some(&alice.token)).await.expect(422);
    app.get("/api/v1/search?q=a", Some(&alice.token)).await.expect(404);
}

#[tokio::test]
async fn statuses_are_found_only_where_mastodon_lets_them_be() {
    let app = TestApp::spawn().await;
    let searcher = app.register("searcher").await;
    let open = app.register("open").await;
    let shy = app.register("shy").await;
    let blocked = app.register("blocked").await;
    app.patch("/api/v1/accounts/update_credentials", Some(&open.token), json!({ "indexable": true })).await.ok();
    app.patch("/api/v1/accounts/update_credentials", Some(&blocked.token), json!({ "indexable": true })).await.ok();
    app.follow(&searcher, &shy).await;

    let own = app.post_status(&searcher, json!({ "status": "my aardvark notes" })).await;
    let indexable = app.post_status(&open, json!({ "status": "an aardvark in the wild" })).await;
    let not_indexable = app.post_status(&shy, json!({ "status": "a shy aardvark" })).await;
    let favourited = app.post_status(&shy, json!({ "status": "an aardvark I liked" })).await;
    let private = app.post_status(&open, json!({ "status": "private aardvark", "visibility": "private" })).await;
    let mentioned =
        app.post_status(&open, json!({ "status": "@searcher direct aardvark", "visibility": "direct" })).await;
    let from_blocked = app.post_status(&blocked, json!({ "status": "blocked aardvark" })).await;
    let reply =
        app.post_status(&searcher, json!({ "status": "aardvark reply", "in_reply_to_id": indexable["id"] })).await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/statuses/{}/favourite", id(&favourited)), Some(&searcher.token), json!({})).await.ok();
    app.post(&format!("/api/v1/accounts/{}/block", blocked.id), Some(&searcher.token), json!({})).await.ok();
    app.drain_jobs().await;

    let found = ids(&search(&app, Some(&searcher), "q=aardvark&type=statuses").await["statuses"]);
    let mut expected = vec![id(&reply), id(&mentioned), id(&favourited), id(&indexable), id(&own)];
    expected.sort_by_key(|id| std::cmp::Reverse(id.parse::<i64>().unwrap()));
    assert_eq!(found, expected, "own, mentioned, favourited, indexable public; newest first");
    for hidden in [&not_indexable, &private, &from_blocked] {
        assert!(!found.contains(&id(hidden)));
    }
    // A stranger finds only public statuses of indexable accounts; anonymous searches find none.
    let stranger = app.register("stranger").await;
    let for_stranger = ids(&search(&app, Some(&stranger), "q=aardvark").await["statuses"]);
    assert_eq!(for_stranger, vec![id(&from_blocked), id(&indexable)]);
    assert!(search(&app, None, "q=aardvark").await["statuses"].as_array().unwrap().is_empty());

    let query = |q: &str| {
        let app = &app;
        let searcher = &searcher;
        let q = q.to_string();
        async move { ids(&search(app, Some(searcher), &format!("type=statuses&q={q}")).await["statuses"]) }
    };
    assert_eq!(query("aardvark+from%3Ame").await, vec![id(&reply), id(&own)]);
    assert_eq!(query("aardvark+from%3Ame+-is%3Areply").await, vec![id(&own)]);
    assert_eq!(query("aardvark+-wild+in%3Apublic").await, Vec::<String>::new());
    assert_eq!(query("%22in+the+wild%22").await, vec![id(&indexable)]);
    assert_eq!(query("aardvark+has%3Amedia").await, Vec::<String>::new());
    assert_eq!(query("aardvark&limit=2").await.len(), 2);
    assert_eq!(query(&format!("aardvark&account_id={}", open.id)).await, vec![id(&mentioned), id(&indexable)]);
}

/// Issue 18, defect 3: a lone `#tag` finds the hashtag and the statuses tagged with it (not
/// those that merely use the word), and a lone handle finds the account, not statuses.
#[tokio::test]
async fn a_lone_hashtag_or_handle_is_not_searched_as_text() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({ "indexable": true })).await.ok();
    let tagged = app.post_status(&alice, json!({ "status": "spotted a #heron today" })).await;
    app.post_status(&alice, json!({ "status": "heron without a tag" })).await;
    let domain = app.state.config.local_domain.clone();
    app.post_status(&alice, json!({ "status": format!("hello @alice and @alice@{domain}") })).await;
    app.drain_jobs().await;

    let by_tag = search(&app, Some(&alice), "q=%23heron").await;
    assert_eq!(names(&by_tag["hashtags"], "name"), vec!["heron"]);
    assert_eq!(ids(&by_tag["statuses"]), vec![tagged["id"].as_str().unwrap()]);
    assert_eq!(search(&app, Some(&alice), "q=heron&type=statuses").await["statuses"].as_array().unwrap().len(), 2);

    for handle in ["%40alice".to_string(), format!("%40alice%40{domain}")] {
        let found = search(&app, Some(&alice), &format!("q={handle}")).await;
        assert_eq!(ids(&found["accounts"]), vec![alice.id.clone()], "{handle}");
        assert!(found["statuses"].as_array().unwrap().is_empty(), "{handle}: {found}");
        assert!(found["hashtags"].as_array().unwrap().is_empty(), "{handle}");
    }
}
