//! Text, links and places as the web and network scanner reports (ZAP,
//! Burp, Nikto, Nuclei, Nessus, OpenVAS, Qualys) write them: HTML fields
//! read as text, the URLs in a field, the parts of a URL, and findings
//! merged across the places they were found.

use std::collections::HashMap;

use crate::{Finding, ReportBuilder};

/// HTML as readable text: block tags become line breaks, list items
/// "- " lines, other tags vanish and entities are resolved. Text with no
/// HTML tag in it is returned trimmed, its line breaks kept.
pub(crate) fn html_text(html: &str) -> String {
    const BLOCKS: &[&str] = &["p", "div", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre"];
    let lower = html.to_ascii_lowercase();
    let is_html = ["<p>", "<p ", "<br", "<li", "<ul", "<div", "<a ", "<b>", "<i>", "<code", "</"]
        .iter()
        .any(|tag| lower.contains(tag));
    if !is_html {
        return entities(html.trim());
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    // A link's target, kept when its text does not show it.
    let mut link: Option<(String, usize)> = None;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at].replace(['\r', '\n', '\t'], " "));
        let after = &rest[at + 1..];
        let is_tag = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!');
        match after.find('>').filter(|_| is_tag) {
            Some(end) => {
                let closing = after.starts_with('/');
                let tag = after[..end].trim_start_matches('/').to_ascii_lowercase();
                let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("");
                if name == "li" && !closing {
                    out.push_str("\n- ");
                } else if name == "br" || BLOCKS.contains(&name) {
                    out.push('\n');
                } else if name == "a" && !closing {
                    link = urls(&after[..end]).into_iter().next().map(|url| (url, out.len()));
                } else if name == "a"
                    && let Some((url, start)) = link.take()
                {
                    match out.get(start..).map(str::trim) {
                        Some("") | None => out.push_str(&format!(" {url}")),
                        Some(text) if !text.contains(&url) => out.push_str(&format!(" ({url})")),
                        Some(_) => {}
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(&rest.replace(['\r', '\n', '\t'], " "));
    tidy(&entities(&out))
}

/// Runs of spaces collapsed, lines trimmed, at most one blank line.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_lines = 0;
    for line in text.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank_lines += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        out.push_str(&line);
    }
    out
}

/// HTML character references resolved (the common named ones and numeric).
fn entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let resolved = after.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &after[..end];
            let c = match name {
                "nbsp" => Some(' '),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match resolved {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The http(s) URLs in a text, HTML or a run of URLs with no separator
/// (as older ZAP reports write them), each once.
pub(crate) fn urls(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let starts: Vec<usize> =
        text.match_indices("http").map(|(at, _)| at).filter(|&at| is_url_start(&text[at..])).collect();
    for (index, &start) in starts.iter().enumerate() {
        let limit = starts.get(index + 1).copied().unwrap_or(text.len());
        let candidate = &text[start..limit];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(candidate.len());
        let url = trim_url(&candidate[..end]);
        if url.len() > "https://".len() && !found.iter().any(|f| f == url) {
            found.push(url.to_owned());
        }
    }
    found
}

fn is_url_start(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://")
}

/// Trailing punctuation that ends a sentence, not the URL; a closing
/// parenthesis stays when the URL opened one.
fn trim_url(url: &str) -> &str {
    let mut url = url.trim_end_matches(['.', ',', ';', ':', ']', '*']);
    while url.ends_with(')') && url.matches('(').count() < url.matches(')').count() {
        url = &url[..url.len() - 1];
    }
    url
}

/// The scheme, host and port of a URL or a `host:port`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct UrlParts {
    pub scheme: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
}

pub(crate) fn url_parts(url: &str) -> UrlParts {
    let url = url.trim();
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+') => {
            (Some(scheme.to_ascii_lowercase()), rest)
        }
        _ => (None, url.strip_prefix("//").unwrap_or(url)),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        match bracketed.split_once(']') {
            Some((host, port)) => (host, port.strip_prefix(':')),
            None => (bracketed, None),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port)),
            _ => (authority, None),
        }
    };
    let port = port.and_then(|p| p.parse::<u16>().ok()).or(match scheme.as_deref() {
        Some("http") => Some(80),
        Some("https") => Some(443),
        _ => None,
    });
    let host = Some(host.to_ascii_lowercase()).filter(|h| !h.is_empty());
    UrlParts { scheme, host, port }
}

/// Findings held back until the report is read, so that the first of
/// each fingerprint (the one the report keeps) can list every place the
/// merged repeats were found.
#[derive(Debug, Default)]
pub(crate) struct Affected(Vec<(Finding, String)>);

/// Places listed in a merged finding's description; the rest are counted.
const LISTED_PLACES: usize = 25;

impl Affected {
    pub fn add(&mut self, finding: Finding, place: String) {
        self.0.push((finding, place));
    }

    /// Pushes every finding in report order, the first of a fingerprint
    /// found in several places with the list of them under `heading`.
    pub fn push_all(self, report: &mut ReportBuilder, heading: &str) {
        let mut places: HashMap<String, Vec<String>> = HashMap::new();
        for (finding, place) in &self.0 {
            let list = places.entry(finding.fingerprint.clone()).or_default();
            if !place.is_empty() && !list.contains(place) {
                list.push(place.clone());
            }
        }
        for (mut finding, _) in self.0 {
            if let Some(list) = places.remove(&finding.fingerprint)
                && list.len() > 1
            {
                let mut text = format!("{heading}:");
                for place in list.iter().take(LISTED_PLACES) {
                    text.push_str("\n- ");
                    text.push_str(place);
                }
                if list.len() > LISTED_PLACES {
                    text.push_str(&format!("\n… and {} more", list.len() - LISTED_PLACES));
                }
                finding.description = paragraphs([std::mem::take(&mut finding.description), text]);
            }
            report.push(finding);
        }
    }
}

/// Non-empty parts, one paragraph each.
pub(crate) fn paragraphs(parts: impl IntoIterator<Item = String>) -> String {
    parts.into_iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("\n\n")
}

/// `label:` with the text on the next line, or nothing when there is no text.
pub(crate) fn labelled(label: &str, text: Option<&str>) -> String {
    text.map(|t| format!("{label}:\n{t}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_readable_text() {
        let text = html_text("<p>Intro &amp; more.</p><ul><li>One</li><li>Two</li></ul>A&nbsp;b < c");
        assert_eq!(text, "Intro & more.\n\n- One\n- Two\nA b < c");
        assert_eq!(html_text("plain\nlines"), "plain\nlines");
        let links = html_text("See <a href=\"https://a.example/kb\">the KB</a> or <A HREF=https://b.example/x></A>.");
        assert_eq!(links, "See the KB (https://a.example/kb) or https://b.example/x.");
    }

    #[test]
    fn urls_are_split_and_trimmed() {
        let found = urls(
            "<a href=\"https://a.example/x\">x</a> http://b.example/y(z).http://c.example/, (see https://d.example/)",
        );
        assert_eq!(found, ["https://a.example/x", "http://b.example/y(z)", "http://c.example/", "https://d.example/"]);
    }

    #[test]
    fn url_parts_handle_ports_and_bare_hosts() {
        let parts = url_parts("https://user@Example.com:8443/a?b");
        assert_eq!(
            (parts.scheme.as_deref(), parts.host.as_deref(), parts.port),
            (Some("https"), Some("example.com"), Some(8443))
        );
        assert_eq!(url_parts("host.example:22").port, Some(22));
        assert_eq!(url_parts("http://[::1]/").host.as_deref(), Some("::1"));
        assert_eq!(url_parts("http://h/").port, Some(80));
    }
}
