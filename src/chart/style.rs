//! The house style: sizes, colours and the bundled font.

use plotters::prelude::*;
use plotters::style::FontStyle;

/// Colours of components, by their position in the scenario: Tableau 10
/// without its red (which marks SLOs and rejections), then indigo, olive
/// and dark cyan, so that twelve series stay apart.
pub const PALETTE: [RGBColor; 12] = [
    RGBColor(0x4e, 0x79, 0xa7), // blue
    RGBColor(0xf2, 0x8e, 0x2b), // orange
    RGBColor(0x59, 0xa1, 0x4f), // green
    RGBColor(0xb0, 0x7a, 0xa1), // purple
    RGBColor(0x76, 0xb7, 0xb2), // teal
    RGBColor(0x9c, 0x75, 0x5f), // brown
    RGBColor(0xed, 0xc9, 0x48), // yellow
    RGBColor(0xff, 0x9d, 0xa7), // pink
    RGBColor(0xba, 0xb0, 0xac), // grey
    RGBColor(0x5d, 0x4e, 0xa3), // indigo
    RGBColor(0x8c, 0x8c, 0x2e), // olive
    RGBColor(0x1f, 0x6f, 0x8b), // dark cyan
];

/// The `i`-th colour: a component's by its position in the scenario, a
/// line's by its rank. Past the [`PALETTE`], each round is a darker shade
/// of it (twelve more colours, then twelve darker still), so that no two
/// of the first 36 series share a colour.
pub(crate) fn palette(i: usize) -> RGBColor {
    let c = PALETTE[i % PALETTE.len()];
    let dark = match i / PALETTE.len() {
        0 => return c,
        1 => 0.6,
        _ => 0.38,
    };
    let shade = |v: u8| (f64::from(v) * dark).round() as u8;
    RGBColor(shade(c.0), shade(c.1), shade(c.2))
}

/// Width of every chart.
pub(crate) const WIDTH: u32 = 1200;
/// Left and right margin of the header text.
pub(crate) const MARGIN: i32 = 24;
pub(crate) const TITLE_SIZE: u32 = 26;
pub(crate) const SUBTITLE_SIZE: u32 = 16;
pub(crate) const LEGEND_SIZE: u32 = 16;
/// The size of tick labels.
pub(crate) const TICK_SIZE: u32 = 15;
/// The size of axis descriptions.
pub(crate) const DESC_SIZE: u32 = 16;
const FONT: &str = "sans-serif";

pub(crate) const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(crate) const MUTED: RGBColor = RGBColor(0x5f, 0x63, 0x68);
pub(crate) const GRID: RGBColor = RGBColor(0xd0, 0xd4, 0xd9);
pub(crate) const GRID_LIGHT: RGBColor = RGBColor(0xec, 0xee, 0xf1);
/// Virtual users (the load chart's lower panel): indigo, apart from the
/// request rates above it.
pub(crate) const USERS: RGBColor = RGBColor(0x5d, 0x4e, 0xa3);
/// SLOs, rejections, failures.
pub(crate) const SLO_RED: RGBColor = RGBColor(0xd6, 0x27, 0x28);
/// Requests that gave up waiting (`queue_timeout`): a darker red, apart
/// from rejections.
pub(crate) const TIMED_OUT: RGBColor = RGBColor(0x8c, 0x1a, 0x4b);
/// Requests lost to instance failures: black, apart from both.
pub(crate) const FAILED: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// The total over stacked components.
pub(crate) const TOTAL: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// Desired capacity and forecasts; the highlight of study charts.
pub(crate) const DESIRED: RGBColor = RGBColor(0xe6, 0x55, 0x0d);
pub(crate) const OFFERED: RGBColor = RGBColor(0x5b, 0x6b, 0x7f);
/// Throughput; what passes.
pub(crate) const THROUGHPUT: RGBColor = RGBColor(0x1b, 0x9e, 0x77);
pub(crate) const P50: RGBColor = RGBColor(0x6b, 0xae, 0xd6);
pub(crate) const P95: RGBColor = RGBColor(0x21, 0x71, 0xb5);
pub(crate) const P99: RGBColor = RGBColor(0x08, 0x30, 0x6b);
pub(crate) const MEAN: RGBColor = RGBColor(0x7b, 0x7b, 0x7b);

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the bundled DejaVu Sans as plotters' `sans-serif` (regular
/// and bold). Idempotent; returns false if a font failed to load.
pub fn register_fonts() -> bool {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ONCE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, REGULAR).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, BOLD).is_ok()
    })
}

/// Registers the bundled font (see [`register_fonts`]), which drawing and
/// text measurements need.
pub(crate) fn fonts() -> std::io::Result<()> {
    if register_fonts() {
        Ok(())
    } else {
        Err(std::io::Error::other(
            "the bundled chart font failed to load",
        ))
    }
}

/// Text in the house font.
pub(crate) fn font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&TEXT)
}

/// Bold text in the house font.
pub(crate) fn bold(size: u32) -> TextStyle<'static> {
    (FONT, size, FontStyle::Bold).into_font().color(&TEXT)
}

/// The width of `text` in pixels, from the bundled font (so the layout is
/// the same in SVG and PNG).
pub(crate) fn text_width(text: &str, size: u32, bold: bool) -> i32 {
    let f = if bold {
        (FONT, size, FontStyle::Bold).into_font()
    } else {
        (FONT, size).into_font()
    };
    f.box_size(text)
        .map(|b| b.0 as i32)
        .unwrap_or(text.chars().count() as i32 * size as i32 / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_36_series_have_their_own_colours() {
        let colours: std::collections::BTreeSet<(u8, u8, u8)> =
            (0..36).map(palette).map(|c| (c.0, c.1, c.2)).collect();
        assert_eq!(colours.len(), 36);
        assert!(!colours.contains(&(SLO_RED.0, SLO_RED.1, SLO_RED.2)));
    }

    #[test]
    fn bundled_fonts_load() {
        assert!(register_fonts());
        let (w, h) = (FONT, 16).into_font().box_size("scalesim").unwrap();
        assert!(w > 40 && h > 8, "{w}x{h}");
    }
}
