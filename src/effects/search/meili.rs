//! The optional Meilisearch backend (`MEILI_URL`, `MEILI_API_KEY`). Meilisearch finds,
//! PostgreSQL decides: three indexes (`<prefix>statuses`, `<prefix>accounts`,
//! `<prefix>tags`) hold the searchable text, a query asks Meilisearch for candidate ids,
//! and the candidates go through the same SQL as the PostgreSQL backend (visibility,
//! blocks, mutes, the searcher's library, ranking and order). So both backends show a
//! searcher the same kind of results under the same rules; Meilisearch brings typo
//! tolerance and relevance on large instances.
//!
//! Documents are written on the `default` queue (`Search` jobs) as statuses,
//! accounts and tags change; `ferrodon ctl search deploy` (re)builds all three.

use std::time::Duration;

use meilisearch_sdk::client::Client;
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::task_info::TaskInfo;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::core::config::MeiliConfig;
use crate::core::error::{Error, Result};

/// Documents written per request by `deploy`.
const DEPLOY_BATCH: i64 = 1000;
/// Candidates asked of Meilisearch per round, and rounds at most per status query.
const CANDIDATE_BATCH: usize = 200;
pub const MAX_CANDIDATE_ROUNDS: usize = 5;
const TASK_TIMEOUT: Duration = Duration::from_secs(120);

/// What is indexed: each kind has its own index and its own documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Status,
    Account,
    Tag,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Status, Kind::Account, Kind::Tag];

    fn index_name(self) -> &'static str {
        match self {
            Kind::Status => "statuses",
            Kind::Account => "accounts",
            Kind::Tag => "tags",
        }
    }

    /// What can be searched, filtered and sorted in its index.
    fn settings(self) -> (&'static [&'static str], &'static [&'static str], &'static [&'static str]) {
        match self {
            Kind::Status => {
                (&["text"], &["account_id", "language", "public_indexable", "searchable_by"], &["created_at"])
            }
            Kind::Account => (&["display_name", "username", "domain"], &[], &[]),
            Kind::Tag => (&["name"], &[], &[]),
        }
    }

    /// The documents of `ids` (or of the batch after `after`, when `ids` is empty), as
    /// JSON built in SQL, with their ids. Rows that no longer qualify are absent.
    fn documents_sql(self) -> &'static str {
        match self {
            // Who may find a status through the "library" rule: its author, mentioned
            // accounts, and those who favourited, reblogged or bookmarked it (Mastodon's
            // `searchable_by`); everyone, for public statuses of indexable accounts.
            Kind::Status => {
                "SELECT s.id, json_build_object(
                    'id', s.id::text,
                    'text', s.spoiler_text || ' ' || s.text,
                    'account_id', s.account_id::text,
                    'language', s.language,
                    'created_at', (extract(epoch FROM s.created_at) * 1000)::bigint,
                    'public_indexable', s.visibility = 0 AND a.indexable,
                    'searchable_by', ARRAY(
                        SELECT s.account_id::text
                        UNION SELECT m.account_id::text FROM mentions m WHERE m.status_id = s.id
                        UNION SELECT f.account_id::text FROM favourites f WHERE f.status_id = s.id
                        UNION SELECT b.account_id::text FROM bookmarks b WHERE b.status_id = s.id
                        UNION SELECT r.account_id::text FROM statuses r
                               WHERE r.reblog_of_id = s.id AND r.deleted_at IS NULL))::text
                   FROM statuses s JOIN accounts a ON a.id = s.account_id
                  WHERE s.deleted_at IS NULL AND s.reblog_of_id IS NULL
                    AND (cardinality($1::bigint[]) = 0 OR s.id = ANY($1))
                    AND (cardinality($1::bigint[]) > 0 OR s.id > $2)
                  ORDER BY s.id LIMIT $3"
            }
            Kind::Account => {
                "SELECT a.id, json_build_object(
                    'id', a.id::text, 'display_name', a.display_name, 'username', a.username,
                    'domain', COALESCE(a.domain, ''))::text
                   FROM accounts a
                  WHERE a.suspended_at IS NULL AND a.id > 0
                    AND (cardinality($1::bigint[]) = 0 OR a.id = ANY($1))
                    AND (cardinality($1::bigint[]) > 0 OR a.id > $2)
                  ORDER BY a.id LIMIT $3"
            }
            Kind::Tag => {
                "SELECT t.id, json_build_object('id', t.id::text, 'name', t.name)::text
                   FROM tags t
                  WHERE (cardinality($1::bigint[]) = 0 OR t.id = ANY($1))
                    AND (cardinality($1::bigint[]) > 0 OR t.id > $2)
                  ORDER BY t.id LIMIT $3"
            }
        }
    }
}

/// The filters of a status query that Meilisearch can apply before PostgreSQL does the
/// rest (the searcher's view and every other rule).
#[derive(Debug, Default)]
pub struct StatusFilter<'a> {
    pub viewer: i64,
    pub account_id: Option<i64>,
    pub language: Option<&'a str>,
    pub public_only: bool,
    pub library_only: bool,
}

#[derive(Deserialize)]
struct Hit {
    id: String,
}

fn meili_error(e: meilisearch_sdk::errors::Error) -> Error {
    Error::internal(format!("meilisearch: {e}"))
}

pub struct Meili {
    client: Client,
    prefix: String,
}

impl Meili {
    pub fn new(config: &MeiliConfig) -> Result<Meili> {
        let client = Client::new(config.url.clone(), config.api_key.clone()).map_err(meili_error)?;
        Ok(Meili { client, prefix: config.index_prefix.clone() })
    }

    fn index(&self, kind: Kind) -> Index {
        self.client.index(format!("{}{}", self.prefix, kind.index_name()))
    }

    async fn wait(&self, task: TaskInfo) -> Result<()> {
        let done = task.wait_for_completion(&self.client, None, Some(TASK_TIMEOUT)).await.map_err(meili_error)?;
        if done.is_failure() {
            return Err(Error::internal(format!("meilisearch task failed: {:?}", done.unwrap_failure())));
        }
        Ok(())
    }

    async fn search_ids(
        &self,
        kind: Kind,
        query: &str,
        filter: Option<&str>,
        sort: &[&str],
        offset: usize,
    ) -> Result<Vec<i64>> {
        let index = self.index(kind);
        let mut search = index.search();
        search
            .with_query(query)
            .with_offset(offset)
            .with_limit(CANDIDATE_BATCH)
            .with_attributes_to_retrieve(meilisearch_sdk::search::Selectors::Some(&["id"]));
        if let Some(filter) = filter {
            search.with_filter(filter);
        }
        if !sort.is_empty() {
            search.with_sort(sort);
        }
        let found = search.execute::<Hit>().await.map_err(meili_error)?;
        Ok(found.hits.iter().filter_map(|h| h.result.id.parse().ok()).collect())
    }

    /// Candidate statuses for `words`, newest first: round `round` of them.
    pub async fn status_candidates(&self, words: &str, filter: &StatusFilter<'_>, round: usize) -> Result<Vec<i64>> {
        let mut clauses = Vec::new();
        let viewer = format!("searchable_by = \"{}\"", filter.viewer);
        clauses.push(match (filter.public_only, filter.library_only) {
            (true, _) => "public_indexable = true".to_string(),
            (_, true) => viewer,
            _ => format!("(public_indexable = true OR {viewer})"),
        });
        if let Some(account) = filter.account_id {
            clauses.push(format!("account_id = \"{account}\""));
        }
        if let Some(language) = filter.language.filter(|l| l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')) {
            clauses.push(format!("language = \"{language}\""));
        }
        let filter = clauses.join(" AND ");
        self.search_ids(Kind::Status, words, Some(&filter), &["created_at:desc"], round * CANDIDATE_BATCH).await
    }

    pub async fn account_candidates(&self, term: &str) -> Result<Vec<i64>> {
        self.search_ids(Kind::Account, term, None, &[], 0).await
    }

    pub async fn tag_candidates(&self, name: &str) -> Result<Vec<i64>> {
        self.search_ids(Kind::Tag, name, None, &[], 0).await
    }

    /// Whether Meilisearch may still have candidates after `round` (it gave a full batch).
    pub fn more_after(found: usize) -> bool {
        found == CANDIDATE_BATCH
    }

    /// Writes (or removes) the documents of these rows.
    pub async fn reindex(&self, db: &PgPool, kind: Kind, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let rows = documents(db, kind, ids, 0).await?;
        let present: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        let gone: Vec<String> = ids.iter().filter(|id| !present.contains(id)).map(i64::to_string).collect();
        let index = self.index(kind);
        if !rows.is_empty() {
            let docs: Vec<serde_json::Value> = rows.into_iter().map(|(_, doc)| doc).collect();
            self.wait(index.add_or_replace(&docs, Some("id")).await.map_err(meili_error)?).await?;
        }
        if !gone.is_empty() {
            self.wait(index.delete_documents(&gone).await.map_err(meili_error)?).await?;
        }
        Ok(())
    }

    /// Creates the indexes with their settings, empties them and writes every document,
    /// reporting `(kind, written so far)` after each batch. Returns the totals.
    pub async fn deploy(&self, db: &PgPool, progress: impl Fn(Kind, u64)) -> Result<Vec<(Kind, u64)>> {
        let mut totals = Vec::new();
        for kind in Kind::ALL {
            let name = format!("{}{}", self.prefix, kind.index_name());
            // Creating an index that exists fails its task; that is fine here.
            let _ = self
                .client
                .create_index(&name, Some("id"))
                .await
                .map_err(meili_error)?
                .wait_for_completion(&self.client, None, Some(TASK_TIMEOUT))
                .await;
            let index = self.index(kind);
            let (searchable, filterable, sortable) = kind.settings();
            self.wait(index.set_searchable_attributes(searchable).await.map_err(meili_error)?).await?;
            self.wait(index.set_filterable_attributes(filterable).await.map_err(meili_error)?).await?;
            self.wait(index.set_sortable_attributes(sortable).await.map_err(meili_error)?).await?;
            self.wait(index.delete_all_documents().await.map_err(meili_error)?).await?;
            let (mut after, mut written) = (0i64, 0u64);
            loop {
                let rows = documents(db, kind, &[], after).await?;
                let Some((last, _)) = rows.last() else { break };
                after = *last;
                written += rows.len() as u64;
                let docs: Vec<serde_json::Value> = rows.into_iter().map(|(_, doc)| doc).collect();
                self.wait(index.add_or_replace(&docs, Some("id")).await.map_err(meili_error)?).await?;
                progress(kind, written);
            }
            totals.push((kind, written));
        }
        Ok(totals)
    }
}

async fn documents(db: &PgPool, kind: Kind, ids: &[i64], after: i64) -> Result<Vec<(i64, serde_json::Value)>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(kind.documents_sql())
        .bind(ids)
        .bind(after)
        .bind(if ids.is_empty() { DEPLOY_BATCH } else { ids.len() as i64 })
        .fetch_all(db)
        .await?;
    rows.into_iter()
        .map(|(id, json)| {
            let mut doc: serde_json::Value = serde_json::from_str(&json).map_err(Error::internal)?;
            if kind == Kind::Status
                && let Some(text) = doc["text"].as_str()
            {
                doc["text"] = serde_json::Value::String(crate::core::text::plain_text(text));
            }
            Ok((id, doc))
        })
        .collect()
}
