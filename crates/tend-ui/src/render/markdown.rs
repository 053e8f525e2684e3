//! A run's report (Markdown) as HTML, sanitised: raw HTML in the report is shown as text,
//! images become their alt text, and links go only to http(s), mail or within the page.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

fn safe_link(dest: &str) -> bool {
    let lower = dest.trim().to_ascii_lowercase();
    lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("mailto:")
        || lower.starts_with('#')
}

pub fn to_html(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        // Shown as the text it is, escaped by the HTML writer.
        Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest_url = if safe_link(&dest_url) {
                dest_url
            } else {
                CowStr::Borrowed("#")
            };
            Some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn markdown_renders_and_html_in_it_does_not() {
        assert_eq!(
            to_html("# Fixed\n\n- **one** `two`\n"),
            "<h1>Fixed</h1>\n<ul>\n<li><strong>one</strong> <code>two</code></li>\n</ul>\n"
        );
        assert_eq!(
            to_html("<script>alert(1)</script>\n\nhi <b onclick=x>there</b>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;\n<p>hi &lt;b onclick=x&gt;there&lt;/b&gt;</p>\n"
        );
        assert_eq!(
            to_html("[a](javascript:alert(1)) [b](https://example.com) ![img](http://x/y.png)"),
            "<p><a href=\"#\">a</a> <a href=\"https://example.com\">b</a> img</p>\n"
        );
    }
}
