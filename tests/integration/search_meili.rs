//! The Meilisearch backend against a real Meilisearch server, when one is reachable at
//! `FERRODON_TEST_MEILI_URL` (with `FERRODON_TEST_MEILI_KEY` if it needs one). Without a
//! server the test says so and passes without checking anything: the registries this
//! project's CI reaches do not ship Meilisearch (see README, Search).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;
use ferrodon::effects::search::{self, StatusQuery, Window};
use serde_json::{Value, json};

async fn meili_url() -> Option<String> {
    let url = std::env::var("FERRODON_TEST_MEILI_URL").ok().filter(|u| !u.is_empty())?;
    let healthy = reqwest::get(format!("{url}/health")).await.is_ok_and(|r| r.status().is_success());
    healthy.then_some(url)
}

fn ids(found: &Value, key: &str) -> Vec<String> {
    found[key].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn meilisearch_finds_and_postgresql_decides() {
    let Some(url) = meili_url().await else {
        eprintln!("SKIPPED: no Meilisearch server (set FERRODON_TEST_MEILI_URL to run this test)");
        return;
    };
    let key = std::env::var("FERRODON_TEST_MEILI_KEY").unwrap_or_default();
    let prefix = format!("{}_", common::unique_name("t"));
    let app =
        TestApp::spawn_with(&[("MEILI_URL", &url), ("MEILI_API_KEY", &key), ("MEILI_INDEX_PREFIX", &prefix)]).await;

    // The indexes are created (with their settings) by the deploy command.
    let deployed = app
        .ferrodon_command()
        .env("MEILI_URL", &url)
        .env("MEILI_API_KEY", &key)
        .env("MEILI_INDEX_PREFIX", &prefix)
        .args(["ctl", "search", "deploy"])
        .output()
        .unwrap();
    assert!(deployed.status.success(), "{}", String::from_utf8_lossy(&deployed.stderr));
    assert!(String::from_utf8_lossy(&deployed.stdout).contains("OK, Status"), "{deployed:?}");

    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    app.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({ "indexable": true }))
        .await
        .expect(200);
    let public = app.post_status(&alice, json!({ "status": "walking the meilisearch #trailhead today" })).await;
    let private = app.post_status(&bob, json!({ "status": "meilisearch secrets", "visibility": "private" })).await;
    let unindexed = app.post_status(&bob, json!({ "status": "meilisearch for bob only" })).await;
    app.post(
        &format!("/api/v1/statuses/{}/favourite", unindexed["id"].as_str().unwrap()),
        Some(&carol.token),
        json!({}),
    )
    .await
    .expect(200);
    app.drain_jobs().await;

    let search = |user: &common::User, q: &str| {
        let (app, token, q) = (&app, user.token.clone(), q.replace(' ', "%20").replace('#', "%23"));
        async move { app.get(&format!("/api/v2/search?q={q}"), Some(&token)).await.expect(200) }
    };
    // carol finds alice's public post of an indexable account and bob's post she
    // favourited, never bob's private one; a typo still finds them (Meilisearch's part).
    for q in ["meilisearch", "meilisaerch"] {
        let found = ids(&search(&carol, q).await, "statuses");
        assert!(found.contains(&public["id"].as_str().unwrap().to_string()), "{q}: {found:?}");
        assert!(found.contains(&unindexed["id"].as_str().unwrap().to_string()), "{q}: {found:?}");
        assert!(!found.contains(&private["id"].as_str().unwrap().to_string()), "{q}: {found:?}");
    }
    // alice did not interact with bob's public post, and bob does not index his posts.
    let found = ids(&search(&alice, "meilisearch").await, "statuses");
    assert_eq!(found, vec![public["id"].as_str().unwrap().to_string()]);
    assert_eq!(ids(&search(&carol, "alic").await, "accounts").first().map(String::as_str), Some(alice.id.as_str()));
    let tags = search(&carol, "#trailh").await;
    assert_eq!(tags["hashtags"][0]["name"], "trailhead", "{tags}");

    // Both backends give the same statuses for the same query (PostgreSQL alone: the same
    // state without the Meilisearch client).
    let mut postgres_only = app.state.clone();
    postgres_only.search = None;
    let window = Window { limit: 20, offset: 0 };
    for (viewer, q) in [(&carol, "meilisearch"), (&alice, "meilisearch"), (&bob, "secrets")] {
        let viewer: i64 = viewer.id.parse().unwrap();
        let query = StatusQuery::parse(q).unwrap();
        let with_meili = search::statuses(&app.state, viewer, &query, None, (None, None), window).await.unwrap();
        let with_pg = search::statuses(&postgres_only, viewer, &query, None, (None, None), window).await.unwrap();
        assert_eq!(with_meili, with_pg, "{q} as {viewer}");
    }

    // A deleted status leaves the index.
    app.delete(&format!("/api/v1/statuses/{}", public["id"].as_str().unwrap()), Some(&alice.token)).await.expect(200);
    app.drain_jobs().await;
    let found = ids(&search(&carol, "meilisearch").await, "statuses");
    assert!(!found.contains(&public["id"].as_str().unwrap().to_string()), "{found:?}");

    // With Meilisearch unreachable, search still answers (from PostgreSQL alone).
    let mut unreachable = (*app.state.config).clone();
    unreachable.meili.as_mut().unwrap().url = "http://127.0.0.1:9".into();
    let down = ferrodon::AppState::connect(unreachable).await.unwrap();
    let query = StatusQuery::parse("secrets").unwrap();
    let bob_id: i64 = bob.id.parse().unwrap();
    let found = search::statuses(&down, bob_id, &query, None, (None, None), window).await.unwrap();
    assert_eq!(found, vec![private["id"].as_str().unwrap().parse::<i64>().unwrap()]);

    // The test's indexes go with it.
    for kind in ["statuses", "accounts", "tags"] {
        let _ = reqwest::Client::new().delete(format!("{url}/indexes/{prefix}{kind}")).bearer_auth(&key).send().await;
    }
}
