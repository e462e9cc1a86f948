//! User Markdown, rendered and then sanitised: whatever HTML the Markdown
//! produces or contains, only a safe subset reaches the page, and links
//! never hand the page to their target.
//!
//! Images are never loaded: a user's `![x](/api/v1/audit-logs/export)`
//! would make every viewer's browser send a request with the viewer's
//! cookie. A Markdown image becomes a plain link to it (its text the alt
//! text), and `<img>` is not among the allowed tags.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, html};

pub fn render(text: &str) -> String {
    let events =
        Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|event| match event {
            Event::Start(Tag::Image { dest_url, title, .. }) => {
                Event::Start(Tag::Link { link_type: LinkType::Inline, dest_url, title, id: CowStr::Borrowed("") })
            }
            Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
            other => other,
        });
    let mut raw = String::new();
    html::push_html(&mut raw, events);
    let mut tags = ammonia::Builder::default().clone_tags();
    tags.remove("img");
    ammonia::Builder::default()
        .tags(tags)
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(&raw)
        .to_string()
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
}
