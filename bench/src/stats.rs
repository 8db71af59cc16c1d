//! Percentiles, tables and a dependency-free SVG plot of latency distributions.

use std::fmt::Write;
use std::time::Duration;

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A cumulative-distribution plot (latency on x, share of clients on y), one line per
/// series, written as SVG.
pub fn cdf_svg(title: &str, x_label: &str, y_label: &str, series: &[(String, Vec<Duration>)]) -> String {
    let (w, h, left, bottom, top, right) = (900.0, 520.0, 70.0, 60.0, 40.0, 260.0);
    let max_ms = series.iter().flat_map(|(_, v)| v.iter().map(|d| ms(*d))).fold(1.0_f64, f64::max);
    let x = |v: f64| left + (v / max_ms) * (w - left - right);
    let y = |share: f64| h - bottom - share * (h - top - bottom);
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
         <text x=\"{left}\" y=\"24\" font-size=\"15\">{title}</text>"
    );
    for i in 0..=5 {
        let v = max_ms * i as f64 / 5.0;
        let _ = write!(
            svg,
            "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#ddd\"/><text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\">{4:.0}</text>",
            x(v),
            y(0.0),
            y(1.0),
            y(0.0) + 18.0,
            v
        );
        let share = i as f64 / 5.0;
        let _ = write!(
            svg,
            "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#ddd\"/><text x=\"{3}\" y=\"{4}\" text-anchor=\"end\">{5:.0}%</text>",
            x(0.0),
            y(share),
            x(max_ms),
            x(0.0) - 6.0,
            y(share) + 4.0,
            share * 100.0
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{x_label}</text>\
         <text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" text-anchor=\"middle\">{y_label}</text>",
        (x(0.0) + x(max_ms)) / 2.0,
        h - 18.0,
        h / 2.0,
        h / 2.0
    );
    for (i, (name, values)) in series.iter().enumerate() {
        let mut sorted = values.clone();
        sorted.sort();
        let n = sorted.len().max(1) as f64;
        let step = (sorted.len() / 400).max(1);
        let points: Vec<String> = sorted
            .iter()
            .enumerate()
            .filter(|(k, _)| k % step == 0 || *k == sorted.len() - 1)
            .map(|(k, d)| format!("{:.1},{:.1}", x(ms(*d)), y((k + 1) as f64 / n)))
            .collect();
        let color = colors[i % colors.len()];
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>\
             <rect x=\"{}\" y=\"{}\" width=\"14\" height=\"3\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            points.join(" "),
            w - right + 16.0,
            top + 20.0 + i as f64 * 22.0,
            w - right + 36.0,
            top + 25.0 + i as f64 * 22.0,
            name
        );
    }
    svg.push_str("</svg>\n");
    svg
}
