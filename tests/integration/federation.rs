//! Discovery as other servers use it: WebFinger, host-meta and the ActivityPub actor with
//! content negotiation, over real HTTP. The actor's key verifies what the account signs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;
use ferrodon::effects::federation::signatures;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePublicKey;

async fn get(app: &TestApp, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}{path}", app.base));
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn webfinger_and_host_meta() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let domain = app.state.config.local_domain.clone();
    let base = &app.base;

    for resource in [
        format!("acct:alice@{domain}"),
        format!("alice@{domain}"),
        format!("{base}/users/alice"),
        format!("{base}/@alice"),
    ] {
        let response = get(&app, &format!("/.well-known/webfinger?resource={}", urlencode(&resource)), None).await;
        assert_eq!(response.status(), 200, "{resource}");
        assert_eq!(response.headers()["content-type"], "application/jrd+json; charset=utf-8");
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let jrd: serde_json::Value = response.json().await.unwrap();
        assert_eq!(jrd["subject"], format!("acct:alice@{domain}"));
        let links = jrd["links"].as_array().unwrap();
        let actor = links.iter().find(|l| l["rel"] == "self").unwrap();
        assert_eq!(
            (actor["type"].as_str(), actor["href"].as_str()),
            (Some("application/activity+json"), Some(&*format!("{base}/users/alice")))
        );
    }
    let status = |path: String| {
        let app = &app;
        async move { get(app, &path, None).await.status().as_u16() }
    };
    assert_eq!(status("/.well-known/webfinger".into()).await, 400);
    assert_eq!(status("/.well-known/webfinger?resource=nonsense".into()).await, 400);
    assert_eq!(status(format!("/.well-known/webfinger?resource=acct:nobody@{domain}")).await, 404);
    assert_eq!(status("/.well-known/webfinger?resource=acct:alice@elsewhere.example".into()).await, 404);

    let host_meta = get(&app, "/.well-known/host-meta", None).await;
    assert_eq!(host_meta.headers()["content-type"], "application/xrd+xml; charset=utf-8");
    let xml = host_meta.text().await.unwrap();
    assert!(xml.contains(&format!("template=\"{base}/.well-known/webfinger?resource={{uri}}\"")), "{xml}");
}

#[tokio::test]
async fn actors_are_negotiated_and_their_keys_verify_the_accounts_signatures() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.patch(
        "/api/v1/accounts/update_credentials",
        Some(&alice.token),
        serde_json::json!({ "display_name": "Alice", "note": "hello #fediverse", "locked": true }),
    )
    .await
    .ok();
    let base = &app.base;

    for path in ["/users/alice", "/@alice"] {
        let response = get(&app, path, Some("application/activity+json")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/activity+json; charset=utf-8");
        let actor: serde_json::Value = response.json().await.unwrap();
        assert_eq!(actor["id"], format!("{base}/users/alice"));
        assert_eq!(actor["type"], "Person");
        assert_eq!(actor["preferredUsername"], "alice");
        assert_eq!(actor["name"], "Alice");
        assert!(actor["summary"].as_str().unwrap().contains("fediverse"));
        assert_eq!(actor["manuallyApprovesFollowers"], true);
        assert_eq!(actor["inbox"], format!("{base}/users/alice/inbox"));
        assert_eq!(actor["endpoints"]["sharedInbox"], format!("{base}/inbox"));
        assert_eq!(actor["publicKey"]["id"], format!("{base}/users/alice#main-key"));
    }
    let ld =
        get(&app, "/users/alice", Some("application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"")).await;
    assert_eq!(ld.status(), 200);

    // Browsers: /users/alice redirects to the profile page, which is HTML.
    let redirect = get(&app, "/users/alice", Some("text/html")).await;
    assert_eq!(redirect.status(), 302);
    assert_eq!(redirect.headers()["location"], "/@alice");
    let page = get(&app, "/@alice", Some("text/html")).await;
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.text().await.unwrap().contains("application/activity+json"));
    assert_eq!(get(&app, "/users/nobody", Some("application/activity+json")).await.status(), 404);

    // The published key verifies what the account's private key signs.
    let actor: serde_json::Value =
        get(&app, "/users/alice", Some("application/activity+json")).await.json().await.unwrap();
    let public = rsa::RsaPublicKey::from_public_key_pem(actor["publicKey"]["publicKeyPem"].as_str().unwrap()).unwrap();
    let private_pem: String = sqlx::query_scalar("SELECT private_key FROM accounts WHERE username = 'alice'")
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    let private = rsa::RsaPrivateKey::from_pkcs1_pem(&private_pem).unwrap();
    let signed = "(request-target): post /inbox\nhost: example.com\ndate: Sun, 22 Nov 2026 10:00:00 GMT";
    let signature = signatures::sign(&private, signed);
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(signature).unwrap();
    assert!(signatures::verify(&public, signed, &bytes));

    // A suspended account is gone.
    sqlx::query("UPDATE accounts SET suspended_at = now() WHERE username = 'alice'")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(get(&app, "/users/alice", Some("application/activity+json")).await.status(), 410);
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Reads one HTTP request from `listener`, answers it with `body` as ActivityPub JSON, and
/// returns the request's head (request line and headers).
async fn answer_one(listener: tokio::net::TcpListener, body: String) -> Vec<String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (socket, _) = listener.accept().await.unwrap();
    let mut reader = BufReader::new(socket);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        if line.trim().is_empty() {
            break;
        }
        head.push(line.trim_end().to_string());
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    reader.get_mut().write_all(response.as_bytes()).await.unwrap();
    head
}

#[tokio::test]
async fn fetches_are_signed_by_the_instance_actor() {
    let app = TestApp::spawn_with(&[("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8")]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.3:0").await.unwrap();
    let url = format!("http://{}/objects/1", listener.local_addr().unwrap());
    let served = tokio::spawn(answer_one(listener, format!(r#"{{"id":"{url}","type":"Note"}}"#)));
    let object = ferrodon::effects::federation::remote::fetch_object(&app.state, &url).await.unwrap();
    assert_eq!(object["type"], "Note");
    let head = served.await.unwrap();
    let header = |name: &str| {
        head.iter()
            .find_map(|l| l.split_once(": ").filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_string()))
    };

    // The instance actor is served at /actor, and its key verifies the fetch's signature.
    let actor: serde_json::Value = get(&app, "/actor", Some("application/activity+json")).await.json().await.unwrap();
    assert_eq!(actor["id"], format!("{}/actor", app.base));
    assert_eq!(actor["type"], "Application");
    let signature = signatures::SignatureHeader::parse(&header("signature").expect("a Signature header")).unwrap();
    assert_eq!(signature.key_id, format!("{}/actor#main-key", app.base));
    assert_eq!(signature.headers, ["(request-target)", "host", "date"]);
    let string = signatures::signing_string("get", "/objects/1", &signature.headers, |name| header(name)).unwrap();
    let public = rsa::RsaPublicKey::from_public_key_pem(actor["publicKey"]["publicKeyPem"].as_str().unwrap()).unwrap();
    assert!(signatures::verify(&public, &string, &signature.signature), "the signature verifies with /actor's key");
}
