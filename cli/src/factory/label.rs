//! A device label: the setup code's QR code with its human-readable text under it, as SVG
//! (real text, any font) and as PNG (the text drawn with the 5×7 font of [`super::font`]).

use unbox_core::qr::{QUIET_ZONE_MODULES, QrError, QrImage};

use super::font::{GLYPH_HEIGHT, GLYPH_WIDTH, glyph};

/// PNG pixels per QR module.
const MODULE_PIXELS: usize = 8;
/// Font columns per character, the glyph and one blank column.
const ADVANCE: usize = GLYPH_WIDTH + 1;
/// Font rows per text line, the glyph and two blank rows.
const LINE_ROWS: usize = GLYPH_HEIGHT + 2;
/// Largest PNG pixels per font pixel.
const MAX_TEXT_SCALE: usize = 4;

/// A label ready to render.
pub struct Label {
    qr: QrImage,
    lines: Vec<String>,
}

/// Where everything goes, in PNG pixels (the SVG uses the same units).
struct Geometry {
    width: usize,
    height: usize,
    qr_left: usize,
    qr_side: usize,
    text_scale: usize,
    text_top: usize,
}

impl Label {
    /// A label for the QR `payload` with `lines` of text under it. Every character of the text
    /// must be in the PNG font (digits, capitals, `_ - : .` and space).
    pub fn new(payload: &str, lines: Vec<String>) -> Result<Self, String> {
        if let Some(c) = lines.iter().flat_map(|line| line.chars()).find(|&c| glyph(c).is_none()) {
            return Err(format!("the label text has `{c}`, which the label font cannot draw"));
        }
        let qr = QrImage::encode(payload).map_err(|error: QrError| error.to_string())?;
        Ok(Self { qr, lines })
    }

    fn geometry(&self) -> Geometry {
        let qr_side = (self.qr.width() + 2 * QUIET_ZONE_MODULES) * MODULE_PIXELS;
        let longest = self.lines.iter().map(|line| line.chars().count()).max().unwrap_or(0).max(1);
        let margin = QUIET_ZONE_MODULES * MODULE_PIXELS;
        let text_scale = ((qr_side - 2 * margin) / (longest * ADVANCE)).clamp(1, MAX_TEXT_SCALE);
        let width = qr_side.max(longest * ADVANCE * text_scale + 2 * margin);
        let text_height = self.lines.len() * LINE_ROWS * text_scale;
        Geometry {
            width,
            height: qr_side + text_height + margin,
            qr_left: (width - qr_side) / 2,
            qr_side,
            text_scale,
            text_top: qr_side,
        }
    }

    /// The dark QR modules as (column, row) positions, quiet zone excluded.
    fn dark_modules(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let width = self.qr.width();
        self.qr
            .modules()
            .into_iter()
            .enumerate()
            .filter(|(_, dark)| *dark)
            .map(move |(i, _)| (i % width, i / width))
    }

    /// An SVG document: the modules as one path, the text as centred monospace lines.
    pub fn svg(&self) -> String {
        let g = self.geometry();
        let offset = g.qr_left / MODULE_PIXELS + QUIET_ZONE_MODULES;
        let mut path = String::new();
        for (x, y) in self.dark_modules() {
            path.push_str(&format!("M{} {}h1v1h-1z", x + offset, y + QUIET_ZONE_MODULES));
        }
        let font_size = GLYPH_HEIGHT * g.text_scale * 10 / 7;
        let mut svg = format!(
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?>"#,
                "\n",
                r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#,
                "\n",
                r#"<rect width="{w}" height="{h}" fill="white"/>"#,
                "\n",
                r#"<path transform="scale({m})" fill="black" shape-rendering="crispEdges" d="{path}"/>"#,
                "\n"
            ),
            w = g.width,
            h = g.height,
            m = MODULE_PIXELS,
            path = path
        );
        for (index, line) in self.lines.iter().enumerate() {
            let baseline = g.text_top + (index * LINE_ROWS + GLYPH_HEIGHT) * g.text_scale;
            svg.push_str(&format!(
                r#"<text x="{}" y="{baseline}" text-anchor="middle" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="{font_size}" font-weight="bold">{}</text>"#,
                g.width / 2,
                xml_escape(line)
            ));
            svg.push('\n');
        }
        svg.push_str("</svg>\n");
        svg
    }

    /// A grayscale PNG: 8 pixels per module, the text in the 5×7 font scaled to fit.
    pub fn png(&self) -> Result<Vec<u8>, String> {
        let g = self.geometry();
        let mut pixels = vec![0xffu8; g.width * g.height];
        let mut fill = |left: usize, top: usize, side: usize| {
            for row in top..top + side {
                pixels[row * g.width + left..row * g.width + left + side].fill(0);
            }
        };
        let origin = g.qr_left + QUIET_ZONE_MODULES * MODULE_PIXELS;
        for (x, y) in self.dark_modules() {
            fill(
                origin + x * MODULE_PIXELS,
                QUIET_ZONE_MODULES * MODULE_PIXELS + y * MODULE_PIXELS,
                MODULE_PIXELS,
            );
        }
        let s = g.text_scale;
        for (index, line) in self.lines.iter().enumerate() {
            let line_width = line.chars().count() * ADVANCE * s - s;
            let left = (g.width - line_width) / 2;
            let top = g.text_top + index * LINE_ROWS * s;
            for (position, c) in line.chars().enumerate() {
                let rows = glyph(c).unwrap_or_default();
                for (row, bits) in rows.iter().enumerate() {
                    for column in 0..GLYPH_WIDTH {
                        if bits & (1 << (GLYPH_WIDTH - 1 - column)) != 0 {
                            fill(left + (position * ADVANCE + column) * s, top + row * s, s);
                        }
                    }
                }
            }
        }
        debug_assert_eq!(g.qr_side % MODULE_PIXELS, 0);
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, g.width as u32, g.height as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&pixels).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
        Ok(out)
    }
}

/// `text` with XML's special characters escaped.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOAD: &str = r#"{"ver":"v1","name":"PROV_3F9A2C","pop":"K7QM4XR9TW","transport":"ble","security":2,"username":"wifiprov"}"#;

    fn label() -> Label {
        Label::new(PAYLOAD, vec!["PROV_3F9A2C".into(), "CODE: K7QM4XR9TW".into()]).unwrap()
    }

    /// Decodes the PNG and scans its QR code with an independent reader.
    fn scan_png(bytes: &[u8]) -> (usize, usize, Vec<u8>, String) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        let (width, height) = (info.width as usize, info.height as usize);
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        let text = grids[0].decode().unwrap().1;
        (width, height, pixels, text)
    }

    #[test]
    fn the_png_scans_back_and_has_text_under_the_code() {
        let label = label();
        let g = label.geometry();
        let (width, height, pixels, text) = scan_png(&label.png().unwrap());
        assert_eq!(text, PAYLOAD);
        assert_eq!((width, height), (g.width, g.height));
        // Both text lines leave dark pixels below the QR code's quiet zone.
        for line in 0..2 {
            let top = g.text_top + line * LINE_ROWS * g.text_scale;
            let rows = top..top + GLYPH_HEIGHT * g.text_scale;
            let dark =
                rows.flat_map(|y| pixels[y * width..(y + 1) * width].to_vec()).filter(|&p| p == 0).count();
            assert!(dark > 50, "line {line}: {dark} dark pixels");
        }
        assert!(g.text_scale >= 2);
    }

    #[test]
    fn the_svg_has_the_modules_and_the_text() {
        let svg = label().svg();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains(">PROV_3F9A2C</text>"));
        assert!(svg.contains(">CODE: K7QM4XR9TW</text>"));
        let modules = label().qr.modules().iter().filter(|dark| **dark).count();
        assert_eq!(svg.matches("h1v1h-1z").count(), modules);
    }

    #[test]
    fn text_outside_the_font_is_refused() {
        assert!(Label::new(PAYLOAD, vec!["prov_lower".into()]).is_err());
    }
}
