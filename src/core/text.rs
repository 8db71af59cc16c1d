//! Plain-text status rendering compatible with Mastodon's handling of local posts.
//!
//! Mastodon keeps the text a local user typed and renders it to HTML when the
//! status is serialized. This module reproduces that pipeline:
//!
//! * the text is trimmed of ASCII whitespace at both ends (done by the status
//!   model before it is saved);
//! * URLs, hashtags, mentions and `xmpp:` / `magnet:` URIs are located with
//!   the same grammar Mastodon inherits from twitter-text (including
//!   Mastodon's own overrides of the URL path and query rules, the list of
//!   accepted URL schemes, and the table of known top-level domains);
//! * overlapping entities are resolved left to right, everything else is
//!   HTML-escaped, entities are replaced by links;
//! * the result is split into `<p>` paragraphs on blank lines with `<br />`
//!   for single line breaks, and all remaining newlines are dropped.
//!
//! [`status_length`] implements the character-limit count: grapheme
//! clusters, with every linkable URL counting as 23 and `@user@domain`
//! counting as `@user`.
//!
//! The `regex` crate has no look-around, so every look-behind and look-ahead
//! of the original grammar is checked by hand next to the regex that carries
//! the rest of the pattern; backtracking over domain names is done by an
//! explicit search in the same order a backtracking engine would use.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// A mention found in the text: `username` and optional `domain` as written (without '@').
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MentionToken {
    pub username: String,
    pub domain: Option<String>,
}

/// What the caller resolved a mention to (None = unknown account: leave the text as is, unlinked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedMention {
    /// Profile URL used as the link target.
    pub url: String,
    /// Text shown inside the link (normally the bare username).
    pub username: String,
    /// `user` for local accounts, `user@domain` for remote ones.
    pub acct: String,
}

/// Result of [`format_plain`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Formatted {
    pub html: String,
    /// Normalized hashtag names, in order of first use, deduplicated.
    pub tags: Vec<String>,
    /// Resolved mentions, deduplicated by acct (case-insensitively), in order.
    pub mentions: Vec<ResolvedMention>,
}

/// Every linkable URL counts as this many characters towards the limit.
const URL_PLACEHOLDER_LEN: usize = 23;
/// URLs longer than this (after IDNA encoding of the host) are not links.
const MAX_URL_LENGTH: usize = 4096;
/// Mentions whose domain part is longer than this are not links.
const MAX_MENTION_DOMAIN_LENGTH: usize = 253;
/// Number of characters of a URL shown before the rest is hidden.
const DISPLAY_URL_CHARS: usize = 30;
/// Longest path accepted for a `t.co` short link.
const MAX_TCO_SLUG_LENGTH: usize = 40;

/// Schemes recognised in front of a domain, in the order they are tried.
const URL_SCHEMES: [&str; 9] =
    ["https://", "http://", "dat://", "dweb://", "ipfs://", "ipns://", "ssb://", "gopher://", "gemini://"];

/// Latin letters with diacritics (twitter-text's "latin accents" set), as a
/// regex class body.
const LATIN_ACCENT_CLASS: &str = r"\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{FF}\x{100}-\x{24F}\x{253}-\x{254}\x{256}-\x{257}\x{259}\x{25B}\x{263}\x{268}\x{26F}\x{272}\x{289}\x{28B}\x{2BB}\x{300}-\x{36F}\x{1E00}-\x{1EFF}";

/// Non-ASCII code points Mastodon accepts in URL query strings.
const QUERY_UNICODE_CLASS: &str = r"\x{A0}-\x{D7FF}\x{F900}-\x{FDCF}\x{FDF0}-\x{FFEF}\x{10000}-\x{1FFFD}\x{20000}-\x{2FFFD}\x{30000}-\x{3FFFD}\x{40000}-\x{4FFFD}\x{50000}-\x{5FFFD}\x{60000}-\x{6FFFD}\x{70000}-\x{7FFFD}\x{80000}-\x{8FFFD}\x{90000}-\x{9FFFD}\x{A0000}-\x{AFFFD}\x{B0000}-\x{BFFFD}\x{C0000}-\x{CFFFD}\x{D0000}-\x{DFFFD}\x{E1000}-\x{EFFFD}\x{E000}-\x{F8FF}\x{F0000}-\x{FFFFD}\x{100000}-\x{10FFFD}";

/// Ruby-style "word" character (`[[:word:]]` in Onigmo): alphabetic, marks,
/// decimal digits and connector punctuation.
const WORD_CLASS: &str = r"\p{Alphabetic}\p{M}\p{Nd}\p{Pc}";

#[allow(clippy::expect_used)]
fn compile(pattern: &str) -> Regex {
    // Only ever called with patterns built from constants in this file; a
    // failure is a programming error caught by the unit tests.
    Regex::new(pattern).expect("constant regex pattern must compile")
}

// ---------------------------------------------------------------------------
// Regexes (anchored with `^`; callers apply them to a slice starting at the
// position being tested, and check look-around conditions themselves).
// ---------------------------------------------------------------------------

/// Query string: `?` followed by query characters, ending on a query-ending character.
fn query_pattern() -> String {
    let chars = format!(r"(?i:[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@\^{QUERY_UNICODE_CLASS}])");
    let ending = format!(r"(?i:[a-z0-9_&=#/\-{QUERY_UNICODE_CLASS}])");
    format!(r"\?{chars}*{ending}")
}

/// Everything that may follow the domain of a URL: port, path, query.
static URL_TAIL_RE: LazyLock<Regex> = LazyLock::new(|| {
    // Mastodon's permissive path character.
    let g = r"[^\p{White_Space}<>()?]";
    // twitter-text's stricter path character, still used inside parentheses
    // that end a path (Mastodon redefines the parenthesis rule only after it
    // has been baked into the path-ending rule).
    let strict = format!(r"(?i:[a-z\p{{Cyrillic}}0-9!*';:=+,.$/%#\[\]\p{{Pd}}_~&|@{LATIN_ACCENT_CLASS}])");
    let strict_parens = format!(r"\((?:{strict}+|{strict}*\({strict}+\){strict}*)\)");
    let ending = format!(r#"(?:[^\p{{White_Space}}()?!*"'「」<>;:=,.$%\[\]~&|]|{strict_parens})"#);
    let parens = format!(r"\((?:{g}+|{g}*\({g}+\){g}*)\)");
    let segment = format!(r"(?:{g}*(?:{parens}{g}*)*{ending}|{g}+/)");
    compile(&format!(r"^(?::([0-9]+))?(?:/{segment}*)?(?:{})?", query_pattern()))
});

/// What may follow the domain of an `xmpp:` URI: resource and query.
static XMPP_TAIL_RE: LazyLock<Regex> = LazyLock::new(|| {
    let resid = r"(?:(?i:[a-z\p{Cyrillic}0-9\p{Pd}._~])|%[0-9A-Fa-f]{2}|[!$&'()*+,;=])";
    compile(&format!(r"^(?:/{resid}+)?(?:{})?", query_pattern()))
});

/// `node@` part of an `xmpp:` URI.
static XMPP_NODE_RE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^(?:(?i:[a-z\p{Cyrillic}0-9\p{Pd}._~])|%[0-9A-Fa-f]{2}|[!$()*+,;=])+@"));

/// Query string of a `magnet:` URI (mandatory there).
static MAGNET_QUERY_RE: LazyLock<Regex> = LazyLock::new(|| compile(&format!("^{}", query_pattern())));

/// `t.co` links are cut after their slug.
static TCO_RE: LazyLock<Regex> = LazyLock::new(|| compile(r"(?i)^https?://t\.co/([a-z0-9]+)"));

/// Hashtag name after the `#`.
static HASHTAG_NAME_RE: LazyLock<Regex> = LazyLock::new(|| {
    let word = format!("[{WORD_CLASS}]");
    let word_or_sep = format!(r"[{WORD_CLASS}\x{{B7}}\x{{30FB}}\x{{200C}}]");
    let alpha_or_sep = r"[\p{Alphabetic}_\x{B7}\x{30FB}\x{200C}]";
    // Either a name with a letter or separator somewhere in its middle, or
    // any run of word characters containing at least one letter.
    compile(&format!(r"^(?:{word}{word_or_sep}*{alpha_or_sep}{word_or_sep}*{word}|{word}*\p{{Alphabetic}}{word}*)"))
});

/// Characters dropped from hashtag names by normalization.
static HASHTAG_INVALID_RE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"[^\p{Alphabetic}\p{Nd}\x{E47}-\x{E4E}_\x{B7}\x{30FB}\x{200C}]"));

/// Mention after the `@`: `user` or `user@domain`.
/// Mastodon's mention syntax, plus an optional `:port` after the domain (ferrodon-only:
/// servers on non-default ports, as in development, can be mentioned too).
static MENTION_BODY_RE: LazyLock<Regex> = LazyLock::new(|| {
    let word = format!("[{WORD_CLASS}]");
    compile(&format!(r"^(?i:[a-z0-9_])+(?:[.-]+(?i:[a-z0-9_])+)*(?:@{word}+(?:[.-]+{word}+)*(?::[0-9]{{1,5}}\b)?)?"))
});

static WORD_CHAR_RE: LazyLock<Regex> = LazyLock::new(|| compile(&format!("^[{WORD_CLASS}]$")));

static PARAGRAPH_SPLIT_RE: LazyLock<Regex> = LazyLock::new(|| compile(r"\n\n+"));

/// Known top-level domains bucketed by first character, keeping the list
/// order (generic list first, then country codes) inside each bucket.
static TLD_BUCKETS: LazyLock<HashMap<char, Vec<&'static str>>> = LazyLock::new(|| {
    let mut buckets: HashMap<char, Vec<&'static str>> = HashMap::new();
    for tld in GENERIC_TLDS.iter().chain(COUNTRY_TLDS.iter()) {
        if let Some(first) = tld.chars().next() {
            buckets.entry(first).or_default().push(tld);
        }
    }
    buckets
});

// ---------------------------------------------------------------------------
// Character predicates
// ---------------------------------------------------------------------------

fn is_word_char(c: char) -> bool {
    let mut buf = [0u8; 4];
    WORD_CHAR_RE.is_match(c.encode_utf8(&mut buf))
}

/// Characters that cannot appear in a domain label (all ASCII punctuation,
/// spaces and controls, directional marks, BOM/non-characters, Unicode spaces).
fn is_domain_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    !matches!(
        c,
        '\u{85}'
            | '\u{A0}'
            | '\u{61C}'
            | '\u{1680}'
            | '\u{180E}'
            | '\u{2000}'..='\u{200A}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202A}'..='\u{202F}'
            | '\u{205F}'
            | '\u{2066}'..='\u{2069}'
            | '\u{3000}'
            | '\u{FEFF}'
            | '\u{FFFE}'
            | '\u{FFFF}'
    )
}

fn is_label_char(c: char) -> bool {
    is_domain_char(c) || c == '-' || c == '_'
}

/// Whether `c` may directly precede a URL (anything but letters, digits,
/// `@`, `$`, `#` and their full-width forms, and BOM/non-characters).
fn is_url_preceding(c: char) -> bool {
    !(c.is_ascii_alphanumeric()
        || matches!(
            c,
            '@' | '\u{FF20}' | '$' | '#' | '\u{FF03}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'
                // case-insensitive matching folds these onto ASCII letters
                | '\u{17F}' | '\u{212A}'
        ))
}

/// A top-level domain may not run straight into one of these.
fn continues_tld(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '@' | '+' | '-' | '\u{17F}' | '\u{212A}')
}

fn is_latin_accent(c: char) -> bool {
    matches!(
        c as u32,
        0xC0..=0xD6
            | 0xD8..=0xF6
            | 0xF8..=0x24F
            | 0x253..=0x254
            | 0x256..=0x257
            | 0x259
            | 0x25B
            | 0x263
            | 0x268
            | 0x26F
            | 0x272
            | 0x289
            | 0x28B
            | 0x2BB
            | 0x300..=0x36F
            | 0x1E00..=0x1EFF
    )
}

/// Single-character case folding used for case-insensitive comparisons
/// (simple lowercase, plus long s folding to `s` as Ruby's `/i` does).
fn fold_char(c: char) -> char {
    if c == '\u{17F}' {
        return 's';
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Byte length of the prefix of `haystack` that matches `needle` (given in
/// lowercase) case-insensitively.
fn match_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let mut len = 0;
    let mut hay = haystack.chars();
    for n in needle.chars() {
        let h = hay.next()?;
        if fold_char(h) != n {
            return None;
        }
        len += h.len_utf8();
    }
    Some(len)
}

/// Ruby's `String#strip`: ASCII whitespace and NUL at both ends.
fn ruby_strip(text: &str) -> &str {
    text.trim_matches(|c: char| matches!(c, '\0' | '\t' | '\n' | '\u{B}' | '\u{C}' | '\r' | ' '))
}

/// Rails' `blank?`: empty or only Unicode whitespace.
fn is_blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

// ---------------------------------------------------------------------------
// Entity extraction
// ---------------------------------------------------------------------------

/// A URL found by the scanner, before validation.
struct UrlCandidate {
    start: usize,
    end: usize,
    has_scheme: bool,
    domain: (usize, usize),
    port: Option<(usize, usize)>,
}

/// A match of the mention grammar.
struct MentionMatch {
    start: usize,
    end: usize,
    screen_name: String,
    username: String,
    domain: Option<String>,
    /// False when Mastodon finds the mention (and notifies the account) but
    /// does not turn it into a link.
    linkable: bool,
}

enum EntityKind {
    Url(String),
    Hashtag(String),
    /// `user` or `user@domain`, as written.
    Mention(String),
}

struct Entity {
    start: usize,
    end: usize,
    kind: EntityKind,
}

struct Scanner<'a> {
    text: &'a str,
    /// For each char boundary, the end of the run of label characters
    /// (domain characters, `-`, `_`) starting there.
    label_run_end: Vec<usize>,
    /// Memo for `first_domain_end`, keyed by start position.
    first_domain_memo: RefCell<HashMap<usize, Option<usize>>>,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        let mut label_run_end = vec![text.len(); text.len() + 1];
        for (i, c) in text.char_indices().rev() {
            let next = i + c.len_utf8();
            let value = if is_label_char(c) { label_run_end.get(next).copied().unwrap_or(next) } else { i };
            if let Some(slot) = label_run_end.get_mut(i) {
                *slot = value;
            }
        }
        Self { text, label_run_end, first_domain_memo: RefCell::new(HashMap::new()) }
    }

    fn char_at(&self, i: usize) -> Option<char> {
        self.text.get(i..).and_then(|s| s.chars().next())
    }

    fn char_before(&self, i: usize) -> Option<char> {
        self.text.get(..i).and_then(|s| s.chars().next_back())
    }

    fn at_line_start(&self, i: usize) -> bool {
        i == 0 || self.char_before(i) == Some('\n')
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or("")
    }

    fn rest(&self, start: usize) -> &'a str {
        self.text.get(start..).unwrap_or("")
    }

    /// End of the label starting at `start` when it is a valid sub-domain
    /// label (starts and ends with a domain character) followed by a dot.
    fn dotted_label_end(&self, start: usize) -> Option<usize> {
        let end = self.label_run_end.get(start).copied().unwrap_or(start);
        let label = self.slice(start, end);
        let ok = end > start
            && self.char_at(end) == Some('.')
            && label.chars().next().is_some_and(is_domain_char)
            && label.chars().next_back().is_some_and(is_domain_char);
        ok.then_some(end)
    }

    /// Tries the domain grammar at `start` and reports each possible end of
    /// the domain, in the order a backtracking matcher would try them, to
    /// `accept`; returns the first end accepted.
    ///
    /// A domain is any number of sub-domain labels (which may contain `_`),
    /// a second-level label (which may not), each followed by a dot, then a
    /// known TLD not directly followed by `[0-9a-z@+-]`, or a punycode TLD.
    /// The greedy sub-domain repetition means the readings that use the most
    /// labels come first.
    fn domain_end(&self, start: usize, mut accept: impl FnMut(usize) -> bool) -> Option<usize> {
        let mut labels = Vec::new();
        let mut at = start;
        while let Some(end) = self.dotted_label_end(at) {
            labels.push((at, end));
            at = end + 1;
        }
        for &(s, e) in labels.iter().rev() {
            if self.slice(s, e).contains('_') {
                continue;
            }
            if let Some(end) = self.tld_end(e + 1, &mut accept) {
                return Some(end);
            }
        }
        None
    }

    /// `domain_end` accepting the first reading, memoized: the answer for a
    /// label is the answer for the label after it, or else the label's own
    /// reading, so each chain of dotted labels is examined once.
    fn first_domain_end(&self, start: usize) -> Option<usize> {
        let mut chain = Vec::new();
        let mut at = start;
        let mut result = loop {
            if let Some(&known) = self.first_domain_memo.borrow().get(&at) {
                break known;
            }
            match self.dotted_label_end(at) {
                Some(end) => {
                    chain.push((at, end));
                    at = end + 1;
                }
                None => break None,
            }
        };
        for &(s, e) in chain.iter().rev() {
            if result.is_none() && !self.slice(s, e).contains('_') {
                result = self.tld_end(e + 1, &mut |_| true);
            }
            self.first_domain_memo.borrow_mut().insert(s, result);
        }
        result
    }

    fn tld_end(&self, start: usize, accept: &mut impl FnMut(usize) -> bool) -> Option<usize> {
        let rest = self.rest(start);
        let first = fold_char(rest.chars().next()?);
        if let Some(bucket) = TLD_BUCKETS.get(&first) {
            for tld in bucket {
                let Some(len) = match_ignore_case(rest, tld) else { continue };
                let end = start + len;
                if self.char_at(end).is_some_and(continues_tld) {
                    continue;
                }
                if accept(end) {
                    return Some(end);
                }
            }
        }
        if let Some(prefix) = match_ignore_case(rest, "xn--") {
            let digits = start + prefix;
            let ends: Vec<usize> = self
                .rest(digits)
                .char_indices()
                .take_while(|&(_, c)| fold_char(c).is_ascii_alphanumeric())
                .map(|(i, c)| digits + i + c.len_utf8())
                .collect();
            for &end in ends.iter().rev() {
                if accept(end) {
                    return Some(end);
                }
            }
        }
        None
    }

    /// URL grammar at `start` (after the preceding-character check).
    fn url_at(&self, start: usize) -> Option<UrlCandidate> {
        let rest = self.rest(start);
        if let Some(scheme_len) = URL_SCHEMES.iter().find_map(|s| match_ignore_case(rest, s)) {
            let host = start + scheme_len;
            if let Some(end) = self.first_domain_end(host) {
                return Some(self.url_tail(start, (host, end), true));
            }
        }
        let end = self.first_domain_end(start)?;
        Some(self.url_tail(start, (start, end), false))
    }

    fn url_tail(&self, start: usize, domain: (usize, usize), has_scheme: bool) -> UrlCandidate {
        let tail = self.rest(domain.1);
        let (len, port) = match URL_TAIL_RE.captures(tail) {
            Some(caps) => {
                (caps.get(0).map_or(0, |m| m.end()), caps.get(1).map(|m| (domain.1 + m.start(), domain.1 + m.end())))
            }
            None => (0, None),
        };
        UrlCandidate { start, end: domain.1 + len, has_scheme, domain, port }
    }

    /// Leftmost-match scan: a match needs a preceding character accepted by
    /// `is_url_preceding` or the start of a line in front of it.
    fn scan<T>(&self, mut at: impl FnMut(usize) -> Option<T>, end_of: impl Fn(&T) -> usize) -> Vec<T> {
        let mut found = Vec::new();
        let mut pos = 0;
        while pos < self.text.len() {
            let mut hit = None;
            for (offset, c) in self.rest(pos).char_indices() {
                let i = pos + offset;
                if is_url_preceding(c)
                    && let Some(m) = at(i + c.len_utf8())
                {
                    hit = Some(m);
                    break;
                }
                if self.at_line_start(i)
                    && let Some(m) = at(i)
                {
                    hit = Some(m);
                    break;
                }
            }
            let Some(m) = hit else { break };
            let end = end_of(&m);
            found.push(m);
            if end <= pos {
                break;
            }
            pos = end;
        }
        found
    }

    /// Links with a scheme, validated the way Mastodon validates them.
    fn urls(&self) -> Vec<Entity> {
        if !self.text.contains(':') {
            return Vec::new();
        }
        // Scheme-less matches are found (and consume text) but never linked.
        self.scan(|i| self.url_at(i), |c| c.end)
            .into_iter()
            .filter(|c| c.has_scheme)
            .filter_map(|c| self.validate_url(&c))
            .collect()
    }

    fn validate_url(&self, candidate: &UrlCandidate) -> Option<Entity> {
        let mut url = self.slice(candidate.start, candidate.end);
        let mut port = candidate.port;
        if let Some(caps) = TCO_RE.captures(url) {
            let slug = caps.get(1).map_or("", |m| m.as_str());
            if slug.chars().count() > MAX_TCO_SLUG_LENGTH {
                return None;
            }
            url = caps.get(0).map_or(url, |m| m.as_str());
            port = None;
        }
        let domain = self.slice(candidate.domain.0, candidate.domain.1);
        let mut length = url.chars().count();
        let encoded = idna_ascii_len(domain)?;
        let original = domain.chars().count();
        if encoded > original {
            length += encoded - original;
        }
        if length > MAX_URL_LENGTH {
            return None;
        }
        let end = candidate.start + url.len();
        // Re-serializing the URL drops leading zeros from the port (and a
        // zero port altogether).
        let rendered = match port {
            Some((ps, pe)) if pe <= end => {
                let digits = self.slice(ps, pe).trim_start_matches('0');
                let mut out = String::with_capacity(url.len());
                out.push_str(self.slice(candidate.start, ps.saturating_sub(1)));
                if !digits.is_empty() {
                    out.push(':');
                    out.push_str(digits);
                }
                out.push_str(self.slice(pe, end));
                out
            }
            _ => url.to_owned(),
        };
        Some(Entity { start: candidate.start, end, kind: EntityKind::Url(rendered) })
    }

    /// `xmpp:` and `magnet:` URIs.
    fn extra_uris(&self) -> Vec<Entity> {
        if !self.text.contains(':') {
            return Vec::new();
        }
        self.scan(|i| self.extra_uri_at(i).map(|end| (i, end)), |&(_, end)| end)
            .into_iter()
            .map(|(start, end)| Entity { start, end, kind: EntityKind::Url(self.slice(start, end).to_owned()) })
            .collect()
    }

    fn extra_uri_at(&self, start: usize) -> Option<usize> {
        let rest = self.rest(start);
        if let Some(scheme_len) = match_ignore_case(rest, "xmpp:") {
            let after_scheme = start + scheme_len;
            // Optional `//node@domain/` authority; every domain reading that
            // is followed by `/` is an alternative, the bare form comes last.
            let mut bodies = Vec::new();
            if self.rest(after_scheme).starts_with("//")
                && let Some(host) = self.xmpp_node_end(after_scheme + 2)
            {
                self.domain_end(host, |end| {
                    if self.char_at(end) == Some('/') {
                        bodies.push(end + 1);
                    }
                    false
                });
            }
            bodies.push(after_scheme);
            for body in bodies {
                if let Some(host) = self.xmpp_node_end(body)
                    && let Some(end) = self.first_domain_end(host)
                {
                    return Some(self.xmpp_tail(end));
                }
                if let Some(end) = self.first_domain_end(body) {
                    return Some(self.xmpp_tail(end));
                }
            }
            return None;
        }
        if let Some(scheme_len) = match_ignore_case(rest, "magnet:") {
            let query = start + scheme_len;
            return MAGNET_QUERY_RE.find(self.rest(query)).map(|m| query + m.end());
        }
        None
    }

    fn xmpp_node_end(&self, start: usize) -> Option<usize> {
        XMPP_NODE_RE.find(self.rest(start)).map(|m| start + m.end())
    }

    fn xmpp_tail(&self, domain_end: usize) -> usize {
        domain_end + XMPP_TAIL_RE.find(self.rest(domain_end)).map_or(0, |m| m.end())
    }

    /// Hashtags: `#` or `＃` at the start of a line or after whitespace.
    fn hashtags(&self) -> Vec<Entity> {
        let mut found = Vec::new();
        let mut pos = 0;
        for (i, c) in self.text.char_indices() {
            if i < pos || (c != '#' && c != '\u{FF03}') {
                continue;
            }
            if !(self.at_line_start(i) || self.char_before(i).is_some_and(char::is_whitespace)) {
                continue;
            }
            let name_start = i + c.len_utf8();
            let Some(m) = HASHTAG_NAME_RE.find(self.rest(name_start)) else { continue };
            let match_end = name_start + m.end();
            let mut name = m.as_str();
            // `#taghttps://…`: the scheme is not part of the tag.
            if self.rest(match_end).starts_with("://") {
                for scheme in ["https", "http"] {
                    if let Some(stripped) = name.strip_suffix(scheme)
                        && !stripped.is_empty()
                    {
                        name = stripped;
                        break;
                    }
                }
            }
            found.push(Entity { start: i, end: name_start + name.len(), kind: EntityKind::Hashtag(name.to_owned()) });
            pos = match_end;
        }
        found
    }

    /// All matches of the mention grammar: an `@` not preceded by `=`, `/`
    /// or a word character, a username and an optional `@domain`.
    fn mentions(&self) -> Vec<MentionMatch> {
        let mut found = Vec::new();
        let mut pos = 0;
        for (i, c) in self.text.char_indices() {
            if i < pos || c != '@' {
                continue;
            }
            if self.char_before(i).is_some_and(|p| p == '=' || p == '/' || is_word_char(p)) {
                continue;
            }
            let Some(m) = MENTION_BODY_RE.find(self.rest(i + 1)) else { continue };
            let end = i + 1 + m.end();
            let (username, domain) = match m.as_str().split_once('@') {
                Some((user, domain)) => (user.to_owned(), Some(domain.to_owned())),
                None => (m.as_str().to_owned(), None),
            };
            let after = self.rest(end);
            let blocked_after = after.starts_with(['@', '\u{FF20}'])
                || after.starts_with("://")
                || after.chars().next().is_some_and(is_latin_accent);
            let domain_too_long = domain.as_ref().is_some_and(|d| d.chars().count() > MAX_MENTION_DOMAIN_LENGTH);
            found.push(MentionMatch {
                start: i,
                end,
                screen_name: m.as_str().to_owned(),
                username,
                domain,
                linkable: !blocked_after && !domain_too_long,
            });
            pos = end;
        }
        found
    }
}

/// Sorts by start position and drops every entity that overlaps one kept
/// before it.
fn remove_overlapping(mut entities: Vec<Entity>) -> Vec<Entity> {
    entities.sort_by_key(|e| e.start);
    let mut kept: Vec<Entity> = Vec::with_capacity(entities.len());
    for entity in entities {
        if kept.last().is_some_and(|prev| prev.end > entity.start) {
            continue;
        }
        kept.push(entity);
    }
    kept
}

// ---------------------------------------------------------------------------
// IDNA (for the URL length check only)
// ---------------------------------------------------------------------------

/// Length of `domain` once converted to its ASCII (punycode) form, or None
/// when the conversion would fail. Approximates IDNA2003 ToASCII as used by
/// Mastodon: labels split on the IDNA dots, nameprep approximated as
/// lowercasing plus NFKC, a check for prohibited and (some) unassigned code
/// points, and the 63-octet label limit.
fn idna_ascii_len(domain: &str) -> Option<usize> {
    let mut total = 0;
    for (n, label) in domain.split(['.', '\u{3002}', '\u{FF0E}', '\u{FF61}']).enumerate() {
        if n > 0 {
            total += 1;
        }
        let len = if label.is_ascii() {
            label.len()
        } else {
            let mapped: String = label
                .chars()
                .filter(|&c| !idna_maps_to_nothing(c))
                .flat_map(char::to_lowercase)
                .collect::<String>()
                .nfkc()
                .collect();
            if mapped.chars().any(idna_prohibited) {
                return None;
            }
            if mapped.is_ascii() {
                mapped.len()
            } else {
                if mapped.starts_with("xn--") {
                    return None;
                }
                let chars: Vec<char> = mapped.chars().collect();
                4 + punycode_encode(&chars)?.len()
            }
        };
        if len == 0 || len > 63 {
            return None;
        }
        total += len;
    }
    Some(total)
}

fn idna_maps_to_nothing(c: char) -> bool {
    matches!(
        c,
        '\u{AD}' | '\u{34F}' | '\u{1806}' | '\u{180B}'..='\u{180D}' | '\u{200B}'..='\u{200D}' | '\u{2060}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
    )
}

fn idna_prohibited(c: char) -> bool {
    let cp = c as u32;
    matches!(
        cp,
        0x80..=0x9F
            | 0x340..=0x341
            | 0x6DD
            | 0x70F
            | 0x180E
            | 0x200E..=0x200F
            | 0x2028..=0x202E
            | 0x2060..=0x2063
            | 0x206A..=0x206F
            | 0x2FF0..=0x2FFB
            | 0xE000..=0xF8FF
            | 0xFDD0..=0xFDEF
            | 0xFFF9..=0xFFFD
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
            | 0xF0000..
    ) || cp & 0xFFFE == 0xFFFE
        || (cp >= 0x10000 && !assigned_in_unicode_3_2_astral(cp))
}

/// Supplementary-plane blocks that existed in Unicode 3.2 (IDNA2003 rejects
/// code points unassigned in that version, e.g. every emoji above U+1F000).
fn assigned_in_unicode_3_2_astral(cp: u32) -> bool {
    matches!(
        cp,
        0x10300..=0x1034A
            | 0x10400..=0x1044D
            | 0x1D000..=0x1D1DD
            | 0x1D400..=0x1D7FF
            | 0x20000..=0x2A6D6
            | 0x2F800..=0x2FA1D
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

const PUNY_BASE: u32 = 36;
const PUNY_TMIN: u32 = 1;
const PUNY_TMAX: u32 = 26;
const PUNY_SKEW: u32 = 38;
const PUNY_DAMP: u32 = 700;
const PUNY_INITIAL_BIAS: u32 = 72;
const PUNY_INITIAL_N: u32 = 128;

fn puny_adapt(delta: u32, points: u32, first: bool) -> u32 {
    let mut delta = if first { delta / PUNY_DAMP } else { delta / 2 };
    delta += delta / points.max(1);
    let mut k = 0;
    while delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2 {
        delta /= PUNY_BASE - PUNY_TMIN;
        k += PUNY_BASE;
    }
    k + ((PUNY_BASE - PUNY_TMIN + 1) * delta) / (delta + PUNY_SKEW)
}

fn puny_threshold(k: u32, bias: u32) -> u32 {
    if k <= bias {
        PUNY_TMIN
    } else if k >= bias + PUNY_TMAX {
        PUNY_TMAX
    } else {
        k - bias
    }
}

fn puny_digit(d: u32) -> char {
    // d < 36 by construction
    let byte = if d < 26 { b'a' + d as u8 } else { b'0' + (d as u8).saturating_sub(26) };
    char::from(byte)
}

/// RFC 3492 encoding (without the `xn--` prefix).
fn punycode_encode(input: &[char]) -> Option<String> {
    let mut output: String = input.iter().filter(|c| c.is_ascii()).collect();
    let basic = u32::try_from(output.len()).ok()?;
    let total = u32::try_from(input.len()).ok()?;
    if basic > 0 {
        output.push('-');
    }
    let mut handled = basic;
    let mut n = PUNY_INITIAL_N;
    let mut delta: u32 = 0;
    let mut bias = PUNY_INITIAL_BIAS;
    while handled < total {
        let m = input.iter().map(|&c| c as u32).filter(|&c| c >= n).min()?;
        delta = delta.checked_add((m - n).checked_mul(handled + 1)?)?;
        n = m;
        for &c in input {
            let c = c as u32;
            if c < n {
                delta = delta.checked_add(1)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = PUNY_BASE;
                loop {
                    let t = puny_threshold(k, bias);
                    if q < t {
                        break;
                    }
                    output.push(puny_digit(t + (q - t) % (PUNY_BASE - t)));
                    q = (q - t) / (PUNY_BASE - t);
                    k += PUNY_BASE;
                }
                output.push(puny_digit(q));
                bias = puny_adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta = delta.checked_add(1)?;
        n = n.checked_add(1)?;
    }
    Some(output)
}

/// RFC 3492 decoding (input without the `xn--` prefix).
fn punycode_decode(input: &str) -> Option<String> {
    let (basic, encoded) = match input.rfind('-') {
        Some(i) => (input.get(..i)?, input.get(i + 1..)?),
        None => ("", input),
    };
    if !basic.is_ascii() {
        return None;
    }
    let mut output: Vec<char> = basic.chars().collect();
    let mut n = PUNY_INITIAL_N;
    let mut i: u32 = 0;
    let mut bias = PUNY_INITIAL_BIAS;
    let mut bytes = encoded.bytes().peekable();
    while bytes.peek().is_some() {
        let old_i = i;
        let mut w: u32 = 1;
        let mut k = PUNY_BASE;
        loop {
            let digit = match bytes.next()? {
                b @ b'a'..=b'z' => u32::from(b - b'a'),
                b @ b'A'..=b'Z' => u32::from(b - b'A'),
                b @ b'0'..=b'9' => u32::from(b - b'0') + 26,
                _ => return None,
            };
            i = i.checked_add(digit.checked_mul(w)?)?;
            let t = puny_threshold(k, bias);
            if digit < t {
                break;
            }
            w = w.checked_mul(PUNY_BASE - t)?;
            k += PUNY_BASE;
        }
        let len = u32::try_from(output.len()).ok()? + 1;
        bias = puny_adapt(i - old_i, len, old_i == 0);
        n = n.checked_add(i / len)?;
        i %= len;
        output.insert(usize::try_from(i).ok()?, char::from_u32(n)?);
        i += 1;
    }
    Some(output.into_iter().collect())
}

/// `user@domain` with punycode labels of the domain shown in Unicode.
fn pretty_acct(acct: &str) -> String {
    let Some((user, domain)) = acct.split_once('@') else {
        return acct.to_owned();
    };
    let labels: Vec<String> = domain
        .split('.')
        .map(|label| {
            label
                .get(..4)
                .filter(|p| p.eq_ignore_ascii_case("xn--"))
                .and_then(|_| label.get(4..))
                .and_then(punycode_decode)
                .unwrap_or_else(|| label.to_owned())
        })
        .collect();
    format!("{user}@{}", labels.join("."))
}

// ---------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------

/// `text` with HTML's special characters escaped: the one escaper of every page, mail and
/// rendered status.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// Length of the scheme part hidden in the link text (`https://`,
/// `http://www.`, `xmpp:`); case-sensitive on purpose.
fn hidden_prefix_len(url: &str) -> usize {
    for scheme in ["https://", "http://"] {
        if url.starts_with(scheme) {
            let www = url.get(scheme.len()..).is_some_and(|r| r.starts_with("www."));
            return scheme.len() + if www { 4 } else { 0 };
        }
    }
    if url.starts_with("xmpp:") { 5 } else { 0 }
}

/// Link whose text shows at most 30 characters after the scheme; a single
/// leftover character is shown instead of being cut.
fn push_url_link(out: &mut String, url: &str) {
    let (prefix, rest) = url.split_at(hidden_prefix_len(url));
    let rest_chars = rest.chars().count();
    let cut = rest.char_indices().nth(DISPLAY_URL_CHARS).map_or(rest.len(), |(i, _)| i);
    let (mut shown, mut hidden) = rest.split_at(cut);
    let mut cutoff = rest_chars > DISPLAY_URL_CHARS;
    if hidden.chars().count() == 1 {
        shown = rest;
        hidden = "";
        cutoff = false;
    }
    out.push_str("<a href=\"");
    push_escaped(out, url);
    out.push_str("\" target=\"_blank\" rel=\"nofollow noopener\" translate=\"no\"><span class=\"invisible\">");
    push_escaped(out, prefix);
    out.push_str(if cutoff { "</span><span class=\"ellipsis\">" } else { "</span><span class=\"\">" });
    push_escaped(out, shown);
    out.push_str("</span><span class=\"invisible\">");
    push_escaped(out, hidden);
    out.push_str("</span></a>");
}

/// Percent-encodes a URL path segment (RFC 3986 unreserved, sub-delims,
/// `:` and `@` are kept), uppercase hex.
fn push_path_segment(out: &mut String, segment: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
}

fn push_hashtag_link(out: &mut String, base_url: &str, name: &str) {
    let mut href = String::from(base_url.trim_end_matches('/'));
    href.push_str("/tags/");
    push_path_segment(&mut href, name);
    out.push_str("<a href=\"");
    push_escaped(out, &href);
    out.push_str("\" class=\"mention hashtag\" rel=\"tag\">#<span>");
    push_escaped(out, name);
    out.push_str("</span></a>");
}

fn push_mention_link(out: &mut String, url: &str, shown: &str) {
    out.push_str("<span class=\"h-card\" translate=\"no\"><a href=\"");
    push_escaped(out, url);
    out.push_str("\" class=\"u-url mention\">@<span>");
    push_escaped(out, shown);
    out.push_str("</span></a></span>");
}

/// Paragraphs on blank lines, `<br />` after a line break between two
/// non-empty lines, every newline removed from the result.
fn paragraphs(html: &str) -> String {
    let normalized = html.replace("\r\n", "\n").replace('\r', "\n");
    let mut parts: Vec<&str> = PARAGRAPH_SPLIT_RE.split(&normalized).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    if parts.is_empty() {
        return "<p></p>".to_owned();
    }
    let mut out = String::with_capacity(normalized.len() + 16 * parts.len());
    for part in parts {
        out.push_str("<p>");
        let mut prev: Option<char> = None;
        let mut chars = part.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\n' {
                let between_lines = prev.is_some_and(|p| p != '\n') && chars.peek().is_some_and(|&n| n != '\n');
                if between_lines {
                    out.push_str("<br />");
                }
            } else {
                out.push(c);
            }
            prev = Some(c);
        }
        out.push_str("</p>");
    }
    out
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// Every mention Mastodon would try to resolve (and notify), in order of
/// appearance, duplicates included. This includes a few forms that are not
/// turned into links (e.g. `@user` directly followed by `@` or `://`).
pub fn extract_mentions(text: &str) -> Vec<MentionToken> {
    Scanner::new(text).mentions().into_iter().map(|m| MentionToken { username: m.username, domain: m.domain }).collect()
}

/// Hashtag names as written (a trailing `http`/`https` glued to a `://`
/// is not part of the name), in order, duplicates included.
pub fn extract_hashtags(text: &str) -> Vec<String> {
    Scanner::new(text)
        .hashtags()
        .into_iter()
        .filter_map(|e| match e.kind {
            EntityKind::Hashtag(name) => Some(name),
            _ => None,
        })
        .collect()
}

/// Canonical tag name: NFKC, lowercase, Latin diacritics folded to ASCII,
/// and anything but letters, digits, Thai tone marks and `_ · ・ ZWNJ` removed.
pub fn normalize_hashtag(name: &str) -> String {
    // Per-character lowercasing: Ruby's `downcase` has no final-sigma rule.
    let folded: String = name.nfkc().flat_map(char::to_lowercase).map(fold_latin).collect();
    HASHTAG_INVALID_RE.replace_all(&folded, "").into_owned()
}

/// Linkable mentions of `scanner` as entities.
fn mention_entities(scanner: &Scanner<'_>) -> Vec<Entity> {
    scanner
        .mentions()
        .into_iter()
        .filter(|m| m.linkable)
        .map(|m| Entity { start: m.start, end: m.end, kind: EntityKind::Mention(m.screen_name) })
        .collect()
}

/// Renders a local status' plain text to Mastodon's HTML.
///
/// `resolve` is called once per distinct mention (compared
/// case-insensitively) with the username and domain as written; the caller
/// maps its own domain to the local account. Returning None leaves the
/// mention as plain text.
///
/// Like Mastodon, every resolved mention is first rewritten to `@acct`
/// (`@Alice` becomes `@alice`, `@alice@this.server` becomes `@alice`), and
/// the rewritten text is what gets rendered. `acct` must therefore be the
/// account's canonical `user` / `user@domain`.
///
/// When two mentioned accounts share a username, both are shown with their
/// full `user@domain` as Mastodon does. Mastodon also does this when the
/// author shares a username with a mentioned remote account; the author is
/// not known here, so the caller should return `username: "user@domain"`
/// from `resolve` in that case.
pub fn format_plain(
    text: &str,
    base_url: &str,
    resolve: &dyn Fn(&MentionToken) -> Option<ResolvedMention>,
) -> Formatted {
    let original = ruby_strip(text);
    if is_blank(original) {
        return Formatted::default();
    }

    // Resolve every mention and rewrite the resolved ones to `@acct`.
    let first_pass = Scanner::new(original);
    let mut cache: HashMap<(String, Option<String>), Option<ResolvedMention>> = HashMap::new();
    let mut mentions: Vec<ResolvedMention> = Vec::new();
    let mut rewritten = String::with_capacity(original.len());
    let mut last = 0;
    for m in first_pass.mentions() {
        let key = (m.username.to_lowercase(), m.domain.as_ref().map(|d| d.to_lowercase()));
        let account = cache
            .entry(key)
            .or_insert_with(|| resolve(&MentionToken { username: m.username.clone(), domain: m.domain.clone() }));
        let Some(account) = account.as_ref() else { continue };
        rewritten.push_str(first_pass.slice(last, m.start));
        rewritten.push('@');
        rewritten.push_str(&account.acct);
        last = m.end;
        if !mentions.iter().any(|known| known.acct.to_lowercase() == account.acct.to_lowercase()) {
            mentions.push(account.clone());
        }
    }
    rewritten.push_str(first_pass.rest(last));

    let scanner = Scanner::new(&rewritten);
    let mut entities = scanner.urls();
    entities.extend(scanner.hashtags());
    entities.extend(mention_entities(&scanner));
    entities.extend(scanner.extra_uris());

    let mut html = String::with_capacity(rewritten.len() * 2);
    let mut last = 0;
    for entity in remove_overlapping(entities) {
        push_escaped(&mut html, scanner.slice(last, entity.start));
        match &entity.kind {
            EntityKind::Url(url) => push_url_link(&mut html, url),
            EntityKind::Hashtag(name) => push_hashtag_link(&mut html, base_url, name),
            EntityKind::Mention(screen_name) => {
                let wanted = screen_name.to_lowercase();
                match mentions.iter().find(|m| m.acct.to_lowercase() == wanted) {
                    Some(account) => {
                        let username = account.username.to_lowercase();
                        let clash = mentions.iter().any(|other| {
                            other.username.to_lowercase() == username && other.acct.to_lowercase() != wanted
                        });
                        let shown = if clash { pretty_acct(&account.acct) } else { account.username.clone() };
                        push_mention_link(&mut html, &account.url, &shown);
                    }
                    None => push_escaped(&mut html, scanner.slice(entity.start, entity.end)),
                }
            }
        }
        last = entity.end;
    }
    push_escaped(&mut html, scanner.rest(last));

    let mut tags: Vec<String> = Vec::new();
    for name in extract_hashtags(&rewritten) {
        let normalized = normalize_hashtag(&name);
        if !normalized.is_empty() && !tags.contains(&normalized) {
            tags.push(normalized);
        }
    }

    Formatted { html: paragraphs(&html), tags, mentions }
}

/// Length of a local status as counted against the character limit:
/// extended grapheme clusters of the content warning followed by the text,
/// where each linkable URL counts as 23 and `@user@domain` as `@user`.
pub fn status_length(text: &str, spoiler_text: &str) -> usize {
    let text = ruby_strip(text);
    let mut combined = String::from(ruby_strip(spoiler_text));
    if !is_blank(text) {
        let scanner = Scanner::new(text);
        let mut entities = scanner.urls();
        entities.extend(mention_entities(&scanner));
        let mut last = 0;
        for entity in remove_overlapping(entities) {
            combined.push_str(scanner.slice(last, entity.start));
            match &entity.kind {
                EntityKind::Mention(screen_name) => {
                    combined.push('@');
                    combined.push_str(screen_name.split('@').next().unwrap_or_default());
                }
                _ => combined.extend(std::iter::repeat_n('x', URL_PLACEHOLDER_LEN)),
            }
            last = entity.end;
        }
        combined.push_str(scanner.rest(last));
    }
    combined.graphemes(true).count()
}

// ---------------------------------------------------------------------------
// Data tables
// ---------------------------------------------------------------------------

/// Latin letters with diacritics that hashtag normalization folds to ASCII
/// (only these; e.g. `æ`, `ß`, `þ` are kept).
fn fold_latin(c: char) -> char {
    const FOLDS: &[(char, &str)] = &[
        ('A', "ÀÁÂÃÄÅĀĂĄ"),
        ('C', "ÇĆĈĊČ"),
        ('D', "ÐĎĐ"),
        ('E', "ÈÉÊËĒĔĖĘĚ"),
        ('G', "ĜĞĠĢ"),
        ('H', "ĤĦ"),
        ('I', "ÌÍÎÏĨĪĬĮİ"),
        ('J', "Ĵ"),
        ('K', "Ķ"),
        ('L', "ĹĻĽĿŁ"),
        ('N', "ÑŃŅŇŊ"),
        ('O', "ÒÓÔÕÖØŌŎŐ"),
        ('R', "ŔŖŘ"),
        ('S', "ŚŜŞŠ"),
        ('T', "ŢŤŦ"),
        ('U', "ÙÚÛÜŨŪŬŮŰŲ"),
        ('W', "Ŵ"),
        ('Y', "ÝŶŸ"),
        ('Z', "ŹŻŽ"),
        ('a', "àáâãäåāăą"),
        ('c', "çćĉċč"),
        ('d', "ðďđ"),
        ('e', "èéêëēĕėęě"),
        ('g', "ĝğġģ"),
        ('h', "ĥħ"),
        ('i', "ìíîïĩīĭįı"),
        ('j', "ĵ"),
        ('k', "ķĸ"),
        ('l', "ĺļľŀł"),
        ('n', "ñńņňŉŋ"),
        ('o', "òóôõöøōŏő"),
        ('r', "ŕŗř"),
        ('s', "śŝşšſ"),
        ('t', "ţťŧ"),
        ('u', "ùúûüũūŭůűų"),
        ('w', "ŵ"),
        ('y', "ýÿŷ"),
        ('z', "źżž"),
    ];
    if c.is_ascii() {
        return c;
    }
    FOLDS.iter().find(|(_, from)| from.contains(c)).map_or(c, |&(to, _)| to)
}

// Known top-level domains, in twitter-text 3.1.0's order (the order decides
// which of several matching entries wins).
#[rustfmt::skip]
const GENERIC_TLDS: &[&str] = &[
    "삼성", "닷컴", "닷넷", "香格里拉", "餐厅", "食品", "飞利浦", "電訊盈科", "集团", "通販", "购物", "谷歌", "诺基亚", "联通",
    "网络", "网站", "网店", "网址", "组织机构", "移动", "珠宝", "点看", "游戏", "淡马锡", "机构", "書籍", "时尚", "新闻", "政府",
    "政务", "招聘", "手表", "手机", "我爱你", "慈善", "微博", "广东", "工行", "家電", "娱乐", "天主教", "大拿", "大众汽车",
    "在线", "嘉里大酒店", "嘉里", "商标", "商店", "商城", "公益", "公司", "八卦", "健康", "信息", "佛山", "企业", "中文网",
    "中信", "世界", "ポイント", "ファッション", "セール", "ストア", "コム", "グーグル", "クラウド", "みんな", "คอม", "संगठन",
    "नेट", "कॉम", "همراه", "موقع", "موبايلي", "كوم", "كاثوليك", "عرب", "شبكة", "بيتك", "بازار",
    "العليان", "ارامكو", "اتصالات", "ابوظبي", "קום", "сайт", "рус", "орг", "онлайн", "москва",
    "ком", "католик", "дети", "zuerich", "zone", "zippo", "zip", "zero", "zara", "zappos",
    "yun", "youtube", "you", "yokohama", "yoga", "yodobashi", "yandex", "yamaxun", "yahoo",
    "yachts", "xyz", "xxx", "xperia", "xin", "xihuan", "xfinity", "xerox", "xbox", "wtf", "wtc",
    "wow", "world", "works", "work", "woodside", "wolterskluwer", "wme", "winners", "wine",
    "windows", "win", "williamhill", "wiki", "wien", "whoswho", "weir", "weibo", "wedding",
    "wed", "website", "weber", "webcam", "weatherchannel", "weather", "watches", "watch",
    "warman", "wanggou", "wang", "walter", "walmart", "wales", "vuelos", "voyage", "voto",
    "voting", "vote", "volvo", "volkswagen", "vodka", "vlaanderen", "vivo", "viva",
    "vistaprint", "vista", "vision", "visa", "virgin", "vip", "vin", "villas", "viking", "vig",
    "video", "viajes", "vet", "versicherung", "vermögensberatung", "vermögensberater",
    "verisign", "ventures", "vegas", "vanguard", "vana", "vacations", "ups", "uol", "uno",
    "university", "unicom", "uconnect", "ubs", "ubank", "tvs", "tushu", "tunes", "tui", "tube",
    "trv", "trust", "travelersinsurance", "travelers", "travelchannel", "travel", "training",
    "trading", "trade", "toys", "toyota", "town", "tours", "total", "toshiba", "toray", "top",
    "tools", "tokyo", "today", "tmall", "tkmaxx", "tjx", "tjmaxx", "tirol", "tires", "tips",
    "tiffany", "tienda", "tickets", "tiaa", "theatre", "theater", "thd", "teva", "tennis",
    "temasek", "telefonica", "telecity", "tel", "technology", "tech", "team", "tdk", "tci",
    "taxi", "tax", "tattoo", "tatar", "tatamotors", "target", "taobao", "talk", "taipei", "tab",
    "systems", "symantec", "sydney", "swiss", "swiftcover", "swatch", "suzuki", "surgery",
    "surf", "support", "supply", "supplies", "sucks", "style", "study", "studio", "stream",
    "store", "storage", "stockholm", "stcgroup", "stc", "statoil", "statefarm", "statebank",
    "starhub", "star", "staples", "stada", "srt", "srl", "spreadbetting", "spot", "sport",
    "spiegel", "space", "soy", "sony", "song", "solutions", "solar", "sohu", "software",
    "softbank", "social", "soccer", "sncf", "smile", "smart", "sling", "skype", "sky", "skin",
    "ski", "site", "singles", "sina", "silk", "shriram", "showtime", "show", "shouji",
    "shopping", "shop", "shoes", "shiksha", "shia", "shell", "shaw", "sharp", "shangrila",
    "sfr", "sexy", "sex", "sew", "seven", "ses", "services", "sener", "select", "seek",
    "security", "secure", "seat", "search", "scot", "scor", "scjohnson", "science", "schwarz",
    "schule", "school", "scholarships", "schmidt", "schaeffler", "scb", "sca", "sbs", "sbi",
    "saxo", "save", "sas", "sarl", "sapo", "sap", "sanofi", "sandvikcoromant", "sandvik",
    "samsung", "samsclub", "salon", "sale", "sakura", "safety", "safe", "saarland", "ryukyu",
    "rwe", "run", "ruhr", "rugby", "rsvp", "room", "rogers", "rodeo", "rocks", "rocher", "rmit",
    "rip", "rio", "ril", "rightathome", "ricoh", "richardli", "rich", "rexroth", "reviews",
    "review", "restaurant", "rest", "republican", "report", "repair", "rentals", "rent", "ren",
    "reliance", "reit", "reisen", "reise", "rehab", "redumbrella", "redstone", "red", "recipes",
    "realty", "realtor", "realestate", "read", "raid", "radio", "racing", "qvc", "quest",
    "quebec", "qpon", "pwc", "pub", "prudential", "pru", "protection", "property", "properties",
    "promo", "progressive", "prof", "productions", "prod", "pro", "prime", "press", "praxi",
    "pramerica", "post", "porn", "politie", "poker", "pohl", "pnc", "plus", "plumbing",
    "playstation", "play", "place", "pizza", "pioneer", "pink", "ping", "pin", "pid",
    "pictures", "pictet", "pics", "piaget", "physio", "photos", "photography", "photo", "phone",
    "philips", "phd", "pharmacy", "pfizer", "pet", "pccw", "pay", "passagens", "party", "parts",
    "partners", "pars", "paris", "panerai", "panasonic", "pamperedchef", "page", "ovh", "ott",
    "otsuka", "osaka", "origins", "orientexpress", "organic", "org", "orange", "oracle", "open",
    "ooo", "onyourside", "online", "onl", "ong", "one", "omega", "ollo", "oldnavy",
    "olayangroup", "olayan", "okinawa", "office", "off", "observer", "obi", "nyc", "ntt", "nrw",
    "nra", "nowtv", "nowruz", "now", "norton", "northwesternmutual", "nokia", "nissay",
    "nissan", "ninja", "nikon", "nike", "nico", "nhk", "ngo", "nfl", "nexus", "nextdirect",
    "next", "news", "newholland", "new", "neustar", "network", "netflix", "netbank", "net",
    "nec", "nba", "navy", "natura", "nationwide", "name", "nagoya", "nadex", "nab", "mutuelle",
    "mutual", "museum", "mtr", "mtpc", "mtn", "msd", "movistar", "movie", "mov", "motorcycles",
    "moto", "moscow", "mortgage", "mormon", "mopar", "montblanc", "monster", "money", "monash",
    "mom", "moi", "moe", "moda", "mobily", "mobile", "mobi", "mma", "mls", "mlb", "mitsubishi",
    "mit", "mint", "mini", "mil", "microsoft", "miami", "metlife", "merckmsd", "meo", "menu",
    "men", "memorial", "meme", "melbourne", "meet", "media", "med", "mckinsey", "mcdonalds",
    "mcd", "mba", "mattel", "maserati", "marshalls", "marriott", "markets", "marketing",
    "market", "map", "mango", "management", "man", "makeup", "maison", "maif", "madrid",
    "macys", "luxury", "luxe", "lupin", "lundbeck", "ltda", "ltd", "lplfinancial", "lpl",
    "love", "lotto", "lotte", "london", "lol", "loft", "locus", "locker", "loans", "loan",
    "llp", "llc", "lixil", "living", "live", "lipsy", "link", "linde", "lincoln", "limo",
    "limited", "lilly", "like", "lighting", "lifestyle", "lifeinsurance", "life", "lidl",
    "liaison", "lgbt", "lexus", "lego", "legal", "lefrak", "leclerc", "lease", "lds", "lawyer",
    "law", "latrobe", "latino", "lat", "lasalle", "lanxess", "landrover", "land", "lancome",
    "lancia", "lancaster", "lamer", "lamborghini", "ladbrokes", "lacaixa", "kyoto", "kuokgroup",
    "kred", "krd", "kpn", "kpmg", "kosher", "komatsu", "koeln", "kiwi", "kitchen", "kindle",
    "kinder", "kim", "kia", "kfh", "kerryproperties", "kerrylogistics", "kerryhotels", "kddi",
    "kaufen", "juniper", "juegos", "jprs", "jpmorgan", "joy", "jot", "joburg", "jobs", "jnj",
    "jmp", "jll", "jlc", "jio", "jewelry", "jetzt", "jeep", "jcp", "jcb", "java", "jaguar",
    "iwc", "iveco", "itv", "itau", "istanbul", "ist", "ismaili", "iselect", "irish", "ipiranga",
    "investments", "intuit", "international", "intel", "int", "insure", "insurance",
    "institute", "ink", "ing", "info", "infiniti", "industries", "inc", "immobilien", "immo",
    "imdb", "imamat", "ikano", "iinet", "ifm", "ieee", "icu", "ice", "icbc", "ibm", "hyundai",
    "hyatt", "hughes", "htc", "hsbc", "how", "house", "hotmail", "hotels", "hoteles", "hot",
    "hosting", "host", "hospital", "horse", "honeywell", "honda", "homesense", "homes",
    "homegoods", "homedepot", "holiday", "holdings", "hockey", "hkt", "hiv", "hitachi",
    "hisamitsu", "hiphop", "hgtv", "hermes", "here", "helsinki", "help", "healthcare", "health",
    "hdfcbank", "hdfc", "hbo", "haus", "hangout", "hamburg", "hair", "guru", "guitars", "guide",
    "guge", "gucci", "guardian", "group", "grocery", "gripe", "green", "gratis", "graphics",
    "grainger", "gov", "got", "gop", "google", "goog", "goodyear", "goodhands", "goo", "golf",
    "goldpoint", "gold", "godaddy", "gmx", "gmo", "gmbh", "gmail", "globo", "global", "gle",
    "glass", "glade", "giving", "gives", "gifts", "gift", "ggee", "george", "genting", "gent",
    "gea", "gdn", "gbiz", "gay", "garden", "gap", "games", "game", "gallup", "gallo", "gallery",
    "gal", "fyi", "futbol", "furniture", "fund", "fun", "fujixerox", "fujitsu", "ftr",
    "frontier", "frontdoor", "frogans", "frl", "fresenius", "free", "fox", "foundation",
    "forum", "forsale", "forex", "ford", "football", "foodnetwork", "food", "foo", "fly",
    "flsmidth", "flowers", "florist", "flir", "flights", "flickr", "fitness", "fit", "fishing",
    "fish", "firmdale", "firestone", "fire", "financial", "finance", "final", "film", "fido",
    "fidelity", "fiat", "ferrero", "ferrari", "feedback", "fedex", "fast", "fashion", "farmers",
    "farm", "fans", "fan", "family", "faith", "fairwinds", "fail", "fage", "extraspace",
    "express", "exposed", "expert", "exchange", "everbank", "events", "eus", "eurovision",
    "etisalat", "esurance", "estate", "esq", "erni", "ericsson", "equipment", "epson", "epost",
    "enterprises", "engineering", "engineer", "energy", "emerck", "email", "education", "edu",
    "edeka", "eco", "eat", "earth", "dvr", "dvag", "durban", "dupont", "duns", "dunlop", "duck",
    "dubai", "dtv", "drive", "download", "dot", "doosan", "domains", "doha", "dog", "dodge",
    "doctor", "docs", "dnp", "diy", "dish", "discover", "discount", "directory", "direct",
    "digital", "diet", "diamonds", "dhl", "dev", "design", "desi", "dentist", "dental",
    "democrat", "delta", "deloitte", "dell", "delivery", "degree", "deals", "dealer", "deal",
    "dds", "dclk", "day", "datsun", "dating", "date", "data", "dance", "dad", "dabur", "cyou",
    "cymru", "cuisinella", "csc", "cruises", "cruise", "crs", "crown", "cricket", "creditunion",
    "creditcard", "credit", "cpa", "courses", "coupons", "coupon", "country", "corsica", "coop",
    "cool", "cookingchannel", "cooking", "contractors", "contact", "consulting", "construction",
    "condos", "comsec", "computer", "compare", "company", "community", "commbank", "comcast",
    "com", "cologne", "college", "coffee", "codes", "coach", "clubmed", "club", "cloud",
    "clothing", "clinique", "clinic", "click", "cleaning", "claims", "cityeats", "city",
    "citic", "citi", "citadel", "cisco", "circle", "cipriani", "church", "chrysler", "chrome",
    "christmas", "chloe", "chintai", "cheap", "chat", "chase", "charity", "channel", "chanel",
    "cfd", "cfa", "cern", "ceo", "center", "ceb", "cbs", "cbre", "cbn", "cba", "catholic",
    "catering", "cat", "casino", "cash", "caseih", "case", "casa", "cartier", "cars", "careers",
    "career", "care", "cards", "caravan", "car", "capitalone", "capital", "capetown", "canon",
    "cancerresearch", "camp", "camera", "cam", "calvinklein", "call", "cal", "cafe", "cab",
    "bzh", "buzz", "buy", "business", "builders", "build", "bugatti", "budapest", "brussels",
    "brother", "broker", "broadway", "bridgestone", "bradesco", "box", "boutique", "bot",
    "boston", "bostik", "bosch", "boots", "booking", "book", "boo", "bond", "bom", "bofa",
    "boehringer", "boats", "bnpparibas", "bnl", "bmw", "bms", "blue", "bloomberg", "blog",
    "blockbuster", "blanco", "blackfriday", "black", "biz", "bio", "bingo", "bing", "bike",
    "bid", "bible", "bharti", "bet", "bestbuy", "best", "berlin", "bentley", "beer", "beauty",
    "beats", "bcn", "bcg", "bbva", "bbt", "bbc", "bayern", "bauhaus", "basketball", "baseball",
    "bargains", "barefoot", "barclays", "barclaycard", "barcelona", "bar", "bank", "band",
    "bananarepublic", "banamex", "baidu", "baby", "azure", "axa", "aws", "avianca", "autos",
    "auto", "author", "auspost", "audio", "audible", "audi", "auction", "attorney", "athleta",
    "associates", "asia", "asda", "arte", "art", "arpa", "army", "archi", "aramco", "arab",
    "aquarelle", "apple", "app", "apartments", "aol", "anz", "anquan", "android", "analytics",
    "amsterdam", "amica", "amfam", "amex", "americanfamily", "americanexpress", "alstom",
    "alsace", "ally", "allstate", "allfinanz", "alipay", "alibaba", "alfaromeo", "akdn",
    "airtel", "airforce", "airbus", "aigo", "aig", "agency", "agakhan", "africa", "afl",
    "afamilycompany", "aetna", "aero", "aeg", "adult", "ads", "adac", "actor", "active", "aco",
    "accountants", "accountant", "accenture", "academy", "abudhabi", "abogado", "able", "abc",
    "abbvie", "abbott", "abb", "abarth", "aarp", "aaa", "onion",
];

#[rustfmt::skip]
const COUNTRY_TLDS: &[&str] = &[
    "한국", "香港", "澳門", "新加坡", "台灣", "台湾", "中國", "中国", "გე", "ລາວ", "ไทย", "ලංකා", "ഭാരതം",
    "ಭಾರತ", "భారత్", "சிங்கப்பூர்", "இலங்கை", "இந்தியா", "ଭାରତ", "ભારત", "ਭਾਰਤ", "ভাৰত", "ভারত",
    "বাংলা", "भारोत", "भारतम्", "भारत", "ڀارت", "پاکستان", "موريتانيا", "مليسيا", "مصر", "قطر",
    "فلسطين", "عمان", "عراق", "سورية", "سودان", "تونس", "بھارت", "بارت", "ایران", "امارات",
    "المغرب", "السعودية", "الجزائر", "البحرين", "الاردن", "հայ", "қаз", "укр", "срб", "рф",
    "мон", "мкд", "ею", "бел", "бг", "ευ", "ελ", "zw", "zm", "za", "yt", "ye", "ws", "wf", "vu",
    "vn", "vi", "vg", "ve", "vc", "va", "uz", "uy", "us", "um", "uk", "ug", "ua", "tz", "tw",
    "tv", "tt", "tr", "tp", "to", "tn", "tm", "tl", "tk", "tj", "th", "tg", "tf", "td", "tc",
    "sz", "sy", "sx", "sv", "su", "st", "ss", "sr", "so", "sn", "sm", "sl", "sk", "sj", "si",
    "sh", "sg", "se", "sd", "sc", "sb", "sa", "rw", "ru", "rs", "ro", "re", "qa", "py", "pw",
    "pt", "ps", "pr", "pn", "pm", "pl", "pk", "ph", "pg", "pf", "pe", "pa", "om", "nz", "nu",
    "nr", "np", "no", "nl", "ni", "ng", "nf", "ne", "nc", "na", "mz", "my", "mx", "mw", "mv",
    "mu", "mt", "ms", "mr", "mq", "mp", "mo", "mn", "mm", "ml", "mk", "mh", "mg", "mf", "me",
    "md", "mc", "ma", "ly", "lv", "lu", "lt", "ls", "lr", "lk", "li", "lc", "lb", "la", "kz",
    "ky", "kw", "kr", "kp", "kn", "km", "ki", "kh", "kg", "ke", "jp", "jo", "jm", "je", "it",
    "is", "ir", "iq", "io", "in", "im", "il", "ie", "id", "hu", "ht", "hr", "hn", "hm", "hk",
    "gy", "gw", "gu", "gt", "gs", "gr", "gq", "gp", "gn", "gm", "gl", "gi", "gh", "gg", "gf",
    "ge", "gd", "gb", "ga", "fr", "fo", "fm", "fk", "fj", "fi", "eu", "et", "es", "er", "eh",
    "eg", "ee", "ec", "dz", "do", "dm", "dk", "dj", "de", "cz", "cy", "cx", "cw", "cv", "cu",
    "cr", "co", "cn", "cm", "cl", "ck", "ci", "ch", "cg", "cf", "cd", "cc", "ca", "bz", "by",
    "bw", "bv", "bt", "bs", "br", "bq", "bo", "bn", "bm", "bl", "bj", "bi", "bh", "bg", "bf",
    "be", "bd", "bb", "ba", "az", "ax", "aw", "au", "at", "as", "ar", "aq", "ao", "an", "am",
    "al", "ai", "ag", "af", "ae", "ad", "ac",
];

/// The words of HTML (a remote status's content): tags dropped, entities read.
pub fn plain_text(html: &str) -> String {
    let stripped = ammonia::Builder::empty().clean(html).to_string();
    stripped.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"")
}

/// Markdown an admin wrote (the about page, the privacy policy) as HTML, as Mastodon renders
/// it with Redcarpet. `untrusted_html`: raw HTML shows as text and images as their
/// description (Redcarpet's `escape_html` and `no_images`).
pub fn markdown_html(source: &str, untrusted_html: bool) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let events = Parser::new(source).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) if untrusted_html => Some(Event::Text(raw)),
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) if untrusted_html => None,
        other => Some(other),
    });
    let mut html = String::with_capacity(source.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_from_admins_escapes_html_when_untrusted() {
        assert_eq!(markdown_html("# Rules\n\nBe *kind*.", true), "<h1>Rules</h1>\n<p>Be <em>kind</em>.</p>\n");
        assert_eq!(markdown_html("<b>x</b> ![cat](c.png)", true), "<p>&lt;b&gt;x&lt;/b&gt; cat</p>\n");
        assert_eq!(markdown_html("<b>x</b>", false), "<p><b>x</b></p>\n");
    }

    const BASE: &str = "https://ferro.example";

    fn account(url: &str, username: &str, acct: &str) -> Option<ResolvedMention> {
        Some(ResolvedMention { url: url.to_owned(), username: username.to_owned(), acct: acct.to_owned() })
    }

    fn resolver(token: &MentionToken) -> Option<ResolvedMention> {
        let user = token.username.to_lowercase();
        let domain = token.domain.as_deref().map(str::to_lowercase);
        match (user.as_str(), domain.as_deref()) {
            ("alice", None | Some("ferro.example")) => account("https://ferro.example/@alice", "alice", "alice"),
            ("alice", Some("example.com")) => account("https://example.com/@alice", "alice", "alice@example.com"),
            ("bob", Some("example.com")) => account("https://example.com/users/bob", "bob", "bob@example.com"),
            ("weird", None) => account("https://ferro.example/@weird?a=1&b=\"2\"", "we<ird>", "weird"),
            _ => None,
        }
    }

    fn format(text: &str) -> Formatted {
        format_plain(text, BASE, &resolver)
    }

    fn html(text: &str) -> String {
        format(text).html
    }

    fn link(href: &str, prefix: &str, shown: &str, ellipsis: bool, hidden: &str) -> String {
        let class = if ellipsis { "ellipsis" } else { "" };
        format!(
            "<a href=\"{href}\" target=\"_blank\" rel=\"nofollow noopener\" translate=\"no\"><span class=\"invisible\">{prefix}</span><span class=\"{class}\">{shown}</span><span class=\"invisible\">{hidden}</span></a>"
        )
    }

    fn tag_link(path: &str, name: &str) -> String {
        format!("<a href=\"{BASE}/tags/{path}\" class=\"mention hashtag\" rel=\"tag\">#<span>{name}</span></a>")
    }

    fn mention_link(url: &str, shown: &str) -> String {
        format!(
            "<span class=\"h-card\" translate=\"no\"><a href=\"{url}\" class=\"u-url mention\">@<span>{shown}</span></a></span>"
        )
    }

    fn hrefs(text: &str) -> Vec<String> {
        let out = html(text);
        out.split("<a href=\"").skip(1).filter_map(|s| s.split_once('"').map(|(h, _)| h.to_owned())).collect()
    }

    // --- paragraphs and escaping -------------------------------------------

    #[test]
    fn blank_text_renders_nothing() {
        assert_eq!(format(""), Formatted::default());
        assert_eq!(html(" \n\t \u{3000}"), "");
    }

    #[test]
    fn plain_text_is_one_paragraph() {
        assert_eq!(html("text"), "<p>text</p>");
    }

    #[test]
    fn single_newlines_become_breaks() {
        assert_eq!(html("line\nfeed"), "<p>line<br />feed</p>");
        assert_eq!(html("a\nb\nc"), "<p>a<br />b<br />c</p>");
    }

    #[test]
    fn blank_lines_split_paragraphs() {
        assert_eq!(html("one\n\ntwo\nthree"), "<p>one</p><p>two<br />three</p>");
        assert_eq!(html("a\n\n\n\nb"), "<p>a</p><p>b</p>");
        assert_eq!(html("a\n \nb"), "<p>a<br /> <br />b</p>");
    }

    #[test]
    fn carriage_returns_are_line_breaks() {
        assert_eq!(html("a\r\n\r\nb\r\nc\rd"), "<p>a</p><p>b<br />c<br />d</p>");
    }

    #[test]
    fn surrounding_whitespace_is_stripped() {
        assert_eq!(html("\n\n  hi  \n\n"), "<p>hi</p>");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            html("<script>alert(\"Hello\")</script>"),
            "<p>&lt;script&gt;alert(&quot;Hello&quot;)&lt;/script&gt;</p>"
        );
        assert_eq!(html("Tom & Jerry's <b>"), "<p>Tom &amp; Jerry&#39;s &lt;b&gt;</p>");
        assert_eq!(
            html("<img src=\"javascript:alert('XSS');\">"),
            "<p>&lt;img src=&quot;javascript:alert(&#39;XSS&#39;);&quot;&gt;</p>"
        );
        assert_eq!(html("&amp;"), "<p>&amp;amp;</p>");
    }

    // --- URLs ----------------------------------------------------------------

    #[test]
    fn long_url_is_truncated() {
        assert_eq!(
            html("lorem https://prepitaph.org/wip/web-dovespair/ ipsum"),
            format!(
                "<p>lorem {} ipsum</p>",
                link(
                    "https://prepitaph.org/wip/web-dovespair/",
                    "https://",
                    "prepitaph.org/wip/web-dovespai",
                    true,
                    "r/"
                )
            )
        );
    }

    #[test]
    fn one_character_over_is_shown_whole() {
        assert_eq!(
            html("lorem https://prepitaph.org/wip/web-devspair/ ipsum"),
            format!(
                "<p>lorem {} ipsum</p>",
                link(
                    "https://prepitaph.org/wip/web-devspair/",
                    "https://",
                    "prepitaph.org/wip/web-devspair/",
                    false,
                    ""
                )
            )
        );
    }

    #[test]
    fn exactly_thirty_characters_is_not_cut() {
        let rest = format!("example.com/{}", "a".repeat(18));
        assert_eq!(rest.chars().count(), 30);
        let url = format!("https://{rest}");
        assert_eq!(html(&url), format!("<p>{}</p>", link(&url, "https://", &rest, false, "")));
    }

    #[test]
    fn very_long_url_keeps_the_tail_hidden() {
        let url = format!("https://example.com/{}", "x".repeat(100));
        let out = html(&url);
        assert!(out.contains(&format!("<span class=\"ellipsis\">example.com/{}</span>", "x".repeat(18))));
        assert!(out.contains(&format!("<span class=\"invisible\">{}</span></a>", "x".repeat(82))));
    }

    #[test]
    fn www_is_hidden_with_the_scheme() {
        assert_eq!(
            html("https://www.example.com/"),
            format!("<p>{}</p>", link("https://www.example.com/", "https://www.", "example.com/", false, ""))
        );
        assert_eq!(hrefs("http://www.google.com!"), vec!["http://www.google.com"]);
    }

    #[test]
    fn trailing_punctuation_is_not_part_of_the_url() {
        assert_eq!(
            html("See https://example.com/foo."),
            format!("<p>See {}.</p>", link("https://example.com/foo", "https://", "example.com/foo", false, ""))
        );
        assert_eq!(
            html("(see https://example.com/path)."),
            format!("<p>(see {}).</p>", link("https://example.com/path", "https://", "example.com/path", false, ""))
        );
        assert_eq!(hrefs("(http://google.com/)"), vec!["http://google.com/"]);
        assert_eq!(hrefs("https://example.com."), vec!["https://example.com"]);
        assert_eq!(hrefs("\"https://example.com/\""), vec!["https://example.com/"]);
        assert_eq!(hrefs("<https://example.com/>"), vec!["https://example.com/"]);
        assert_eq!(hrefs("http://www.google.com'"), vec!["http://www.google.com"]);
        assert_eq!(
            hrefs("http://www.mcmansionhell.com/post/156408871451/50-states-of-mcmansion-hell-scottsdale-arizona. "),
            vec!["http://www.mcmansionhell.com/post/156408871451/50-states-of-mcmansion-hell-scottsdale-arizona"]
        );
    }

    #[test]
    fn balanced_parentheses_stay_in_the_url() {
        assert_eq!(
            hrefs("https://en.wikipedia.org/wiki/Diaspora_(software)"),
            vec!["https://en.wikipedia.org/wiki/Diaspora_(software)"]
        );
    }

    #[test]
    fn query_strings_are_escaped_in_attributes() {
        assert_eq!(
            hrefs("https://www.ruby-toolbox.com/search?utf8=%E2%9C%93&q=autolink"),
            vec!["https://www.ruby-toolbox.com/search?utf8=%E2%9C%93&amp;q=autolink"]
        );
        assert_eq!(
            hrefs("https://www.ruby-toolbox.com/search?utf8=✓&utf81=✓&q=autolink"),
            vec!["https://www.ruby-toolbox.com/search?utf8=✓&amp;utf81=✓&amp;q=autolink"]
        );
    }

    #[test]
    fn markup_after_a_url_is_escaped_text() {
        let out = html("http://example.com/b<del>b</del>");
        assert!(out.contains("\"http://example.com/b\""));
        assert!(out.contains("&lt;del&gt;b&lt;/del&gt;"));
        let out = html("http://example.com/blahblahblahblah/a<script>alert(\"Hello\")</script>");
        assert!(out.contains("\"http://example.com/blahblahblahblah/a\""));
        assert!(out.contains("&lt;script&gt;alert(&quot;Hello&quot;)&lt;/script&gt;"));
    }

    #[test]
    fn unicode_paths_and_idn_hosts() {
        assert_eq!(hrefs("https://ja.wikipedia.org/wiki/日本"), vec!["https://ja.wikipedia.org/wiki/日本"]);
        assert_eq!(hrefs("https://ko.wikipedia.org/wiki/대한민국"), vec!["https://ko.wikipedia.org/wiki/대한민국"]);
        let out = html("https://nic.みんな/");
        assert!(out.contains("href=\"https://nic.みんな/\""));
        assert!(out.contains("<span class=\"\">nic.みんな/</span>"));
        assert_eq!(hrefs("https://example.com/\u{3000}abc123"), vec!["https://example.com/"]);
        assert_eq!(hrefs("「[https://example.org/」"), vec!["https://example.org/"]);
        assert_eq!(hrefs("https://gta.fandom.com/wiki/TW@ Content"), vec!["https://gta.fandom.com/wiki/TW@"]);
    }

    #[test]
    fn only_known_schemes_and_tlds_are_linked() {
        for text in [
            "javascript:alert(1)",
            "ftp://example.com/file",
            "mailto:me@example.com",
            "https://foo.notarealtld/",
            "http://localhost:3000",
            "example.com",
            "www.example.com/page",
            "http://www\\.google\\.com",
            "xhttps://example.com",
            "#https://example.com",
        ] {
            assert!(!html(text).contains("target=\"_blank\""), "{text} should not link a URL");
        }
        assert_eq!(html("#https://example.com"), format!("<p>{}://example.com</p>", tag_link("https", "https")));
        assert_eq!(html("http://www\\.google\\.com"), "<p>http://www\\.google\\.com</p>");
    }

    #[test]
    fn new_tlds_and_other_schemes() {
        assert_eq!(hrefs("http://example.gay"), vec!["http://example.gay"]);
        assert_eq!(hrefs("http://google.com"), vec!["http://google.com"]);
        assert_eq!(
            html("HTTPS://EXAMPLE.COM/"),
            format!("<p>{}</p>", link("HTTPS://EXAMPLE.COM/", "", "HTTPS://EXAMPLE.COM/", false, ""))
        );
        assert_eq!(
            html("gemini://example.com/"),
            format!("<p>{}</p>", link("gemini://example.com/", "", "gemini://example.com/", false, ""))
        );
    }

    #[test]
    fn scheme_less_match_swallows_following_url() {
        // The scheme-less `example.com/https://foo.com` is matched first and
        // then discarded, so nothing is linked.
        assert_eq!(html("example.com/https://foo.com"), "<p>example.com/https://foo.com</p>");
        // With a separator the second URL stands on its own.
        assert_eq!(hrefs("example.com https://foo.com"), vec!["https://foo.com"]);
        // Non-ASCII letters may precede a URL.
        assert_eq!(hrefs("éhttps://example.com"), vec!["https://example.com"]);
    }

    #[test]
    fn port_and_tco_are_normalized() {
        assert_eq!(hrefs("https://example.com:0443/x"), vec!["https://example.com:443/x"]);
        assert_eq!(hrefs("https://example.com:0/x"), vec!["https://example.com/x"]);
        assert_eq!(hrefs("https://example.com:8080"), vec!["https://example.com:8080"]);
        assert_eq!(hrefs("https://t.co/abc123?x=1"), vec!["https://t.co/abc123"]);
    }

    #[test]
    fn adjacent_urls() {
        assert_eq!(hrefs("https://a.com,https://b.org"), vec!["https://a.com", "https://b.org"]);
        assert_eq!(hrefs("https://a.com\nhttps://b.org"), vec!["https://a.com", "https://b.org"]);
    }

    #[test]
    fn xmpp_and_magnet_uris() {
        assert_eq!(
            html("xmpp:user@instance.com"),
            format!("<p>{}</p>", link("xmpp:user@instance.com", "xmpp:", "user@instance.com", false, ""))
        );
        assert_eq!(hrefs("please join xmpp:muc@instance.com?join right now"), vec!["xmpp:muc@instance.com?join"]);
        assert_eq!(
            hrefs(
                "wikipedia gives this example of a magnet uri: magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
            ),
            vec!["magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a"]
        );
        assert_eq!(
            hrefs("xmpp://me@example.com/you@example.org/res"),
            vec!["xmpp://me@example.com/you@example.org/res"]
        );
    }

    // --- mentions ------------------------------------------------------------

    #[test]
    fn local_mention_is_linked() {
        let out = format("@alice hi");
        assert_eq!(out.html, format!("<p>{} hi</p>", mention_link("https://ferro.example/@alice", "alice")));
        assert_eq!(
            out.mentions,
            vec![resolver(&MentionToken { username: "alice".into(), domain: None }).unwrap_or_else(|| unreachable!())]
        );
    }

    #[test]
    fn remote_mention_is_linked_with_username_only() {
        let out = format("hi @alice@example.com!");
        assert_eq!(out.html, format!("<p>hi {}!</p>", mention_link("https://example.com/@alice", "alice")));
        assert_eq!(out.mentions.len(), 1);
        assert_eq!(out.mentions[0].acct, "alice@example.com");
    }

    #[test]
    fn unresolved_mentions_stay_text() {
        let out = format("@nobody@example.com and @ghost");
        assert_eq!(out.html, "<p>@nobody@example.com and @ghost</p>");
        assert!(out.mentions.is_empty());
        assert_eq!(
            extract_mentions("@nobody@example.com and @ghost"),
            vec![
                MentionToken { username: "nobody".into(), domain: Some("example.com".into()) },
                MentionToken { username: "ghost".into(), domain: None },
            ]
        );
    }

    #[test]
    fn email_addresses_are_not_mentions() {
        assert!(extract_mentions("mail me@alice.com please").is_empty());
        assert_eq!(html("mail me@alice.com please"), "<p>mail me@alice.com please</p>");
        assert!(extract_mentions("a=@alice b/@alice").is_empty());
        assert!(extract_mentions("https://example.com/@alice").is_empty());
        assert_eq!(hrefs("https://example.com/@alice"), vec!["https://example.com/@alice"]);
    }

    #[test]
    fn mention_after_punctuation() {
        assert_eq!(html("(@alice)"), format!("<p>({})</p>", mention_link("https://ferro.example/@alice", "alice")));
        assert_eq!(
            extract_mentions("@bob@example.com."),
            vec![MentionToken { username: "bob".into(), domain: Some("example.com".into()) }]
        );
    }

    #[test]
    fn mention_followed_by_at_sign_is_not_linked_but_resolved() {
        let out = format("@alice@ hi");
        assert_eq!(out.html, "<p>@alice@ hi</p>");
        assert_eq!(out.mentions.len(), 1);
        assert_eq!(html("@alicé"), "<p>@alicé</p>");
    }

    #[test]
    fn resolved_mentions_are_rewritten_to_acct_first() {
        // Mastodon stores `@acct` in place of every resolved mention before
        // rendering, which shows even where no link is made.
        assert_eq!(html("@ALICE@ hi"), "<p>@alice@ hi</p>");
        assert_eq!(hrefs("https://example.com/a,@Alice"), vec!["https://example.com/a,@alice"]);
        assert_eq!(
            html("@alice@ferro.example"),
            format!("<p>{}</p>", mention_link("https://ferro.example/@alice", "alice"))
        );
        assert_eq!(format("@BOB@Example.COM").mentions[0].acct, "bob@example.com");
    }

    #[test]
    fn mentions_may_name_a_port() {
        let text = "@bob@127.0.0.1:3001 hi, and @carol@example.com: bye";
        let found: Vec<Option<String>> = Scanner::new(text).mentions().into_iter().map(|m| m.domain).collect();
        assert_eq!(found, vec![Some("127.0.0.1:3001".to_string()), Some("example.com".to_string())]);
    }

    #[test]
    fn mentions_are_deduplicated_by_acct() {
        let out = format("@alice @Alice @alice@ferro.example @bob@example.com @BOB@EXAMPLE.COM");
        let accts: Vec<&str> = out.mentions.iter().map(|m| m.acct.as_str()).collect();
        assert_eq!(accts, vec!["alice", "bob@example.com"]);
        assert_eq!(out.html.matches("h-card").count(), 5);
    }

    #[test]
    fn same_username_on_two_servers_shows_domains() {
        let out = format("@alice @alice@example.com");
        assert_eq!(
            out.html,
            format!(
                "<p>{} {}</p>",
                mention_link("https://ferro.example/@alice", "alice"),
                mention_link("https://example.com/@alice", "alice@example.com")
            )
        );
    }

    #[test]
    fn mention_attributes_are_escaped() {
        assert_eq!(
            html("@weird"),
            format!("<p>{}</p>", mention_link("https://ferro.example/@weird?a=1&amp;b=&quot;2&quot;", "we&lt;ird&gt;"))
        );
    }

    #[test]
    fn resolver_called_once_per_distinct_mention() {
        let calls = std::cell::Cell::new(0);
        let counting = |t: &MentionToken| {
            calls.set(calls.get() + 1);
            resolver(t)
        };
        let _ = format_plain("@alice @ALICE @alice @bob@example.com", BASE, &counting);
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn punycode_round_trip() {
        let chars: Vec<char> = "bücher".chars().collect();
        assert_eq!(punycode_encode(&chars).as_deref(), Some("bcher-kva"));
        assert_eq!(punycode_decode("bcher-kva").as_deref(), Some("bücher"));
        assert_eq!(pretty_acct("carol@xn--bcher-kva.example"), "carol@bücher.example");
        assert_eq!(pretty_acct("carol"), "carol");
    }

    // --- hashtags ------------------------------------------------------------

    #[test]
    fn hashtags_are_linked_and_deduplicated() {
        let out = format("#Rust and #rust");
        assert_eq!(out.html, format!("<p>{} and {}</p>", tag_link("Rust", "Rust"), tag_link("rust", "rust")));
        assert_eq!(out.tags, vec!["rust"]);
        assert_eq!(extract_hashtags("#Rust and #rust"), vec!["Rust", "rust"]);
    }

    #[test]
    fn hashtags_need_whitespace_or_line_start_before() {
        assert!(extract_hashtags("hello,#tag (#tag) a#tag").is_empty());
        assert_eq!(extract_hashtags("first\n#second\t#third"), vec!["second", "third"]);
        assert_eq!(html("#tag."), format!("<p>{}.</p>", tag_link("tag", "tag")));
        assert_eq!(extract_hashtags("#tag, #other!"), vec!["tag", "other"]);
    }

    #[test]
    fn digits_only_is_not_a_hashtag() {
        assert!(extract_hashtags("#123").is_empty());
        assert_eq!(html("#123"), "<p>#123</p>");
        assert_eq!(extract_hashtags("#123abc #1_2"), vec!["123abc", "1_2"]);
    }

    #[test]
    fn unicode_hashtags() {
        let out = format("#日本語");
        assert_eq!(out.html, format!("<p>{}</p>", tag_link("%E6%97%A5%E6%9C%AC%E8%AA%9E", "日本語")));
        assert_eq!(out.tags, vec!["日本語"]);

        let out = format("#Café");
        assert_eq!(out.html, format!("<p>{}</p>", tag_link("Caf%C3%A9", "Café")));
        assert_eq!(out.tags, vec!["cafe"]);

        assert!(html("#hashtagタグ").contains(
            "/tags/hashtag%E3%82%BF%E3%82%B0\" class=\"mention hashtag\" rel=\"tag\">#<span>hashtagタグ</span></a>"
        ));
    }

    #[test]
    fn full_width_hash_sign() {
        assert_eq!(extract_hashtags("hello ＃world"), vec!["world"]);
        assert_eq!(html("hello ＃world"), format!("<p>hello {}</p>", tag_link("world", "world")));
    }

    #[test]
    fn scheme_glued_to_hashtag_is_dropped() {
        assert_eq!(extract_hashtags("#hashtaghttps://"), vec!["hashtag"]);
        assert_eq!(extract_hashtags("#hashtaghttp://"), vec!["hashtag"]);
        assert_eq!(extract_hashtags("#hashtag://"), vec!["hashtag"]);
        assert_eq!(
            html("#hashtaghttps://example.com"),
            format!("<p>{}https://example.com</p>", tag_link("hashtag", "hashtag"))
        );
    }

    #[test]
    fn hashtag_normalization() {
        assert_eq!(normalize_hashtag("Ｓｙｎｔｈｗａｖｅ"), "synthwave");
        assert_eq!(normalize_hashtag("ｼｰｻｲﾄﾞﾗｲﾅｰ"), "シーサイドライナー");
        assert_eq!(normalize_hashtag("BLÅHAJ"), "blahaj");
        assert_eq!(normalize_hashtag("#foo"), "foo");
        assert_eq!(normalize_hashtag("a·b"), "a·b");
        assert_eq!(normalize_hashtag("Cafe\u{301}"), "cafe");
        assert_eq!(normalize_hashtag("Straße"), "straße");
        assert_eq!(normalize_hashtag("ΟΔΟΣ"), "οδοσ");
    }

    #[test]
    fn mixed_entities() {
        let out = format("Hey @alice, read https://example.com/a_(b) #TIL\n\nbye");
        assert_eq!(
            out.html,
            format!(
                "<p>Hey {}, read {} {}</p><p>bye</p>",
                mention_link("https://ferro.example/@alice", "alice"),
                link("https://example.com/a_(b)", "https://", "example.com/a_(b)", false, ""),
                tag_link("TIL", "TIL")
            )
        );
        assert_eq!(out.tags, vec!["til"]);
        assert_eq!(out.mentions.len(), 1);
    }

    // --- length ----------------------------------------------------------------

    #[test]
    fn urls_count_as_23() {
        let url = format!("https://example.com/{}", "a".repeat(40));
        assert_eq!(url.chars().count(), 60);
        assert_eq!(status_length(&format!("check {url}"), ""), 6 + 23);
        // glued to a word it is not a link and counts in full
        let glued = format!("{}http://{}.com/example", "a".repeat(76), "b".repeat(30));
        assert_eq!(status_length(&glued, ""), 76 + 49);
    }

    #[test]
    fn overlong_urls_count_in_full() {
        let text = format!("http://example.com/valid?{}", "#foo?".repeat(1000));
        assert_eq!(status_length(&text, ""), text.chars().count());
    }

    #[test]
    fn emoji_count_as_one() {
        assert_eq!(status_length("👍🏽", ""), 1);
        assert_eq!(status_length("🏳️‍⚧️", ""), 1);
        assert_eq!(status_length("👨‍👩‍👧", ""), 1);
        assert_eq!(status_length(&"✨".repeat(500), ""), 500);
    }

    #[test]
    fn remote_mentions_count_as_username() {
        assert_eq!(status_length("@alice@example.com hi", ""), 9);
        let long = format!("@alice@{}.com", "b".repeat(600));
        assert_eq!(status_length(&long, ""), long.chars().count());
    }

    #[test]
    fn spoiler_counts_and_text_is_stripped() {
        assert_eq!(status_length("hello", "cw"), 7);
        assert_eq!(status_length("  \n", " cw "), 2);
        assert_eq!(status_length("", ""), 0);
    }

    #[test]
    fn long_dotted_input_is_linear() {
        // Every position starts a new domain attempt over the same chain of
        // labels; without memoization this is quadratic.
        let started = std::time::Instant::now();
        for text in [
            format!("see: {}", "a.b-c_d.".repeat(4000)),
            format!("xmpp://a@{}", "a.".repeat(10_000)),
            format!("https://{}", "a.".repeat(10_000)),
        ] {
            let _ = format_plain(&text, BASE, &resolver);
            let _ = status_length(&text, "");
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}
