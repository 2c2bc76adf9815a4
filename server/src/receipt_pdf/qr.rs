//! QR code geometry. The PDF draws exactly the rectangles returned by
//! [`qr_rects`], so tests can rasterise them and decode the symbol.

use crate::receipt_pdf::PdfError;
use qrcode::{Color, EcLevel, QrCode};

/// Quiet zone width, in modules, on each side (ISO/IEC 18004 minimum).
pub const QUIET_ZONE: usize = 4;

/// The QR module matrix (without quiet zone), row-major, `true` = dark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrMatrix {
    pub width: usize,
    pub dark: Vec<bool>,
}

impl QrMatrix {
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }
}

/// Encode `data` with error-correction level M.
pub fn qr_matrix(data: &str) -> Result<QrMatrix, PdfError> {
    let code =
        QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).map_err(|e| PdfError::Qr(e.to_string()))?;
    let width = code.width();
    let dark = code.to_colors().into_iter().map(|c| c == Color::Dark).collect();
    Ok(QrMatrix { width, dark })
}

/// A filled rectangle, `[x, y, w, h]` in millimetres, y measured downwards
/// from the top of the page.
pub type MmRect = [f32; 4];

/// Placement of a QR symbol on the page.
#[derive(Clone, Debug)]
pub struct QrPlacement {
    /// Dark-module rectangles (horizontal runs merged).
    pub rects: Vec<MmRect>,
    /// Side of one module in mm.
    pub module_mm: f32,
    /// Total side including the quiet zone, in mm.
    pub total_mm: f32,
}

/// Lay out the QR for `data` with its top-left quiet-zone corner at
/// (`x`, `y`) mm, sized so the symbol itself (without quiet zone) is
/// `symbol_mm` wide.
pub fn qr_rects(data: &str, x: f32, y: f32, symbol_mm: f32) -> Result<QrPlacement, PdfError> {
    let m = qr_matrix(data)?;
    let module = symbol_mm / m.width as f32;
    let ox = x + QUIET_ZONE as f32 * module;
    let oy = y + QUIET_ZONE as f32 * module;
    let mut rects = Vec::new();
    for row in 0..m.width {
        let mut col = 0;
        while col < m.width {
            if !m.is_dark(col, row) {
                col += 1;
                continue;
            }
            let start = col;
            while col < m.width && m.is_dark(col, row) {
                col += 1;
            }
            rects.push([ox + start as f32 * module, oy + row as f32 * module, (col - start) as f32 * module, module]);
        }
    }
    Ok(QrPlacement { rects, module_mm: module, total_mm: (m.width + 2 * QUIET_ZONE) as f32 * module })
}

/// Side of the whole QR block (symbol + quiet zone) for a given symbol width.
pub fn qr_total_mm(data: &str, symbol_mm: f32) -> Result<f32, PdfError> {
    let w = qr_matrix(data)?.width;
    Ok(symbol_mm * (w + 2 * QUIET_ZONE) as f32 / w as f32)
}
