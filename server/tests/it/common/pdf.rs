//! Reading the PDFs the portal renders (tests only): their text, and the
//! QR code drawn in them decoded back with a QR decoder (`rqrr`).

use lopdf::content::Content;
use lopdf::Document;
use server::receipt_pdf::qr::QUIET_ZONE;

/// All pages' extracted text with every run of whitespace collapsed to one
/// space (wrapped lines come out as separate lines).
pub fn text(doc: &Document) -> String {
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let raw = doc.extract_text(&pages).expect("text extraction");
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Rasterise dark rectangles (x, y, w, h; any units, y either direction)
/// and decode them with rqrr.
pub fn decode_rects(rects: &[[f32; 4]], module: f32) -> String {
    let px = 6.0 / module; // 6 px per module
    let min_x = rects.iter().map(|r| r[0]).fold(f32::MAX, f32::min);
    let min_y = rects.iter().map(|r| r[1]).fold(f32::MAX, f32::min);
    let max_x = rects.iter().map(|r| r[0] + r[2]).fold(f32::MIN, f32::max);
    let max_y = rects.iter().map(|r| r[1] + r[3]).fold(f32::MIN, f32::max);
    let margin = (QUIET_ZONE as f32 * module * px).round() as usize;
    let w = ((max_x - min_x) * px).round() as usize + 2 * margin;
    let h = ((max_y - min_y) * px).round() as usize + 2 * margin;
    let mut img = vec![255u8; w * h];
    for r in rects {
        let x0 = ((r[0] - min_x) * px).round() as usize + margin;
        let y0 = ((r[1] - min_y) * px).round() as usize + margin;
        let x1 = ((r[0] + r[2] - min_x) * px).round() as usize + margin;
        let y1 = ((r[1] + r[3] - min_y) * px).round() as usize + margin;
        for y in y0..y1 {
            img[y * w + x0..y * w + x1].fill(0);
        }
    }
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| img[y * w + x]);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR symbol");
    grids[0].decode().expect("QR decodes").1
}

/// The `re` operands inside the page's `/QR BMC … EMC` block, in points.
pub fn qr_rects_in_pdf(doc: &Document) -> Vec<[f32; 4]> {
    let mut out = Vec::new();
    for (_, page_id) in doc.get_pages() {
        let content = Content::decode(&doc.get_page_content(page_id)).unwrap();
        let mut inside = false;
        for op in content.operations {
            match op.operator.as_str() {
                "BMC" => inside = op.operands[0].as_name().unwrap() == b"QR",
                "EMC" => inside = false,
                "re" if inside => {
                    let n: Vec<f32> = op.operands.iter().map(|o| o.as_float().unwrap()).collect();
                    // Flip y so rows read top-down like the matrix.
                    out.push([n[0], -(n[1] + n[3]), n[2], n[3]]);
                }
                _ => {}
            }
        }
    }
    out
}

/// The QR code drawn in a PDF's `/QR` block, decoded.
pub fn qr_in_pdf(doc: &Document) -> String {
    let rects = qr_rects_in_pdf(doc);
    assert!(!rects.is_empty(), "no QR block in the PDF");
    let module = rects.iter().map(|r| r[3]).fold(f32::MAX, f32::min);
    decode_rects(&rects, module)
}
