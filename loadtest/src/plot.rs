//! The PNG plot: per-second p99 latency of every series (log scale) above per-second throughput, over the run, with
//! each timed phase's window shaded (the figures come from there; warm-up and drain lie outside). Text uses DejaVu
//! Sans from the `dejavu` crate, so no system font is needed.

use std::path::Path;
use std::sync::Once;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::report::Report;

const FONT: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Only fails on a corrupt font file, which would then show up as missing text, not a failed run.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

type Line = (String, Vec<(f64, f64)>);

/// One line per (phase, series): per-second values picked by `value`.
fn lines(report: &Report, value: impl Fn(&crate::report::Second) -> f64) -> Vec<Line> {
    report
        .phases
        .iter()
        .flat_map(|p| p.series.iter().map(move |(name, s)| (p, name, s)))
        .map(|(p, name, s)| {
            let label = format!("{}/{} ({})", p.name, name, s.unit);
            // Each point at the middle of its second, so the lines line up with the shaded windows.
            (
                label,
                s.timeline.iter().map(|t| (f64::from(t.t) + 0.5, value(t))).collect(),
            )
        })
        .filter(|(_, points): &Line| !points.is_empty())
        .collect()
}

/// The x range end, and the y range (positive, for a log scale) with some headroom.
fn bounds(lines: &[Line]) -> (f64, f64, f64) {
    let points = lines.iter().flat_map(|(_, p)| p.iter());
    let max_t = points.clone().map(|p| p.0).fold(1.0, f64::max) + 1.0;
    let max_y = points.clone().map(|p| p.1).fold(0.0, f64::max).max(1e-3) * 1.2;
    let min_y = points.map(|p| p.1).filter(|v| *v > 0.0).fold(max_y, f64::min) * 0.8;
    (max_t, min_y, max_y)
}

/// The timed phases' windows, in seconds since the run's start.
fn windows(report: &Report) -> Vec<(f64, f64)> {
    report
        .phases
        .iter()
        .filter(|p| p.window.asked_secs.is_some())
        .map(|p| (p.window.start_s, p.window.start_s + p.window.secs))
        .collect()
}

fn color(i: usize) -> RGBColor {
    let (r, g, b) = Palette99::pick(i).to_rgba().rgb();
    RGBColor(r, g, b)
}

fn draw_chart(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    caption: &str,
    (lines, windows): (&[Line], &[(f64, f64)]),
    log: bool,
) -> anyhow::Result<()> {
    let e = |e: DrawingAreaErrorKind<_>| anyhow!("drawing the plot: {e}");
    let (max_t, min_y, max_y) = bounds(lines);
    let floor = if log { min_y } else { 0.0 };
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(caption, (FONT, 20))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(70);
    let colors: Vec<RGBColor> = (0..lines.len()).map(color).collect();
    macro_rules! plot {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc("seconds since start")
                .label_style((FONT, 14))
                .draw()
                .map_err(e)?;
            chart
                .draw_series(
                    windows
                        .iter()
                        .map(|&(from, to)| Rectangle::new([(from, floor), (to, max_y)], BLACK.mix(0.07).filled())),
                )
                .map_err(e)?;
            for ((label, points), color) in lines.iter().zip(colors) {
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))
                    .map_err(e)?
                    .label(label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
            }
            chart
                .configure_series_labels()
                .label_font((FONT, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(e)?;
        }};
    }
    if log {
        plot!(
            builder
                .build_cartesian_2d(0f64..max_t, (min_y..max_y).log_scale())
                .map_err(e)?
        );
    } else {
        plot!(builder.build_cartesian_2d(0f64..max_t, 0f64..max_y).map_err(e)?);
    }
    Ok(())
}

/// Writes the plot of `report` to `path`.
pub fn draw(report: &Report, path: &Path) -> anyhow::Result<()> {
    register_font();
    let root = BitMapBackend::new(path, (1280, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("drawing the plot: {e}"))?;
    let (top, bottom) = root.split_vertically(450);
    let title = format!(
        "{} ({}) run {}: p99 latency per second, ms (log); shaded: measured windows",
        report.scenario, report.mode, report.run_id
    );
    let windows = windows(report);
    draw_chart(&top, &title, (&lines(report, |s| s.p99_ms), &windows), true)?;
    draw_chart(
        &bottom,
        "throughput per second (units/s)",
        (&lines(report, |s| s.units as f64), &windows),
        false,
    )?;
    root.present().map_err(|e| anyhow!("writing {}: {e}", path.display()))
}
