//! spaCy's `URL_MATCH`, decided without a regex engine.
//!
//! spaCy keeps a whole chunk remainder as one token when its URL pattern (a modified version of
//! Diego Perini's URL regex) matches all of it:
//!
//! ```text
//! ^ (scheme "://")? (userinfo "@")? (ipv4 | (label ".")+ tld) (":" port)? ([/?#] rest)? $
//! ```
//!
//! The input never contains whitespace (it is part of a whitespace-delimited chunk), so `\S`
//! matches every character. The regex's backtracking choices are enumerated explicitly:
//! the scheme is either absent or the run of `[\w+\-.]` before a leading `://`; the userinfo is
//! either absent or ends at any `@` with at least one character before it. Host characters can
//! never be `:`, `/`, `?` or `#`, so the host always ends at the first of them, which makes every
//! other part of the match forced.

use super::classes::{is_re_digit, is_re_word, is_tld};

/// Whether spaCy's English `url_match` accepts the whole of `s`.
pub(crate) fn url_match(s: &str) -> bool {
    // Cheap necessary condition: a domain needs a '.', and so does an IPv4 address.
    if !s.as_bytes().contains(&b'.') {
        return false;
    }
    if let Some(after_scheme) = scheme_end(s) {
        if match_after_scheme(&s[after_scheme..]) {
            return true;
        }
    }
    match_after_scheme(s)
}

/// The byte offset just after `scheme://` when `s` starts with a scheme of at least two characters.
fn scheme_end(s: &str) -> Option<usize> {
    let mut n_chars = 0;
    for (i, c) in s.char_indices() {
        if c == '+' || c == '-' || c == '.' || is_re_word(c) {
            n_chars += 1;
            continue;
        }
        return (n_chars >= 2 && s[i..].starts_with("://")).then_some(i + 3);
    }
    None
}

fn match_after_scheme(r: &str) -> bool {
    if match_host_and_rest(r) {
        return true;
    }
    // userinfo: `\S+(?::\S*)?@`, i.e. any non-empty text ending with an '@'. A host cannot contain
    // an '@', so only an '@' that is not followed by another one before the host ends can work;
    // checking that first keeps this linear on inputs full of '@'.
    let b = r.as_bytes();
    let mut i = 1;
    while let Some(off) = b.get(i..).and_then(|t| t.iter().position(|&x| x == b'@')) {
        let at = i + off;
        let host_start = at + 1;
        let stop = b[host_start..]
            .iter()
            .position(|&x| matches!(x, b'@' | b':' | b'/' | b'?' | b'#'));
        let next_is_at = stop.is_some_and(|k| b[host_start + k] == b'@');
        if !next_is_at && match_host_and_rest(&r[host_start..]) {
            return true;
        }
        i = host_start;
    }
    false
}

/// The host (up to the first `:`, `/`, `?` or `#`), then the optional port and path.
fn match_host_and_rest(r: &str) -> bool {
    let host_end = r.find([':', '/', '?', '#']).unwrap_or(r.len());
    let (host, rest) = r.split_at(host_end);
    if host.is_empty() || !(is_ipv4(host) || is_domain(host)) {
        return false;
    }
    rest_ok(rest)
}

/// `(?::\d{2,5})?(?:[/?#]\S*)?$` on what follows the host.
fn rest_ok(rest: &str) -> bool {
    let Some(first) = rest.chars().next() else {
        return true;
    };
    match first {
        '/' | '?' | '#' => true,
        ':' => {
            let after = &rest[1..];
            let mut n = 0;
            let mut end = after.len();
            for (i, c) in after.char_indices() {
                if is_re_digit(c) {
                    n += 1;
                } else {
                    end = i;
                    break;
                }
            }
            (2..=5).contains(&n)
                && (end == after.len() || after[end..].starts_with(['/', '?', '#']))
        }
        _ => false,
    }
}

/// `(label ".")+ tld` with `label = [X]([X_-]{0,62}[X])?` and `tld = [ALPHA_LOWER]{2,63}`,
/// where `X = [A-Za-z0-9\u00a1-\uffff]`.
fn is_domain(host: &str) -> bool {
    let Some((labels, tld)) = host.rsplit_once('.') else {
        return false;
    };
    let tld_len = tld.chars().count();
    if !(2..=63).contains(&tld_len) || !tld.chars().all(is_tld) {
        return false;
    }
    labels.split('.').all(is_label)
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ('\u{a1}'..='\u{ffff}').contains(&c)
}

fn is_label(label: &str) -> bool {
    let n = label.chars().count();
    if n == 0 || n > 64 {
        return false;
    }
    let mut chars = label.chars();
    let (Some(first), Some(last)) = (chars.next(), label.chars().next_back()) else {
        return false;
    };
    if !is_label_char(first) || !is_label_char(last) {
        return false;
    }
    label
        .chars()
        .all(|c| is_label_char(c) || c == '_' || c == '-')
}

/// The dotted-quad alternative, including its negative lookaheads for private networks.
fn is_ipv4(host: &str) -> bool {
    if excluded_network(host) {
        return false;
    }
    let mut parts = host.split('.');
    let (Some(a), Some(b), Some(c), Some(d), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    first_octet(a) && middle_octet(b) && middle_octet(c) && last_octet(d)
}

/// The first three characters of `s` when `s` is one to three `\d` digits.
fn digits(s: &str) -> Option<([char; 3], usize)> {
    let mut d = ['\0'; 3];
    let mut n = 0;
    for c in s.chars() {
        if n == 3 || !is_re_digit(c) {
            return None;
        }
        d[n] = c;
        n += 1;
    }
    (n > 0).then_some((d, n))
}

/// `[1-9]\d?|1\d\d|2[01]\d|22[0-3]`
fn first_octet(s: &str) -> bool {
    let Some((d, n)) = digits(s) else {
        return false;
    };
    match n {
        1 | 2 => ('1'..='9').contains(&d[0]),
        _ => {
            d[0] == '1'
                || (d[0] == '2' && (d[1] == '0' || d[1] == '1'))
                || (d[0] == '2' && d[1] == '2' && ('0'..='3').contains(&d[2]))
        }
    }
}

/// `1?\d{1,2}|2[0-4]\d|25[0-5]`
fn middle_octet(s: &str) -> bool {
    let Some((d, n)) = digits(s) else {
        return false;
    };
    match n {
        1 | 2 => true,
        _ => {
            d[0] == '1'
                || (d[0] == '2' && ('0'..='4').contains(&d[1]))
                || (d[0] == '2' && d[1] == '5' && ('0'..='5').contains(&d[2]))
        }
    }
}

/// `[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]`
fn last_octet(s: &str) -> bool {
    let Some((d, n)) = digits(s) else {
        return false;
    };
    match n {
        1 | 2 => ('1'..='9').contains(&d[0]),
        _ => {
            d[0] == '1'
                || (d[0] == '2' && ('0'..='4').contains(&d[1]))
                || (d[0] == '2' && d[1] == '5' && ('0'..='4').contains(&d[2]))
        }
    }
}

/// The three negative lookaheads: `(?:10|127)(?:\.\d{1,3}){3}`, `(?:169\.254|192\.168)(?:\.\d{1,3}){2}`
/// and `172\.(?:1[6-9]|2\d|3[0-1])(?:\.\d{1,3}){2}`, each matched as a prefix of the host.
fn excluded_network(h: &str) -> bool {
    let groups = |rest: &str, n: usize| dotted_digit_groups(rest, n);
    if let Some(rest) = h.strip_prefix("10") {
        if groups(rest, 3) {
            return true;
        }
    }
    if let Some(rest) = h.strip_prefix("127") {
        if groups(rest, 3) {
            return true;
        }
    }
    for p in ["169.254", "192.168"] {
        if let Some(rest) = h.strip_prefix(p) {
            if groups(rest, 2) {
                return true;
            }
        }
    }
    if let Some(rest) = h.strip_prefix("172.") {
        let mut it = rest.chars();
        if let (Some(a), Some(b)) = (it.next(), it.next()) {
            let second_ok = match a {
                '1' => ('6'..='9').contains(&b),
                '2' => is_re_digit(b),
                '3' => b == '0' || b == '1',
                _ => false,
            };
            if second_ok && groups(&rest[a.len_utf8() + b.len_utf8()..], 2) {
                return true;
            }
        }
    }
    false
}

/// Whether `s` starts with `n` groups of `\.\d{1,3}` (as a regex prefix match, with backtracking).
fn dotted_digit_groups(s: &str, n: usize) -> bool {
    if n == 0 {
        return true;
    }
    let Some(rest) = s.strip_prefix('.') else {
        return false;
    };
    let mut ends = Vec::with_capacity(3);
    for (i, c) in rest.char_indices().take(3) {
        if !is_re_digit(c) {
            break;
        }
        ends.push(i + c.len_utf8());
    }
    ends.iter()
        .rev()
        .any(|&e| dotted_digit_groups(&rest[e..], n - 1))
}

#[cfg(test)]
mod tests {
    use super::url_match;

    #[test]
    fn urls() {
        for s in [
            "http://example.com",
            "https://www.example.co.uk/path?q=1#x",
            "example.com",
            "www.example.org/",
            "user@example.com",
            "mailto:someone@example.com",
            "http://1.2.3.4",
            "8.8.8.8:53",
            "example.com:8080/x",
        ] {
            assert!(url_match(s), "{s}");
        }
        for s in [
            "example",
            "e.g",
            "a.B",
            "10.0.0.1",
            "192.168.1.1",
            "example.com:1",
            "example.com:123456",
            "http://",
            "U.S",
            "1.5",
        ] {
            assert!(!url_match(s), "{s}");
        }
    }
}
