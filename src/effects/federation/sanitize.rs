//! Remote HTML made safe to show, with Mastodon's allow-list (`Sanitize::Config::
//! MASTODON_STRICT`): text formatting, lists, quotes, code and links; only the
//! microformat and mention/hashtag classes; links open with `nofollow noopener`.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const TAGS: &[&str] = &[
    "p",
    "br",
    "span",
    "a",
    "del",
    "s",
    "pre",
    "blockquote",
    "code",
    "b",
    "strong",
    "u",
    "i",
    "em",
    "ul",
    "ol",
    "li",
    "ruby",
    "rt",
    "rp",
];
const SCHEMES: &[&str] = &["http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini"];

fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut builder = ammonia::Builder::empty();
        let attributes: HashMap<&str, HashSet<&str>> = [
            ("a", ["href", "class", "translate"].into_iter().collect()),
            ("span", ["class", "translate"].into_iter().collect()),
            ("ol", ["start", "reversed"].into_iter().collect()),
            ("li", ["value"].into_iter().collect()),
        ]
        .into_iter()
        .collect();
        builder
            .tags(TAGS.iter().copied().collect())
            .tag_attributes(attributes)
            .url_schemes(SCHEMES.iter().copied().collect())
            .link_rel(Some("nofollow noopener"))
            .attribute_filter(|element, attribute, value| {
                if attribute != "class" {
                    return Some(value.into());
                }
                let kept: Vec<&str> = value.split_whitespace().filter(|c| allowed_class(element, c)).collect();
                if kept.is_empty() { None } else { Some(kept.join(" ").into()) }
            });
        builder
    })
}

/// Microformats everywhere; `mention`, `hashtag`, `ellipsis` and `invisible` where
/// Mastodon keeps them.
fn allowed_class(element: &str, class: &str) -> bool {
    let microformat = ["h-", "p-", "u-", "dt-", "e-"].iter().any(|p| class.starts_with(p));
    microformat
        || match element {
            "a" => matches!(class, "mention" | "hashtag" | "unhandled-link"),
            "span" => matches!(class, "ellipsis" | "invisible"),
            _ => false,
        }
}

/// Sanitized HTML of a remote status or profile.
pub fn html(input: &str) -> String {
    cleaner().clean(input).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_foreign_classes_go() {
        let dirty = "<p onclick=\"x()\">Hi <script>alert(1)</script><a href=\"javascript:alert(1)\">x</a> \
                     <a href=\"https://a.example/@b\" class=\"u-url mention evil\">@b</a><img src=x></p>";
        let clean = html(dirty);
        assert!(!clean.contains("script") && !clean.contains("onclick") && !clean.contains("javascript"), "{clean}");
        assert!(!clean.contains("evil") && !clean.contains("<img"), "{clean}");
        assert!(clean.contains("class=\"u-url mention\""), "{clean}");
        assert!(clean.contains("rel=\"nofollow noopener\""), "{clean}");
    }
}
