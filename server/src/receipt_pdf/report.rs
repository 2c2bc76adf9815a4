//! A treasury report on US-letter paper (the approved corte de caja): a
//! heading, blocks of facts, tables, paragraphs and signature lines,
//! flowing onto more pages as needed. Same fonts and PDF writer as the
//! receipt; the caller passes formatted strings.

use crate::receipt_pdf::fonts::{fit, fonts, wrap, FontKind};
use crate::receipt_pdf::pdf::{self, Item, Page, Rgb};
use crate::receipt_pdf::{PdfError, PT_TO_MM};

const INK: Rgb = (0.10, 0.11, 0.13);
const GREY: Rgb = (0.36, 0.38, 0.42);
const RULE: Rgb = (0.75, 0.77, 0.81);
const LIGHT: Rgb = (0.945, 0.953, 0.965);

const W: f32 = 215.9;
const H: f32 = 279.4;
const MARGIN: f32 = 18.0;

/// One part of a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// A section heading.
    Heading(String),
    /// Label–value pairs, one per line.
    Facts(Vec<(String, String)>),
    /// A table: the header and the rows (every column but the first is
    /// right-aligned: amounts).
    Table { header: Vec<String>, rows: Vec<Vec<String>> },
    /// A paragraph.
    Text(String),
    /// Signature lines with the names under them.
    Signatures(Vec<String>),
    /// A QR code (`data`, e.g. a verification URL) with a caption beside it.
    Qr { data: String, caption: String },
}

/// A report: who issues it, its title, its blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub municipality: String,
    pub office: String,
    pub title: String,
    pub blocks: Vec<Block>,
}

struct Flow {
    pages: Vec<Page>,
    items: Vec<Item>,
    y: f32,
}

impl Flow {
    fn need(&mut self, h: f32) {
        if self.y + h > H - MARGIN {
            let items = std::mem::take(&mut self.items);
            self.pages.push(Page { w: W, h: H, items });
            self.y = MARGIN;
        }
    }

    fn text(&mut self, font: FontKind, size: f32, x: f32, text: &str, color: Rgb) {
        self.items.push(Item::Text { font, size, x, y: self.y + size * PT_TO_MM * 0.93, text: text.into(), color });
    }

    fn right(&mut self, font: FontKind, size: f32, x_right: f32, text: &str) {
        let w = fonts().get(font).width_mm(text, size);
        self.text(font, size, x_right - w, text, INK);
    }

    fn rule(&mut self, width_pt: f32) {
        self.items.push(Item::Line {
            x1: MARGIN,
            y1: self.y,
            x2: W - MARGIN,
            y2: self.y,
            width_pt,
            color: RULE,
            dashed: false,
        });
    }

    fn para(&mut self, font: FontKind, size: f32, text: &str, color: Rgb) {
        for line in wrap(font, size, text, W - 2.0 * MARGIN) {
            let lh = size * PT_TO_MM * 1.3;
            self.need(lh);
            self.text(font, size, MARGIN, &line, color);
            self.y += lh;
        }
    }
}

/// Renders the report as PDF bytes (deterministic: same input, same bytes).
pub fn render_report(r: &Report) -> Result<Vec<u8>, PdfError> {
    let mut f = Flow { pages: Vec::new(), items: Vec::new(), y: MARGIN };
    f.para(FontKind::Bold, 13.0, &r.municipality, INK);
    f.para(FontKind::Regular, 9.0, &r.office, GREY);
    f.y += 2.0;
    f.para(FontKind::Bold, 15.0, &r.title, INK);
    f.y += 1.0;
    f.rule(1.0);
    f.y += 4.0;
    let (body, lh) = (9.5, 9.5 * PT_TO_MM * 1.35);
    for block in &r.blocks {
        match block {
            Block::Heading(h) => {
                f.need(lh * 3.0);
                f.y += 2.0;
                f.para(FontKind::Bold, 11.0, h, INK);
                f.y += 1.0;
            }
            Block::Facts(facts) => {
                for (label, value) in facts {
                    let value_lines = wrap(FontKind::Regular, body, value, W - 2.0 * MARGIN - 55.0);
                    f.need(lh * value_lines.len().max(1) as f32);
                    f.text(FontKind::Bold, body, MARGIN, &fit(FontKind::Bold, body, label, 53.0), GREY);
                    for line in value_lines {
                        f.text(FontKind::Regular, body, MARGIN + 55.0, &line, INK);
                        f.y += lh;
                    }
                }
            }
            Block::Table { header, rows } => {
                let columns = header.len().max(1);
                let first = (W - 2.0 * MARGIN) * 0.34;
                let rest = (W - 2.0 * MARGIN - first) / (columns.saturating_sub(1).max(1)) as f32;
                let row_h = lh + 1.5;
                let draw_row = |f: &mut Flow, cells: &[String], font: FontKind| {
                    for (i, cell) in cells.iter().enumerate().take(columns) {
                        if i == 0 {
                            let text = fit(font, body, cell, first - 2.0);
                            f.text(font, body, MARGIN + 1.0, &text, INK);
                        } else {
                            let right = MARGIN + first + rest * i as f32 - 1.0;
                            let text = fit(font, body, cell, rest - 2.0);
                            f.right(font, body, right, &text);
                        }
                    }
                };
                f.need(row_h * 2.0);
                f.items.push(Item::Rect {
                    x: MARGIN,
                    y: f.y - 0.8,
                    w: W - 2.0 * MARGIN,
                    h: row_h,
                    fill: Some(LIGHT),
                    stroke: None,
                });
                draw_row(&mut f, header, FontKind::Bold);
                f.y += row_h;
                for row in rows {
                    f.need(row_h);
                    draw_row(&mut f, row, FontKind::Regular);
                    f.y += row_h;
                    f.rule(0.3);
                }
                f.y += 2.0;
            }
            Block::Text(t) => {
                f.para(FontKind::Regular, body, t, INK);
                f.y += 1.5;
            }
            Block::Qr { data, caption } => {
                let symbol = 38.0;
                let total = crate::receipt_pdf::qr::qr_total_mm(data, symbol)?;
                f.need(total + 2.0);
                let qr = crate::receipt_pdf::qr::qr_rects(data, MARGIN, f.y, symbol)?;
                f.items.push(Item::Qr { rects: qr.rects });
                let top = f.y;
                let x = MARGIN + total + 4.0;
                let mut y = top + 3.0;
                for line in wrap(FontKind::Regular, 8.5, caption, W - MARGIN - x) {
                    f.items.push(Item::Text {
                        font: FontKind::Regular,
                        size: 8.5,
                        x,
                        y: y + 8.5 * PT_TO_MM * 0.93,
                        text: line,
                        color: GREY,
                    });
                    y += 8.5 * PT_TO_MM * 1.3;
                }
                f.y = top + total + 2.0;
            }
            Block::Signatures(names) => {
                f.need(30.0);
                f.y += 18.0;
                let n = names.len().max(1) as f32;
                let slot = (W - 2.0 * MARGIN) / n;
                for (i, name) in names.iter().enumerate() {
                    let x1 = MARGIN + slot * i as f32 + 6.0;
                    let x2 = MARGIN + slot * (i as f32 + 1.0) - 6.0;
                    f.items.push(Item::Line { x1, y1: f.y, x2, y2: f.y, width_pt: 0.6, color: INK, dashed: false });
                    let text = fit(FontKind::Regular, 8.5, name, x2 - x1);
                    let w = fonts().get(FontKind::Regular).width_mm(&text, 8.5);
                    let y = f.y;
                    f.y += 1.5;
                    f.text(FontKind::Regular, 8.5, (x1 + x2 - w) / 2.0, &text, GREY);
                    f.y = y;
                }
                f.y += 8.0;
            }
        }
    }
    let items = std::mem::take(&mut f.items);
    f.pages.push(Page { w: W, h: H, items });
    pdf::write(&f.pages, None, &r.title, &r.municipality)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_report_flows_onto_more_pages_and_is_deterministic() {
        let rows: Vec<Vec<String>> =
            (0..120).map(|i| vec![format!("C1-2026-{i:06}"), "$100.00".into(), "vigente".into()]).collect();
        let report = Report {
            municipality: "Municipio de Loreto".into(),
            office: "Dirección de Ingresos".into(),
            title: "Corte de caja C1".into(),
            blocks: vec![
                Block::Facts(vec![("Caja".into(), "C1".into())]),
                Block::Table { header: vec!["Folio".into(), "Importe".into(), "Estado".into()], rows },
                Block::Signatures(vec!["Cajera".into(), "Tesorero".into()]),
            ],
        };
        let a = render_report(&report).unwrap();
        assert!(a.starts_with(b"%PDF-"));
        assert_eq!(a, render_report(&report).unwrap());
        let doc = lopdf::Document::load_mem(&a).unwrap();
        assert!(doc.get_pages().len() >= 2);
    }
}
