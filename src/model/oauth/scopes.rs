//! OAuth scopes as Mastodon (Doorkeeper) defines them, and the rule for whether a token's
//! scopes permit an action.

pub const ALL: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "admin:read",
    "admin:read:accounts",
    "admin:read:reports",
    "admin:read:domain_allows",
    "admin:read:domain_blocks",
    "admin:read:ip_blocks",
    "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks",
    "admin:write",
    "admin:write:accounts",
    "admin:write:reports",
    "admin:write:domain_allows",
    "admin:write:domain_blocks",
    "admin:write:ip_blocks",
    "admin:write:email_domain_blocks",
    "admin:write:canonical_email_blocks",
];

/// A space-separated scope string, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses and validates; `None` if any scope is unknown. Empty input gives `read`.
    pub fn parse(input: &str) -> Option<Scopes> {
        let mut scopes: Vec<String> = Vec::new();
        for s in input.split([' ', '+', ',']).filter(|s| !s.is_empty()) {
            if !ALL.contains(&s) {
                return None;
            }
            if !scopes.iter().any(|x| x == s) {
                scopes.push(s.to_string());
            }
        }
        if scopes.is_empty() {
            scopes.push("read".into());
        }
        Some(Scopes(scopes))
    }

    /// Stored values are trusted; unknown entries are kept but grant nothing new.
    pub fn from_stored(stored: &str) -> Scopes {
        Scopes(stored.split_whitespace().map(str::to_string).collect())
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn to_db(&self) -> String {
        self.0.join(" ")
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    pub fn is_subset_of(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.contains(s))
    }

    /// Whether these scopes permit `required` (a fine-grained scope such as `write:statuses`,
    /// or a top-level one such as `read`): held exactly, through its parent (`write`), or
    /// through the legacy `follow` scope for follows, blocks and mutes.
    pub fn permits(&self, required: &str) -> bool {
        if self.contains(required) {
            return true;
        }
        let mut parts = required.rsplitn(2, ':');
        let leaf = parts.next().unwrap_or_default();
        if let Some(parent) = parts.next() {
            if self.permits(parent) {
                return true;
            }
            if matches!(parent, "read" | "write") && matches!(leaf, "follows" | "blocks" | "mutes") {
                return self.contains("follow");
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::Scopes;

    #[test]
    fn parent_scopes_cover_children() {
        let s = Scopes::parse("read write:statuses").unwrap_or_else(|| Scopes::from_stored(""));
        assert!(s.permits("read:notifications"));
        assert!(s.permits("write:statuses"));
        assert!(!s.permits("write:favourites"));
        assert!(!s.permits("write"));
    }

    #[test]
    fn follow_scope_covers_relationships() {
        let s = Scopes::from_stored("follow");
        assert!(s.permits("write:follows"));
        assert!(s.permits("read:blocks"));
        assert!(!s.permits("write:statuses"));
    }

    #[test]
    fn unknown_scopes_are_rejected_and_empty_means_read() {
        assert_eq!(Scopes::parse("read bogus"), None);
        assert_eq!(Scopes::parse("").map(|s| s.to_db()), Some("read".to_string()));
        let admin = Scopes::from_stored("admin:read");
        assert!(admin.permits("admin:read:accounts"));
    }
}
