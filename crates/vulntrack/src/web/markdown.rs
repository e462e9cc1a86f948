//! User Markdown, rendered and then sanitised: whatever HTML the Markdown
//! produces or contains, only a safe subset reaches the page, and links
//! never hand the page to their target.

use pulldown_cmark::{Options, Parser, html};

pub fn render(text: &str) -> String {
    let mut raw = String::new();
    html::push_html(&mut raw, Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH));
    ammonia::Builder::default()
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
}
