//! User Markdown, rendered and then sanitised: whatever HTML the Markdown
//! produces or contains, only a safe subset reaches the page, and links
//! never hand the page to their target.
//!
//! Images are never loaded: a user's `![x](/api/v1/audit-logs/export)`
//! would make every viewer's browser send a request with the viewer's
//! cookie. A Markdown image becomes a plain link to it (its text the alt
//! text), and `<img>` is not among the allowed tags.
//!
//! Task lists (`- [x] done`) show as checkboxes nobody can tick, and bare
//! `http(s)://` addresses in text become links, as people expect from
//! other trackers.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, TextMergeStream, html};

pub fn render(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    // Merged, so an address that the parser split at `_` or `*` is seen whole.
    let parsed = TextMergeStream::new(Parser::new_ext(text, options)).map(image_as_link);
    let mut events = Vec::new();
    // How deep inside links and code the text is: addresses there are
    // already links, or are meant to be read as typed.
    let mut inside = 0usize;
    for event in parsed {
        match event {
            Event::Text(text) if inside == 0 => events.extend(linkified(&text)),
            Event::TaskListMarker(done) => events.push(Event::InlineHtml(checkbox(done).into())),
            event => {
                match &event {
                    Event::Start(Tag::Link { .. } | Tag::CodeBlock(_)) => inside += 1,
                    Event::End(TagEnd::Link | TagEnd::CodeBlock) => inside = inside.saturating_sub(1),
                    Event::InlineHtml(raw) => match raw_tag(raw) {
                        Some(true) => inside += 1,
                        Some(false) => inside = inside.saturating_sub(1),
                        None => {}
                    },
                    _ => {}
                }
                events.push(event);
            }
        }
    }
    let mut raw = String::new();
    html::push_html(&mut raw, events.into_iter());
    sanitizer().clean(&raw).to_string()
}

fn image_as_link(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Start(Tag::Image { dest_url, title, .. }) => {
            Event::Start(Tag::Link { link_type: LinkType::Inline, dest_url, title, id: CowStr::Borrowed("") })
        }
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    }
}

/// A task's box. Its accessible name says what ticked means ("Done,
/// checked" / "Done, not checked"): a form control without a name is an
/// accessibility failure even when disabled.
fn checkbox(done: bool) -> String {
    format!("<input type=\"checkbox\" disabled{} aria-label=\"Done\"> ", if done { " checked" } else { "" })
}

/// Whether raw inline HTML opens (`Some(true)`) or closes (`Some(false)`)
/// an `<a>` or `<code>`, whose text is left as written.
fn raw_tag(raw: &str) -> Option<bool> {
    let lower = raw.trim().to_ascii_lowercase();
    let (closing, rest) = match lower.strip_prefix("</") {
        Some(rest) => (true, rest),
        None => (false, lower.strip_prefix('<')?),
    };
    let name: String = rest.chars().take_while(char::is_ascii_alphanumeric).collect();
    (matches!(name.as_str(), "a" | "code") && !lower.ends_with("/>")).then_some(!closing)
}

/// Only a safe subset of HTML: no images, links with `rel` set and only
/// web and mail schemes, and `<input>` only as a disabled checkbox.
fn sanitizer() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .rm_tags(["img"])
        .add_tags(["input"])
        .add_tag_attribute_values("input", "type", ["checkbox"])
        .add_tag_attribute_values("input", "checked", ["", "checked"])
        .add_tag_attribute_values("input", "disabled", ["", "disabled"])
        .add_tag_attribute_values("input", "aria-label", ["Done"])
        // Whatever `<input>` someone writes by hand (no type is a text
        // box) comes out as a checkbox that cannot be changed.
        .set_tag_attribute_value("input", "type", "checkbox")
        .set_tag_attribute_value("input", "disabled", "")
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect());
    builder
}

/// `text` with each bare `http://` or `https://` address made a link.
fn linkified(text: &str) -> Vec<Event<'static>> {
    let mut events = Vec::new();
    let mut rest = text;
    while let Some((start, end)) = next_address(rest) {
        if start > 0 {
            events.push(Event::Text(rest[..start].to_string().into()));
        }
        let address = &rest[start..end];
        events.push(Event::Start(Tag::Link {
            link_type: LinkType::Autolink,
            dest_url: address.to_string().into(),
            title: CowStr::Borrowed(""),
            id: CowStr::Borrowed(""),
        }));
        events.push(Event::Text(address.to_string().into()));
        events.push(Event::End(TagEnd::Link));
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        events.push(Event::Text(rest.to_string().into()));
    }
    events
}

/// Where the first bare address in `text` starts and ends (bytes). It
/// starts at `http://` or `https://` not glued to a preceding word, runs to
/// whitespace or a quote or angle bracket, and leaves out the punctuation
/// that ends a sentence around it: `(see https://x.example/a).` links
/// `https://x.example/a`.
fn next_address(text: &str) -> Option<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("http").map(|i| from + i) {
        from = found + 4;
        let glued = text[..found].chars().next_back().is_some_and(char::is_alphanumeric);
        if glued || !(lower[found..].starts_with("http://") || lower[found..].starts_with("https://")) {
            continue;
        }
        let length = text[found..]
            .find(|c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '`'))
            .unwrap_or(text.len() - found);
        let address = trim_trailing(&text[found..found + length]);
        if url::Url::parse(address).is_ok_and(|url| url.host_str().is_some_and(|host| !host.is_empty())) {
            return Some((found, found + address.len()));
        }
    }
    None
}

/// Drops sentence punctuation from the end of an address, and a closing
/// bracket that the address did not open.
fn trim_trailing(mut address: &str) -> &str {
    loop {
        let unbalanced = |open: char, close: char| {
            address.ends_with(close) && address.matches(close).count() > address.matches(open).count()
        };
        if address.ends_with(['.', ',', ':', ';', '!', '?', '\'', '*', '_', '~'])
            || unbalanced('(', ')')
            || unbalanced('[', ']')
        {
            address = &address[..address.len() - 1];
        } else {
            return address;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_rendered_and_scripts_are_not() {
        let html = render("**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(!html.contains("<script") && !html.contains("javascript:") && !html.contains("onerror"), "{html}");
        assert!(render("[site](https://example.com)").contains("rel=\"noopener noreferrer nofollow\""));
    }

    #[test]
    fn images_become_links_and_never_load() {
        for source in [
            "![export](/api/v1/audit-logs/export?format=csv)",
            "<img src=\"/api/v1/me\">",
            "![x](https://cdn.example/x.png)",
        ] {
            let html = render(source);
            assert!(!html.contains("<img"), "{source} → {html}");
        }
        let html = render("![the diagram](https://example.com/d.png)");
        assert!(html.contains("<a href=\"https://example.com/d.png\"") && html.contains("the diagram"), "{html}");
    }

    #[test]
    fn task_lists_are_checkboxes_nobody_can_tick() {
        let html = render("- [ ] parameterise the query\n- [x] reproduce");
        assert!(
            html.contains(
                "<li><input type=\"checkbox\" disabled=\"\" aria-label=\"Done\"> parameterise the query</li>"
            ),
            "{html}"
        );
        assert!(
            html.contains(
                "<li><input type=\"checkbox\" disabled=\"\" checked=\"\" aria-label=\"Done\"> reproduce</li>"
            ),
            "{html}"
        );
        assert_eq!(html.matches("<input").count(), 2, "{html}");
    }

    #[test]
    fn hand_written_inputs_are_only_ever_disabled_checkboxes() {
        for source in [
            "<input type=\"text\" value=\"secret\" name=\"q\">",
            "<input type=\"checkbox\" checked name=\"agree\" form=\"login\" onclick=\"alert(1)\" style=\"x\" id=\"body\">",
            "<input>",
            "<input type=\"submit\" formaction=\"/logout\">",
            "<input type=\"image\" src=\"/api/v1/me\">",
            "<input type=\"hidden\" aria-label=\"Password\">",
        ] {
            let html = render(source);
            let input = &html[html.find("<input").expect("kept as a checkbox")..];
            let input = &input[..=input.find('>').expect("tag end")];
            let allowed = ["type=\"checkbox\"", "disabled=\"\"", "checked=\"\""];
            let rest = allowed.iter().fold(input.to_string(), |tag, attribute| tag.replace(attribute, ""));
            assert_eq!(rest.split_whitespace().collect::<String>(), "<input>", "{source} → {html}");
            assert!(input.contains("type=\"checkbox\"") && input.contains("disabled"), "{source} → {html}");
        }
    }

    #[test]
    fn bare_addresses_become_links() {
        let html = render("See https://example.com/advisory and (http://example.org/a_b_c). Done.");
        assert!(
            html.contains(
                "<a href=\"https://example.com/advisory\" rel=\"noopener noreferrer nofollow\">https://example.com/advisory</a> and"
            ),
            "{html}"
        );
        assert!(html.contains(">http://example.org/a_b_c</a>)."), "brackets and full stops stay outside: {html}");
        let wiki = render("https://en.wikipedia.org/wiki/Rust_(programming_language)");
        assert!(wiki.contains("href=\"https://en.wikipedia.org/wiki/Rust_(programming_language)\""), "{wiki}");
        assert!(render("**https://example.com/x**").contains("<strong><a href=\"https://example.com/x\""));
    }

    #[test]
    fn addresses_in_code_links_or_other_schemes_stay_text() {
        for source in [
            "`https://example.com/in-a-code-span`",
            "```\nhttps://example.com/in-a-block\n```",
            "    https://example.com/indented-code",
            "<code>https://example.com/raw-code</code>",
        ] {
            let html = render(source);
            assert!(!html.contains("<a"), "{source} → {html}");
            assert!(html.contains("https://example.com/"), "{source} → {html}");
        }
        let linked = render("[the advisory](https://example.com/a) <https://example.com/b>");
        assert_eq!(linked.matches("<a ").count(), 2, "not linked twice: {linked}");
        for source in
            ["javascript:alert(1)", "javascript://example.com/%0aalert(1)", "xhttps://example.com", "https://"]
        {
            let html = render(source);
            assert!(!html.contains("<a"), "{source} → {html}");
        }
    }
}
