//! A figure: its header (title, wrapped subtitle, legend above the plot,
//! never on the data) and a body that draws itself, written as SVG and
//! PNG.

use super::draw::{err, DrawResult};
use super::style::{
    bold, font, text_width, LEGEND_SIZE, MARGIN, MUTED, SUBTITLE_SIZE, TITLE_SIZE, WIDTH,
};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::io;
use std::path::{Path, PathBuf};

/// A legend entry: a swatch and its label.
pub(crate) struct Key {
    pub(crate) label: String,
    colour: RGBColor,
    swatch: Swatch,
}

/// How a legend entry shows what it names.
#[derive(Clone, Copy)]
pub(crate) enum Swatch {
    /// A line.
    Line,
    /// A dashed line.
    Dashed,
    /// A thin line through a dot.
    LineDot,
    Dot,
    /// A ring.
    Hollow,
    /// A filled box of this opacity, outlined.
    Area(f64),
    Cross,
}

pub(crate) fn key(label: impl Into<String>, colour: RGBColor, swatch: Swatch) -> Key {
    Key {
        label: label.into(),
        colour,
        swatch,
    }
}

/// Title, subtitle paragraphs and legend.
pub(crate) struct Header {
    pub(crate) title: String,
    pub(crate) subtitle: Vec<String>,
    pub(crate) legend: Vec<Key>,
}

/// Where the header's text goes.
struct HeaderLayout {
    title: Vec<String>,
    subtitle: Vec<(i32, String)>,
    legend: Vec<(i32, i32)>,
    height: u32,
}

/// How a kind of figure sets its header.
pub(crate) struct HeaderStyle {
    /// Where legend rows start.
    pub(crate) legend_left: i32,
    /// Whether a long title wraps (else it stays on one line).
    pub(crate) wrap_title: bool,
    /// Room below the header, past the last text.
    pub(crate) pad: i32,
}

/// Splits `text` into lines no wider than `max` pixels.
pub(crate) fn wrap(text: &str, size: u32, bold: bool, max: i32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(&candidate, size, bold) > max {
            lines.push(std::mem::take(&mut line));
            line = word.to_string();
        } else {
            line = candidate;
        }
    }
    lines.push(line);
    lines
}

/// Places legend entries (a swatch and a label `text_widths` wide) left to
/// right from (`left`, `top`), wrapping at the right margin; returns each
/// entry's top-left corner and the last row's y.
fn flow_legend(
    text_widths: impl Iterator<Item = i32>,
    left: i32,
    top: i32,
) -> (Vec<(i32, i32)>, i32) {
    let mut at = Vec::new();
    let (mut x, mut y) = (left, top);
    for w in text_widths {
        let need = 34 + w + 28;
        if x + need > WIDTH as i32 - MARGIN && x > left {
            x = left;
            y += 26;
        }
        at.push((x, y));
        x += need;
    }
    (at, y)
}

impl Header {
    /// Wraps the subtitle (and title) to the chart's width and places the
    /// legend items in rows; text widths come from the bundled font, so
    /// the layout is the same for SVG and PNG.
    fn layout(&self, style: &HeaderStyle) -> HeaderLayout {
        let max_w = WIDTH as i32 - 2 * MARGIN;
        let title = if style.wrap_title {
            wrap(&self.title, TITLE_SIZE, true, max_w)
        } else {
            vec![self.title.clone()]
        };
        let mut y = 16 + 36 * title.len() as i32 + 2;
        let mut subtitle = Vec::new();
        for para in &self.subtitle {
            for line in wrap(para, SUBTITLE_SIZE, false, max_w) {
                subtitle.push((y, line));
                y += 24;
            }
        }
        let legend_top = y + 6;
        let (legend, ly) = flow_legend(
            self.legend
                .iter()
                .map(|i| text_width(&i.label, LEGEND_SIZE, false)),
            style.legend_left,
            legend_top,
        );
        let height = if self.legend.is_empty() {
            legend_top + style.pad
        } else {
            ly + 30 + style.pad
        };
        HeaderLayout {
            title,
            subtitle,
            legend,
            height: height as u32,
        }
    }
}

/// What a figure draws below its header.
pub(crate) trait Body {
    /// How the header is set (by default, the study charts' way).
    const HEADER: HeaderStyle = HeaderStyle {
        legend_left: MARGIN,
        wrap_title: true,
        pad: 4,
    };

    /// Height below the header.
    fn height(&self) -> u32;

    /// Draws on `body`, the area below the header of `root`.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        body: &DrawingArea<DB, Shift>,
    ) -> DrawResult;
}

/// A backend-independent description of one chart, named `name`.
pub(crate) struct Figure<B, N = String> {
    pub(crate) name: N,
    pub(crate) head: Header,
    pub(crate) body: B,
}

/// A figure written by [`Figure::write`].
pub(crate) struct Written {
    pub(crate) svg: String,
    pub(crate) svg_path: PathBuf,
    pub(crate) png_path: PathBuf,
}

impl<B: Body, N: AsRef<str>> Figure<B, N> {
    /// Writes the figure into `dir` as `<name>.svg` and `<name>.png`.
    pub(crate) fn write(&self, dir: &Path) -> io::Result<Written> {
        let name = self.name.as_ref();
        let svg_path = dir.join(format!("{name}.svg"));
        let png_path = dir.join(format!("{name}.png"));
        let lay = self.head.layout(&B::HEADER);
        let size = (WIDTH, lay.height + self.body.height());
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            self.render(&lay, &root).map_err(io::Error::other)?;
            root.present()
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        std::fs::write(&svg_path, &svg)?;
        {
            let root = BitMapBackend::new(&png_path, size).into_drawing_area();
            self.render(&lay, &root).map_err(io::Error::other)?;
            root.present()
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        Ok(Written {
            svg,
            svg_path,
            png_path,
        })
    }

    /// Draws the figure on `root`, whatever the backend.
    fn render<DB: DrawingBackend>(
        &self,
        lay: &HeaderLayout,
        root: &DrawingArea<DB, Shift>,
    ) -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
        for (k, line) in lay.title.iter().enumerate() {
            root.draw(&Text::new(
                line.clone(),
                (MARGIN, 16 + 36 * k as i32),
                bold(TITLE_SIZE),
            ))
            .map_err(err)?;
        }
        let muted = font(SUBTITLE_SIZE).color(&MUTED);
        for (y, line) in &lay.subtitle {
            root.draw(&Text::new(line.clone(), (MARGIN, *y), muted.clone()))
                .map_err(err)?;
        }
        for (item, &(lx, y)) in self.head.legend.iter().zip(&lay.legend) {
            draw_swatch(root, item, lx, y + 7)?;
            root.draw(&Text::new(
                item.label.clone(),
                (lx + 34, y),
                font(LEGEND_SIZE),
            ))
            .map_err(err)?;
        }
        let body = root.split_vertically(lay.height).1;
        self.body.draw(root, &body)
    }
}

/// Writes figures into a directory, created with the first one.
pub(crate) struct Files<'a> {
    dir: &'a Path,
    paths: Vec<PathBuf>,
}

impl<'a> Files<'a> {
    pub(crate) fn new(dir: &'a Path) -> Files<'a> {
        Files {
            dir,
            paths: Vec::new(),
        }
    }

    pub(crate) fn write<B: Body>(&mut self, fig: &Figure<B>) -> io::Result<()> {
        if self.paths.is_empty() {
            std::fs::create_dir_all(self.dir)?;
        }
        let w = fig.write(self.dir)?;
        self.paths.extend([w.svg_path, w.png_path]);
        Ok(())
    }

    /// Every file written: SVG then PNG for each figure.
    pub(crate) fn paths(self) -> Vec<PathBuf> {
        self.paths
    }
}

fn draw_swatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    item: &Key,
    lx: i32,
    cy: i32,
) -> DrawResult {
    let c = item.colour;
    let line = |width: u32| PathElement::new(vec![(lx, cy), (lx + 26, cy)], c.stroke_width(width));
    match item.swatch {
        Swatch::Line => root.draw(&line(3)).map_err(err)?,
        Swatch::Dashed => {
            for k in 0..3 {
                root.draw(&PathElement::new(
                    vec![(lx + k * 10, cy), (lx + k * 10 + 6, cy)],
                    c.stroke_width(3),
                ))
                .map_err(err)?;
            }
        }
        Swatch::LineDot => {
            root.draw(&line(2)).map_err(err)?;
            root.draw(&Circle::new((lx + 13, cy), 5, c.filled()))
                .map_err(err)?;
        }
        Swatch::Dot => root
            .draw(&Circle::new((lx + 13, cy), 6, c.filled()))
            .map_err(err)?,
        Swatch::Hollow => root
            .draw(&Circle::new((lx + 13, cy), 5, c.stroke_width(2)))
            .map_err(err)?,
        Swatch::Area(opacity) => {
            let corners = [(lx, cy - 7), (lx + 26, cy + 7)];
            root.draw(&Rectangle::new(corners, c.mix(opacity).filled()))
                .map_err(err)?;
            root.draw(&Rectangle::new(corners, c.stroke_width(1)))
                .map_err(err)?;
        }
        Swatch::Cross => root
            .draw(&Cross::new((lx + 13, cy), 6, c.stroke_width(3)))
            .map_err(err)?,
    }
    Ok(())
}
