//! Search indexing (Meilisearch, when configured).

pub mod meili;
