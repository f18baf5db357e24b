//! QR code images of any payload text: an SVG document, a module matrix for the phone shells
//! to draw natively, and a Unicode half-block rendering for terminals.

use std::fmt;

use qrcode::render::{svg, unicode};
use qrcode::{Color, EcLevel, QrCode};

use super::QrError;

/// Error correction used for every code: level M survives about 15% damage (screen glare,
/// creases) while keeping codes small enough for quick scanning.
const EC_LEVEL: EcLevel = EcLevel::M;
/// Light modules around the code required by the QR specification.
pub const QUIET_ZONE_MODULES: usize = 4;
/// Pixels per module in the SVG's coordinate system (it scales freely).
const SVG_MODULE_PIXELS: u32 = 8;

/// Which colour the terminal draws the blocks in, relative to its background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminalBackground {
    /// Light text on a dark background (most terminals): light modules are drawn as blocks.
    Dark,
    /// Dark text on a light background: dark modules are drawn as blocks.
    Light,
}

/// An encoded QR code.
#[derive(Clone)]
pub struct QrImage {
    code: QrCode,
}

impl QrImage {
    /// Encodes `text` (as bytes, UTF-8) with error correction level M.
    pub fn encode(text: &str) -> Result<Self, QrError> {
        QrCode::with_error_correction_level(text.as_bytes(), EC_LEVEL)
            .map(|code| Self { code })
            .map_err(|_| QrError::TooLongForQr { bytes: text.len() })
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.code.width()
    }

    /// Row-major modules, `true` for dark, `width() * width()` of them, without the quiet zone
    /// (leave [`QUIET_ZONE_MODULES`] light modules around when drawing).
    pub fn modules(&self) -> Vec<bool> {
        self.code.to_colors().into_iter().map(|color| color == Color::Dark).collect()
    }

    /// The modules as rows, `true` for dark, without the quiet zone.
    pub fn rows(&self) -> Vec<Vec<bool>> {
        self.modules().chunks(self.width().max(1)).map(<[bool]>::to_vec).collect()
    }

    /// A standalone SVG document: black modules on white, quiet zone included, 8 units per
    /// module (it scales to any size).
    pub fn svg(&self) -> String {
        self.code
            .render::<svg::Color<'_>>()
            .quiet_zone(true)
            .module_dimensions(SVG_MODULE_PIXELS, SVG_MODULE_PIXELS)
            .build()
    }

    /// Half-block text (two module rows per line), quiet zone included, for printing in a
    /// terminal whose background is `background`.
    pub fn terminal(&self, background: TerminalBackground) -> String {
        let mut renderer = self.code.render::<unicode::Dense1x2>();
        renderer.quiet_zone(true).module_dimensions(1, 1);
        if background == TerminalBackground::Dark {
            renderer.dark_color(unicode::Dense1x2::Light).light_color(unicode::Dense1x2::Dark);
        }
        renderer.build()
    }
}

impl fmt::Debug for QrImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The modules encode the payload, which may hold secrets: show only the size.
        f.debug_struct("QrImage").field("width", &self.width()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "UNBOX:1;S:Home;P:correct horse;C:clm_8f3a;;";

    /// Decodes a light/dark bitmap (quiet zone included) with an independent QR reader.
    fn scan(width: usize, height: usize, is_dark: impl Fn(usize, usize) -> bool) -> String {
        const SCALE: usize = 4;
        let mut image = rqrr::PreparedImage::prepare_from_bitmap(width * SCALE, height * SCALE, |x, y| {
            is_dark(x / SCALE, y / SCALE)
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "expected exactly one QR code");
        grids[0].decode().unwrap().1
    }

    #[test]
    fn module_matrix_scans_back_to_the_text() {
        let image = QrImage::encode(TEXT).unwrap();
        let width = image.width();
        let rows = image.rows();
        assert_eq!(rows.len(), width);
        assert!(rows.iter().all(|row| row.len() == width));
        assert_eq!(image.modules().len(), width * width);
        let full = width + 2 * QUIET_ZONE_MODULES;
        let decoded = scan(full, full, |x, y| {
            let (Some(x), Some(y)) = (x.checked_sub(QUIET_ZONE_MODULES), y.checked_sub(QUIET_ZONE_MODULES))
            else {
                return false;
            };
            rows.get(y).and_then(|row| row.get(x)).copied().unwrap_or(false)
        });
        assert_eq!(decoded, TEXT);
    }

    #[test]
    fn terminal_rendering_scans_back_on_both_backgrounds() {
        let image = QrImage::encode(TEXT).unwrap();
        for background in [TerminalBackground::Dark, TerminalBackground::Light] {
            let text = image.terminal(background);
            let lines: Vec<Vec<char>> = text.lines().map(|line| line.chars().collect()).collect();
            let full = image.width() + 2 * QUIET_ZONE_MODULES;
            assert_eq!(lines.len(), full.div_ceil(2));
            assert!(lines.iter().all(|line| line.len() == full));
            // Blocks are drawn in the terminal's text colour: light on a dark background.
            let block_is_dark = background == TerminalBackground::Light;
            let decoded = scan(full, full, |x, y| {
                let cell = lines.get(y / 2).and_then(|line| line.get(x)).copied().unwrap_or(' ');
                let block = matches!((cell, y % 2), ('█', _) | ('▀', 0) | ('▄', 1));
                block == block_is_dark
            });
            assert_eq!(decoded, TEXT, "{background:?}");
        }
    }

    #[test]
    fn svg_is_sized_to_the_code_with_its_quiet_zone() {
        let image = QrImage::encode(TEXT).unwrap();
        let side = (image.width() + 2 * QUIET_ZONE_MODULES) * SVG_MODULE_PIXELS as usize;
        let svg = image.svg();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains(&format!(r#"width="{side}" height="{side}""#)));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn reports_text_too_long_and_hides_content_in_debug() {
        let long = "x".repeat(3000);
        assert_eq!(QrImage::encode(&long).unwrap_err(), QrError::TooLongForQr { bytes: 3000 });
        let image = QrImage::encode("WIFI:S:n;P:secret;;").unwrap();
        assert_eq!(format!("{image:?}"), "QrImage { width: 25, .. }");
    }
}
