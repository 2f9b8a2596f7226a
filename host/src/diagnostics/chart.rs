//! Graphs of the health history as PNG images (plotters): CPU, memory and the runtime's lag
//! over the hours asked for, one panel each, drawn without text so no font is needed (the embed
//! carries the scales).

use image::ImageEncoder as _;
use plotters::prelude::*;

use super::history::HistoryRow;

/// The image's size in pixels.
pub const WIDTH: u32 = 900;
/// See [`WIDTH`].
pub const HEIGHT: u32 = 540;

/// One panel: a figure of each row, its colour, and its scale (the panel's top).
pub struct Panel {
    /// What it shows, for the embed.
    pub name: &'static str,
    /// The unit, for the embed.
    pub unit: &'static str,
    /// The line's colour, named for the embed.
    pub colour_name: &'static str,
    colour: RGBColor,
    values: Vec<(f64, f64)>,
    /// The panel's top: the largest value, rounded up.
    pub top: f64,
}

/// Why no graph could be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// Fewer than two checks to draw a line through.
    #[error("fewer than two health checks in that time")]
    TooFew,
    /// Drawing failed.
    #[error("drawing the graph failed: {0}")]
    Draw(String),
    /// Encoding the PNG failed.
    #[error("encoding the graph failed: {0}")]
    Encode(String),
}

/// A round number at or above `value` (1, 2 or 5 times a power of ten), at least `floor`.
fn nice_top(value: f64, floor: f64) -> f64 {
    let value = value.max(floor);
    let magnitude = 10_f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|top| *top >= value)
        .unwrap_or(value)
}

/// The three panels of `rows`: CPU %, memory MB, lag ms.
pub fn panels(rows: &[HistoryRow]) -> Vec<Panel> {
    let start = rows.first().map_or(0, |r| r.at);
    let x = |row: &HistoryRow| (row.at - start) as f64;
    let make =
        |name, unit, colour_name, colour, floor, get: &dyn Fn(&HistoryRow) -> Option<f64>| {
            let values: Vec<(f64, f64)> = rows
                .iter()
                .filter_map(|row| get(row).map(|v| (x(row), v.max(0.0))))
                .collect();
            let top = nice_top(values.iter().map(|(_, v)| *v).fold(0.0, f64::max), floor);
            Panel {
                name,
                unit,
                colour_name,
                colour,
                values,
                top,
            }
        };
    vec![
        make(
            "CPU",
            "% of one core",
            "blue",
            RGBColor(88, 101, 242),
            10.0,
            &|r| r.cpu_percent,
        ),
        make("Memory", "MB", "green", RGBColor(59, 165, 93), 16.0, &|r| {
            r.rss_mb
        }),
        make(
            "Event loop lag",
            "ms",
            "orange",
            RGBColor(250, 166, 26),
            10.0,
            &|r| Some(r.lag_ms),
        ),
    ]
}

/// Draws `panels` (over `span` seconds) as a PNG.
pub fn render(panels: &[Panel], span: f64) -> Result<Vec<u8>, ChartError> {
    if panels.iter().all(|p| p.values.len() < 2) {
        return Err(ChartError::TooFew);
    }
    let mut pixels = vec![0_u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        let draw = |e: &dyn std::fmt::Display| ChartError::Draw(e.to_string());
        root.fill(&WHITE).map_err(|e| draw(&e))?;
        let areas = root.split_evenly((panels.len().max(1), 1));
        let grey = RGBColor(220, 221, 222);
        for (area, panel) in areas.iter().zip(panels) {
            let mut chart = ChartBuilder::on(area)
                .margin(10)
                .build_cartesian_2d(0.0..span.max(1.0), 0.0..panel.top)
                .map_err(|e| draw(&e))?;
            // A frame and quarter lines instead of labelled axes.
            for i in 0..=4 {
                let y = panel.top * f64::from(i) / 4.0;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(0.0, y), (span.max(1.0), y)],
                        grey,
                    )))
                    .map_err(|e| draw(&e))?;
            }
            chart
                .draw_series(LineSeries::new(
                    panel.values.iter().copied(),
                    panel.colour.stroke_width(2),
                ))
                .map_err(|e| draw(&e))?;
        }
        root.present().map_err(|e| draw(&e))?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&pixels, WIDTH, HEIGHT, image::ColorType::Rgb8)
        .map_err(|e| ChartError::Encode(e.to_string()))?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::grade::Tier;

    fn row(at: i64, cpu: f64) -> HistoryRow {
        HistoryRow {
            at,
            tier: Tier::Healthy,
            cpu_percent: Some(cpu),
            rss_mb: Some(40.0 + cpu),
            threads: Some(10),
            lag_ms: cpu / 10.0,
            commands_per_sec: 0.0,
            error_rate: 0.0,
            latency_ms: None,
            reasons: String::new(),
        }
    }

    #[test]
    fn a_history_draws_as_a_png_with_round_scales() {
        let rows: Vec<HistoryRow> = (0..30)
            .map(|i| row(i * 60, f64::from(i as u8) * 2.5))
            .collect();
        let panels = panels(&rows);
        assert_eq!(
            panels.iter().map(|p| p.top).collect::<Vec<_>>(),
            [100.0, 200.0, 10.0]
        );
        let png = render(&panels, 29.0 * 60.0).expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoded = image::load_from_memory(&png).expect("decodes");
        assert_eq!((decoded.width(), decoded.height()), (WIDTH, HEIGHT));
    }

    #[test]
    fn one_check_is_too_few() {
        assert!(matches!(
            render(&panels(&[row(0, 1.0)]), 60.0),
            Err(ChartError::TooFew)
        ));
        assert_eq!(nice_top(0.0, 10.0), 10.0);
        assert_eq!(nice_top(73.0, 10.0), 100.0);
        assert_eq!(nice_top(120.0, 10.0), 200.0);
    }
}
