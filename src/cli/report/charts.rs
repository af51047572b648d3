//! The charts of `qualify report`, drawn with plotters' SVG backend.
//!
//! plotters is built without fonts (no `ttf` feature): text is emitted as
//! SVG `<text>` elements, laid out by the browser, and its width is only
//! estimated here, so labels are short and get room to spare. The SVG
//! backend escapes every text and attribute it writes (`<`, `>`, `&`, `"`,
//! `'`), so names from a policy or a lead file cannot break out of the SVG;
//! `tests/report.rs` checks it with hostile names.
//!
//! Every function returns the `<svg>` element as a string, or why it could
//! not be drawn (the report then says so in place of the chart).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Not converted, converted, no outcome: the colours of the three kinds of
/// lead in every chart (and in the report's legends and tables).
pub(super) const NOT_COLOR: RGBColor = RGBColor(148, 163, 184);
pub(super) const WON_COLOR: RGBColor = RGBColor(22, 163, 74);
pub(super) const UNKNOWN_COLOR: RGBColor = RGBColor(203, 213, 225);
/// Leads per stage (funnel).
const LEADS_COLOR: RGBColor = RGBColor(37, 99, 235);
/// A conversion rate.
pub(super) const RATE_COLOR: RGBColor = RGBColor(37, 99, 235);
/// A share of conversions.
pub(super) const RECALL_COLOR: RGBColor = RGBColor(234, 88, 12);
/// The current threshold.
pub(super) const CURRENT_COLOR: RGBColor = RGBColor(220, 38, 38);
pub(super) const AXIS_COLOR: RGBColor = RGBColor(71, 85, 105);
const GRID_COLOR: RGBColor = RGBColor(226, 232, 240);
const FONT: &str = "sans-serif";

/// The colour as CSS `rgb(…)`, for HTML legends that match the charts.
pub(super) fn css(c: RGBColor) -> String {
    format!("rgb({},{},{})", c.0, c.1, c.2)
}

fn err(e: impl std::fmt::Display) -> String {
    format!("the chart could not be drawn: {e}")
}

/// Draw on a fresh SVG of `size`; a panic inside plotters (it should not
/// happen: every range given to it is finite and not empty) becomes an
/// error, never a crash of the report.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<String, String> {
    let mut out = String::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)
    }));
    match result {
        Ok(Ok(())) => Ok(out),
        Ok(Err(e)) => Err(e),
        Err(_) => Err("the chart could not be drawn (plotting failed)".into()),
    }
}

/// A range that plotters can draw: finite, and not empty.
fn span(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = (
        if lo.is_finite() { lo } else { 0.0 },
        if hi.is_finite() { hi } else { 1.0 },
    );
    if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    }
}

/// A number for an axis or a label: integers without decimals, others
/// with as few as make sense.
pub(super) fn short_number(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if (v - v.round()).abs() < 1e-9 {
        let r = v.round();
        if r.abs() >= 1e6 {
            return format!("{:.1}M", r / 1e6);
        }
        if r.abs() >= 1e4 {
            return format!("{:.0}k", r / 1e3);
        }
        return format!("{r:.0}");
    }
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn count_label(n: f64) -> String {
    let n = n.round();
    if n >= 1e6 {
        format!("{:.1}M", n / 1e6)
    } else if n >= 1e4 {
        format!("{:.0}k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}

fn pct_label(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

/// One stage of the funnel.
pub(super) struct StageBar {
    pub name: String,
    pub leads: u64,
    /// Conversion rate of its leads with an outcome.
    pub rate: Option<f64>,
}

/// Leads per stage (and, with an outcome, conversion rate per stage) as
/// horizontal bars, the highest stage on top. `stages` is lowest first.
pub(super) fn funnel(stages: &[StageBar], base: Option<f64>) -> Result<String, String> {
    let n = stages.len().max(1);
    let height = 70 + 46 * n as u32;
    let width = 1000;
    let with_rate = base.is_some();
    // Room for the longest stage name (about 7.5 px a character at 15 px).
    let longest = stages
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0);
    let label_room = (longest as u32 * 8 + 16).clamp(60, 260);
    svg((width, height), |root| {
        let (left, right) = if with_rate {
            root.split_horizontally(560)
        } else {
            root.split_horizontally(width)
        };
        let max = stages.iter().map(|s| s.leads).max().unwrap_or(0).max(1) as f64;
        let mut chart = ChartBuilder::on(&left)
            .margin_right(70)
            .margin_top(10)
            .caption("Leads per stage", (FONT, 22).into_font().color(&AXIS_COLOR))
            .x_label_area_size(28)
            .y_label_area_size(label_room)
            .build_cartesian_2d(0.0..max * 1.02, 0.0..n as f64 + 0.4)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(5)
            .x_label_formatter(&|v| count_label(*v))
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOR)
            .axis_style(AXIS_COLOR)
            .label_style((FONT, 16).into_font().color(&AXIS_COLOR))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(stages.iter().enumerate().map(|(i, s)| {
                let y = i as f64;
                Rectangle::new(
                    [(0.0, y + 0.18), (s.leads as f64, y + 0.82)],
                    LEADS_COLOR.filled(),
                )
            }))
            .map_err(err)?;
        let name_style = TextStyle::from((FONT, 18).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        let value_style = TextStyle::from((FONT, 16).into_font())
            .color(&AXIS_COLOR)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (i, s) in stages.iter().enumerate() {
            let (x0, y) = chart.backend_coord(&(0.0, i as f64 + 0.5));
            root.draw(&Text::new(s.name.clone(), (x0 - 8, y), &name_style))
                .map_err(err)?;
            let (x1, y) = chart.backend_coord(&(s.leads as f64, i as f64 + 0.5));
            root.draw(&Text::new(
                crate::check::policy::thousands(s.leads),
                (x1 + 6, y),
                &value_style,
            ))
            .map_err(err)?;
        }
        if !with_rate {
            return Ok(());
        }
        let mut chart = ChartBuilder::on(&right)
            .margin_left(10)
            .margin_right(60)
            .margin_top(10)
            .caption(
                "Conversion rate per stage",
                (FONT, 22).into_font().color(&AXIS_COLOR),
            )
            .x_label_area_size(28)
            .y_label_area_size(4)
            .build_cartesian_2d(0.0..1.0, 0.0..n as f64 + 0.4)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_label_formatter(&|v| pct_label(*v))
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOR)
            .axis_style(AXIS_COLOR)
            .label_style((FONT, 16).into_font().color(&AXIS_COLOR))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(stages.iter().enumerate().filter_map(|(i, s)| {
                let r = s.rate?.clamp(0.0, 1.0);
                let y = i as f64;
                Some(Rectangle::new(
                    [(0.0, y + 0.18), (r, y + 0.82)],
                    WON_COLOR.filled(),
                ))
            }))
            .map_err(err)?;
        for (i, s) in stages.iter().enumerate() {
            let r = s.rate.map(|r| r.clamp(0.0, 1.0));
            let (x1, y) = chart.backend_coord(&(r.unwrap_or(0.0), i as f64 + 0.5));
            let text = r.map_or("no outcome".to_string(), |r| format!("{:.1}%", r * 100.0));
            root.draw(&Text::new(text, (x1 + 6, y), &value_style))
                .map_err(err)?;
        }
        if let Some(b) = base.filter(|b| b.is_finite()) {
            let b = b.clamp(0.0, 1.0);
            chart
                .draw_series(DashedLineSeries::new(
                    [(b, 0.0), (b, n as f64 + 0.4)],
                    6,
                    4,
                    AXIS_COLOR.stroke_width(2),
                ))
                .map_err(err)?;
            let (x, y) = chart.backend_coord(&(b, n as f64 + 0.4));
            root.draw(&Text::new(
                format!("all leads: {:.1}%", b * 100.0),
                (x + 4, y + 2),
                TextStyle::from((FONT, 14).into_font())
                    .color(&AXIS_COLOR)
                    .pos(Pos::new(HPos::Left, VPos::Top)),
            ))
            .map_err(err)?;
        }
        Ok(())
    })
}

/// One bar of a score histogram: leads with `lo <= score < hi` (the last
/// bar includes `hi`).
pub(super) struct Bin {
    pub lo: f64,
    pub hi: f64,
    /// Not converted, converted, no outcome.
    pub counts: [u64; 3],
}

/// Leads per score bin, stacked by outcome, with the conversion rate of
/// each bin as a line on a second axis when the outcome is known.
pub(super) fn score_histogram(
    score: &str,
    bins: &[Bin],
    with_outcome: bool,
) -> Result<String, String> {
    let (x0, x1) = span(
        bins.first().map_or(0.0, |b| b.lo),
        bins.last().map_or(1.0, |b| b.hi),
    );
    let max = bins
        .iter()
        .map(|b| b.counts.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    svg((1000, 340), |root| {
        let mut builder = ChartBuilder::on(root);
        builder
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64);
        if with_outcome {
            builder.right_y_label_area_size(64);
        }
        let mut chart = builder
            .build_cartesian_2d(x0..x1, 0.0..max * 1.08)
            .map_err(err)?
            .set_secondary_coord(x0..x1, 0.0..1.0);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(12)
            .y_labels(6)
            .x_label_formatter(&|v| short_number(*v))
            .y_label_formatter(&|v| count_label(*v))
            .x_desc(format!("score {score}"))
            .y_desc("leads")
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOR)
            .axis_style(AXIS_COLOR)
            .label_style((FONT, 16).into_font().color(&AXIS_COLOR))
            .axis_desc_style((FONT, 17).into_font().color(&AXIS_COLOR))
            .draw()
            .map_err(err)?;
        // Stacked: not converted at the bottom, then converted, then no outcome.
        let layers = [(0usize, NOT_COLOR), (1, WON_COLOR), (2, UNKNOWN_COLOR)];
        for (k, color) in layers {
            if !bins.iter().any(|b| b.counts[k] > 0) {
                continue;
            }
            let color = if with_outcome { color } else { LEADS_COLOR };
            chart
                .draw_series(bins.iter().map(|b| {
                    let below: u64 = b.counts[..k].iter().sum();
                    let gap = (b.hi - b.lo) * 0.06;
                    Rectangle::new(
                        [
                            (b.lo + gap, below as f64),
                            (b.hi - gap, (below + b.counts[k]) as f64),
                        ],
                        color.filled(),
                    )
                }))
                .map_err(err)?;
        }
        if with_outcome {
            chart
                .configure_secondary_axes()
                .y_labels(6)
                .y_label_formatter(&|v| pct_label(*v))
                .y_desc("conversion rate")
                .axis_style(AXIS_COLOR)
                .label_style((FONT, 16).into_font().color(&AXIS_COLOR))
                .axis_desc_style((FONT, 17).into_font().color(&AXIS_COLOR))
                .draw()
                .map_err(err)?;
            // Bins with too few judged leads make a noisy line: leave them out.
            let points: Vec<(f64, f64)> = bins
                .iter()
                .filter(|b| b.counts[0] + b.counts[1] >= 5)
                .map(|b| {
                    let judged = (b.counts[0] + b.counts[1]) as f64;
                    ((b.lo + b.hi) / 2.0, b.counts[1] as f64 / judged)
                })
                .collect();
            chart
                .draw_secondary_series(LineSeries::new(
                    points.iter().copied(),
                    RATE_COLOR.stroke_width(2),
                ))
                .map_err(err)?;
            chart
                .draw_secondary_series(
                    points
                        .iter()
                        .map(|p| Circle::new(*p, 3, RATE_COLOR.filled())),
                )
                .map_err(err)?;
        }
        Ok(())
    })
}

/// One candidate threshold of a sweep.
pub(super) struct SweepPoint {
    pub threshold: f64,
    /// Share of the leads that pass.
    pub leads: f64,
    /// Conversion rate of the leads that pass.
    pub rate: Option<f64>,
    /// Share of all conversions among the leads that pass.
    pub recall: Option<f64>,
}

/// A threshold sweep: for each candidate threshold, the conversion rate
/// of the leads that would pass, their share of all conversions and their
/// share of the leads; the current threshold marked, the base rate as a
/// dotted line.
pub(super) fn sweep(
    test: &str,
    points: &[SweepPoint],
    current: f64,
    base: Option<f64>,
) -> Result<String, String> {
    let lo = points
        .iter()
        .map(|p| p.threshold)
        .chain([current])
        .fold(f64::INFINITY, f64::min);
    let hi = points
        .iter()
        .map(|p| p.threshold)
        .chain([current])
        .fold(f64::NEG_INFINITY, f64::max);
    let (x0, x1) = span(lo, hi);
    let pad = (x1 - x0) * 0.02;
    let (x0, x1) = (x0 - pad, x1 + pad);
    svg((1000, 340), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, 0.0..1.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(12)
            .y_labels(6)
            .x_label_formatter(&|v| short_number(*v))
            .y_label_formatter(&|v| pct_label(*v))
            .x_desc(format!("threshold: {test}"))
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID_COLOR)
            .axis_style(AXIS_COLOR)
            .label_style((FONT, 16).into_font().color(&AXIS_COLOR))
            .axis_desc_style((FONT, 17).into_font().color(&AXIS_COLOR))
            .draw()
            .map_err(err)?;
        let line = |f: &dyn Fn(&SweepPoint) -> Option<f64>| -> Vec<(f64, f64)> {
            points
                .iter()
                .filter_map(|p| f(p).filter(|v| v.is_finite()).map(|v| (p.threshold, v)))
                .collect()
        };
        let leads = line(&|p| Some(p.leads));
        chart
            .draw_series(LineSeries::new(leads, NOT_COLOR.stroke_width(2)))
            .map_err(err)?;
        if base.is_some() {
            let rate = line(&|p| p.rate);
            chart
                .draw_series(LineSeries::new(rate, RATE_COLOR.stroke_width(3)))
                .map_err(err)?;
            let recall = line(&|p| p.recall);
            chart
                .draw_series(LineSeries::new(recall, RECALL_COLOR.stroke_width(3)))
                .map_err(err)?;
        }
        if let Some(b) = base.filter(|b| b.is_finite()) {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x0, b), (x1, b)],
                    3,
                    4,
                    AXIS_COLOR.stroke_width(1),
                ))
                .map_err(err)?;
        }
        if current.is_finite() {
            chart
                .draw_series(DashedLineSeries::new(
                    [(current, 0.0), (current, 1.1)],
                    6,
                    4,
                    CURRENT_COLOR.stroke_width(2),
                ))
                .map_err(err)?;
            // Its label at the top, on the side with room.
            let right_half = current > x0 + (x1 - x0) * 0.8;
            let (x, y) = chart.backend_coord(&(current, 1.1));
            let (dx, h) = if right_half {
                (-6, HPos::Right)
            } else {
                (6, HPos::Left)
            };
            root.draw(&Text::new(
                format!("now: {}", short_number(current)),
                (x + dx, y + 2),
                TextStyle::from((FONT, 17).into_font())
                    .color(&CURRENT_COLOR)
                    .pos(Pos::new(h, VPos::Top)),
            ))
            .map_err(err)?;
            // The current values, as dots on the lines.
            let here = points
                .iter()
                .find(|p| p.threshold == current)
                .map(|p| [Some(p.leads), p.rate, p.recall]);
            if let Some(values) = here {
                let colors = [NOT_COLOR, RATE_COLOR, RECALL_COLOR];
                chart
                    .draw_series(values.iter().zip(colors).filter_map(|(v, c)| {
                        let v = (*v)?;
                        (v.is_finite() && (base.is_some() || c == NOT_COLOR))
                            .then(|| Circle::new((current, v), 5, c.filled()))
                    }))
                    .map_err(err)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(svg: &str, tag: &str) -> usize {
        svg.matches(&format!("<{tag}")).count()
    }

    #[test]
    fn funnel_draws_one_bar_per_stage_and_escapes_names() {
        let stages = vec![
            StageBar {
                name: "cold".into(),
                leads: 10,
                rate: Some(0.1),
            },
            StageBar {
                name: "<script>alert(1)</script>".into(),
                leads: 5,
                rate: None,
            },
        ];
        let svg = funnel(&stages, Some(0.3)).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(count(&svg, "rect") >= 3, "{svg}");
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
    }

    #[test]
    fn degenerate_inputs_still_draw() {
        assert!(funnel(&[], None).is_ok());
        assert!(score_histogram("s", &[], true).is_ok());
        let one = [Bin {
            lo: 5.0,
            hi: 5.0,
            counts: [1, 1, 0],
        }];
        assert!(score_histogram("s", &one, true).is_ok());
        assert!(sweep("s >= 1", &[], 1.0, None).is_ok());
        let p = [SweepPoint {
            threshold: f64::NAN,
            leads: f64::INFINITY,
            rate: Some(f64::NAN),
            recall: None,
        }];
        assert!(sweep("s >= 1", &p, f64::NAN, Some(f64::NAN)).is_ok());
    }

    #[test]
    fn sweep_marks_the_current_threshold() {
        let points: Vec<SweepPoint> = (0..10)
            .map(|t| SweepPoint {
                threshold: t as f64 * 10.0,
                leads: 1.0 - t as f64 / 10.0,
                rate: Some(0.3 + t as f64 / 20.0),
                recall: Some(1.0 - t as f64 / 12.0),
            })
            .collect();
        let svg = sweep("x >= 50", &points, 50.0, Some(0.3)).unwrap();
        assert!(count(&svg, "polyline") >= 3, "{svg}");
        assert!(svg.contains("now: 50"), "{svg}");
    }
}
