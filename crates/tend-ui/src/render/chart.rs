//! Cost over time as an inline SVG bar chart, drawn on the server: no chart library, no
//! script. Colours come from presentation attributes (the page's CSP allows no inline styles).

use std::fmt::Write as _;

const W: f64 = 720.0;
const H: f64 = 140.0;
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 10.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Bars for `values` (millionths of a dollar), labelled under the first, middle and last bar.
pub fn bars(values: &[(String, u64)]) -> String {
    let max = values.iter().map(|(_, v)| *v).max().unwrap_or(0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" xmlns="http://www.w3.org/2000/svg">"##
    );
    let plot_h = H - BOTTOM - TOP;
    let base = H - BOTTOM;
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{base}" x2="{W}" y2="{base}" stroke="#c9ced6" stroke-width="1"/>"##
    );
    let _ = write!(
        svg,
        r##"<text x="{x}" y="{y}" text-anchor="end" font-size="11" fill="#5b6472">{top}</text><text x="{x}" y="{base}" text-anchor="end" font-size="11" fill="#5b6472">$0</text>"##,
        x = LEFT - 6.0,
        y = TOP + 9.0,
        top = escape(&crate::fmt::usd(max)),
    );
    let n = values.len().max(1) as f64;
    let slot = (W - LEFT) / n;
    let bar = (slot * 0.7).max(1.0);
    for (i, (label, value)) in values.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let h = if max == 0 {
            0.0
        } else {
            (*value as f64 / max as f64 * plot_h).max(if *value > 0 { 1.0 } else { 0.0 })
        };
        let y = base - h;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" fill="#3b6fd8"><title>{} {}</title></rect>"##,
            escape(label),
            escape(&crate::fmt::usd(*value))
        );
        if i == 0 || i + 1 == values.len() || i == values.len() / 2 {
            let _ = write!(
                svg,
                r##"<text x="{cx:.1}" y="{ty}" text-anchor="middle" font-size="11" fill="#5b6472">{}</text>"##,
                escape(label),
                cx = x + bar / 2.0,
                ty = H - 6.0,
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value() {
        let svg = bars(&[
            ("11-24".into(), 0),
            ("11-25".into(), 500_000),
            ("11-26".into(), 1_000_000),
        ]);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.ends_with("</svg>"), "{svg}");
        // The largest bar fills the plot (108 px high), half of it half, zero none.
        assert!(svg.contains(r#"height="108.0" fill"#), "{svg}");
        assert!(svg.contains(r#"height="54.0" fill"#), "{svg}");
        assert!(svg.contains(r#"height="0.0" fill"#), "{svg}");
        assert!(svg.contains("<title>11-26 $1.00</title>"), "{svg}");
        assert!(!svg.contains("style="), "{svg}");
    }
}
