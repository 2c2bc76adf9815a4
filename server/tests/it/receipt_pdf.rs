//! The receipt PDF renderer (`server::receipt_pdf`): text with accents, both
//! paper sizes, pagination, the cancelled mark, and the QR code drawn in the
//! PDF decoding back to the verification URL.

mod sample {

    #![allow(dead_code)]

    use server::receipt_pdf::{Labels, ReceiptLine, ReceiptView};

    pub const LORETO_PNG: &[u8] = include_bytes!("../../../public/img/loreto.png");
    pub const OCOTLAN_PNG: &[u8] = include_bytes!("../../../public/img/ocotlan.png");

    pub fn sample(items: usize) -> ReceiptView {
        let base = [
            ReceiptLine {
                concept: "Impuesto predial urbano — clave catastral 03-001-045-012".into(),
                period: "Ene–Dic 2026".into(),
                principal: "$1,200.00".into(),
                surcharges: "$34.90".into(),
                discount: "-$120.00".into(),
                amount: "$1,114.90".into(),
            },
            ReceiptLine {
                concept: "Derecho de recolección de basura".into(),
                period: "2026".into(),
                principal: "$120.00".into(),
                surcharges: String::new(),
                discount: String::new(),
                amount: "$120.00".into(),
            },
        ];
        let lines = (0..items)
            .map(|i| {
                let mut l = base[i % 2].clone();
                if items > 2 {
                    l.concept = format!("{} (#{})", l.concept, i + 1);
                }
                l
            })
            .collect();
        ReceiptView {
            municipality: "Municipio de Loreto".into(),
            state: "Baja California Sur".into(),
            office: "Dirección de Ingresos · Tesorería Municipal · Calle Salvatierra s/n, Centro, C.P. 23880".into(),
            logo_png: Some(LORETO_PNG.to_vec()),
            title: "RECIBO OFICIAL DE PAGO".into(),
            folio: "A-2026-000123".into(),
            issued_at: "22/11/2026 10:15 (hora de Loreto)".into(),
            payer_name: "MARÍA GUADALUPE PÉREZ NÚÑEZ".into(),
            account: "P-000123".into(),
            items: lines,
            rounding: Some("-$0.40".into()),
            total: "$1,234.50".into(),
            total_in_words: "UN MIL DOSCIENTOS TREINTA Y CUATRO PESOS 50/100 M.N.".into(),
            payment_method: "Tarjeta (Stripe)".into(),
            provider_reference: "pi_3MtwBwLkdIwHu7ix28a3tqPa".into(),
            verify_url: "https://pagos.loreto.gob.mx/v/A-2026-000123?s=k1.Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5".into(),
            cancelled: None,
            labels: Labels::default(),
        }
    }
}

use crate::common::pdf::{decode_rects, qr_rects_in_pdf, text};
use lopdf::{Document, Object};
use server::receipt_pdf::qr::{qr_matrix, qr_rects};
use server::receipt_pdf::{render_pdf, Paper, ReceiptView};

const PAPERS: [Paper; 2] = [Paper::Letter, Paper::Ticket80mm];
const PT_PER_MM: f32 = 72.0 / 25.4;

fn render(v: &ReceiptView, paper: Paper) -> (Vec<u8>, Document) {
    let bytes = render_pdf(v, paper).expect("render");
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF header");
    let doc = Document::load_mem(&bytes).expect("lopdf parses the output");
    (bytes, doc)
}

fn page_size_pt(doc: &Document, page_no: u32) -> (f32, f32) {
    let id = doc.get_pages()[&page_no];
    let page = doc.get_dictionary(id).unwrap();
    let mb = page.get(b"MediaBox").unwrap().as_array().unwrap();
    let n: Vec<f32> = mb.iter().map(|o| o.as_float().unwrap()).collect();
    (n[2] - n[0], n[3] - n[1])
}

#[test]
fn text_is_extractable_with_accents_for_both_papers() {
    let v = sample::sample(2);
    for paper in PAPERS {
        let (_, doc) = render(&v, paper);
        let t = text(&doc);
        for needle in [
            "A-2026-000123",
            "$1,234.50",
            "UN MIL DOSCIENTOS TREINTA Y CUATRO PESOS",
            "MARÍA GUADALUPE PÉREZ NÚÑEZ",
            "PÉREZ NÚÑEZ",
            "Municipio de Loreto",
            "Dirección de Ingresos",
            "Tarjeta (Stripe)",
            "pi_3MtwBwLkdIwHu7ix28a3tqPa",
            "-$0.40",
            "Verifique este recibo escaneando el código o en:",
            "Ene–Dic 2026",
        ] {
            assert!(t.contains(needle), "{paper:?}: {needle:?} missing from extracted text:\n{t}");
        }
        // Amount in words may wrap on the ticket: compare without whitespace.
        let squashed: String = t.chars().filter(|c| !c.is_whitespace()).collect();
        let words: String = v.total_in_words.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(squashed.contains(&words), "{paper:?}: total in words missing");
        assert!(!t.contains("CANCELADO"), "{paper:?}: not cancelled");
    }
}

#[test]
fn special_characters_survive() {
    let mut v = sample::sample(1);
    v.payer_name = "¿ÑANDÚ? Güemes Ávila Íñiguez Óscar Úrsula ü á é í ó ú ñ $".into();
    for paper in PAPERS {
        let (_, doc) = render(&v, paper);
        let t = text(&doc);
        assert!(t.contains("¿ÑANDÚ? Güemes Ávila Íñiguez"), "{paper:?}: {t}");
        assert!(t.contains("ü á é í ó ú ñ $"), "{paper:?}: {t}");
    }
}

#[test]
fn fonts_are_embedded_subsets() {
    let (bytes, doc) = render(&sample::sample(2), Paper::Letter);
    let mut n = 0;
    for (_, obj) in doc.objects.iter() {
        if let Ok(d) = obj.as_dict() {
            if d.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"CIDFontType2") {
                let name = d.get(b"BaseFont").unwrap().as_name().unwrap();
                assert_eq!(name[6], b'+', "subset tag in {:?}", String::from_utf8_lossy(name));
                n += 1;
            }
        }
    }
    assert_eq!(n, 2, "regular + bold");
    assert!(bytes.len() < 120_000, "PDF too large: {} bytes", bytes.len());
}

#[test]
fn letter_paginates() {
    let (_, doc) = render(&sample::sample(3), Paper::Letter);
    assert_eq!(doc.get_pages().len(), 1);
    let (w, h) = page_size_pt(&doc, 1);
    assert!((w - 215.9 * PT_PER_MM).abs() < 0.1 && (h - 279.4 * PT_PER_MM).abs() < 0.1);

    let v = sample::sample(60);
    let (_, doc) = render(&v, Paper::Letter);
    assert!(doc.get_pages().len() >= 2, "60 items must flow onto more pages");
    let t = text(&doc);
    // Every item made it, the last one and the total included.
    for i in 1..=60 {
        assert!(t.contains(&format!("(#{i})")), "item {i} missing");
    }
    assert!(t.contains("$1,234.50"));
    assert!(t.contains(&format!("Página 1 de {}", doc.get_pages().len())));
}

#[test]
fn ticket_is_80mm_wide_single_page_fitted_height() {
    let (_, short) = render(&sample::sample(1), Paper::Ticket80mm);
    assert_eq!(short.get_pages().len(), 1);
    let (w, h1) = page_size_pt(&short, 1);
    assert!((w - 80.0 * PT_PER_MM).abs() < 0.1, "width {w}pt");
    let (_, long) = render(&sample::sample(8), Paper::Ticket80mm);
    assert_eq!(long.get_pages().len(), 1);
    let (_, h2) = page_size_pt(&long, 1);
    assert!(h2 > h1 + 50.0, "height must grow with content ({h1} -> {h2})");
}

#[test]
fn cancelled_mark_and_reason() {
    let mut v = sample::sample(2);
    v.cancelled = Some("Pago duplicado; reembolsado".into());
    for paper in PAPERS {
        let (_, doc) = render(&v, paper);
        let t = text(&doc);
        assert!(t.contains("CANCELADO"), "{paper:?}");
        assert!(t.contains("Motivo: Pago duplicado; reembolsado"), "{paper:?}: {t}");
    }
}

#[test]
fn output_is_deterministic_and_logo_optional() {
    let mut v = sample::sample(2);
    assert_eq!(render_pdf(&v, Paper::Letter), render_pdf(&v, Paper::Letter));
    v.logo_png = None;
    for paper in PAPERS {
        render(&v, paper);
    }
    v.logo_png = Some(b"not a png".to_vec());
    assert!(matches!(render_pdf(&v, Paper::Letter), Err(server::receipt_pdf::PdfError::Logo(_))));
}

// ------------------------------------------------------------------ QR

#[test]
fn qr_matrix_decodes_to_url() {
    let url = sample::sample(1).verify_url;
    let m = qr_matrix(&url).unwrap();
    let rects: Vec<[f32; 4]> = (0..m.width)
        .flat_map(|y| (0..m.width).map(move |x| (x, y)))
        .filter(|&(x, y)| m.is_dark(x, y))
        .map(|(x, y)| [x as f32, y as f32, 1.0, 1.0])
        .collect();
    assert_eq!(decode_rects(&rects, 1.0), url);
    // Level M: a 79-char URL needs version 5 (37 modules) at M, version 4 at L.
    assert_eq!(m.width, 37);
    let placed = qr_rects(&url, 10.0, 20.0, 32.0).unwrap();
    assert_eq!(decode_rects(&placed.rects, placed.module_mm), url);
    assert!((placed.total_mm - 32.0 * (37.0 + 8.0) / 37.0).abs() < 1e-3);
}

#[test]
fn qr_drawn_in_pdf_decodes_to_exact_url_and_is_large_enough() {
    let mut v = sample::sample(2);
    v.verify_url = "https://pagos.loreto.gob.mx/v/A-2026-000123?s=k1.AbC-_xyz0123456789".into();
    let matrix = qr_matrix(&v.verify_url).unwrap();
    let width = matrix.width as f32;
    for (paper, min_mm) in [(Paper::Letter, 30.0), (Paper::Ticket80mm, 40.0)] {
        for cancelled in [None, Some("Error de captura".to_string())] {
            v.cancelled = cancelled;
            let (_, doc) = render(&v, paper);
            let rects = qr_rects_in_pdf(&doc);
            assert!(!rects.is_empty(), "{paper:?}: no QR block found");
            let module = rects.iter().map(|r| r[3]).fold(f32::MAX, f32::min);
            assert_eq!(decode_rects(&rects, module), v.verify_url, "{paper:?}");
            assert_eq!(modules_of(&rects, module, matrix.width), matrix.dark, "{paper:?}: drawn modules differ");
            let symbol_mm = module * width / PT_PER_MM;
            assert!(symbol_mm >= min_mm, "{paper:?}: QR only {symbol_mm} mm wide");
        }
    }
}

/// Rebuild the module grid from drawn rectangles (top-left module is always
/// dark: it belongs to a finder pattern).
fn modules_of(rects: &[[f32; 4]], module: f32, width: usize) -> Vec<bool> {
    let min_x = rects.iter().map(|r| r[0]).fold(f32::MAX, f32::min);
    let min_y = rects.iter().map(|r| r[1]).fold(f32::MAX, f32::min);
    let mut grid = vec![false; width * width];
    for r in rects {
        let row = ((r[1] - min_y) / module).round() as usize;
        let c0 = ((r[0] - min_x) / module).round() as usize;
        let c1 = ((r[0] + r[2] - min_x) / module).round() as usize;
        assert!(row < width && c1 <= width, "rectangle outside the symbol");
        for c in c0..c1 {
            grid[row * width + c] = true;
        }
    }
    grid
}
