//! Receipt layout for both paper sizes. All coordinates are millimetres with
//! y growing downwards from the top edge; `pdf.rs` converts to PDF space.

use crate::receipt_pdf::fonts::{fit, fonts, wrap, FontKind};
use crate::receipt_pdf::pdf::{Item, Logo, Page, Rgb};
use crate::receipt_pdf::qr::{qr_rects, qr_total_mm};
use crate::receipt_pdf::{PdfError, ReceiptView, PT_TO_MM};

use FontKind::{Bold, Regular};

const INK: Rgb = (0.10, 0.11, 0.13);
const GREY: Rgb = (0.36, 0.38, 0.42);
const ACCENT: Rgb = (0.11, 0.23, 0.37);
const LIGHT: Rgb = (0.945, 0.953, 0.965);
const RULE: Rgb = (0.75, 0.77, 0.81);
const FOLIO: Rgb = (0.60, 0.07, 0.07);
const RED: Rgb = (0.80, 0.06, 0.06);
const WHITE: Rgb = (1.0, 1.0, 1.0);

/// Line height for a font size, in mm.
fn lh(size: f32) -> f32 {
    size * PT_TO_MM * 1.2
}

/// Distance from the top of a line box to its baseline, in mm.
fn asc(size: f32) -> f32 {
    size * PT_TO_MM * 0.93
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
    Center,
}

/// Draws one line of text whose line box starts at `top`; `x` is the left
/// edge, right edge or centre depending on `align`.
#[allow(clippy::too_many_arguments)]
fn line(items: &mut Vec<Item>, font: FontKind, size: f32, x: f32, top: f32, text: &str, align: Align, color: Rgb) {
    let w = fonts().get(font).width_mm(text, size);
    let x = match align {
        Align::Left => x,
        Align::Right => x - w,
        Align::Center => x - w / 2.0,
    };
    items.push(Item::Text { font, size, x, y: top + asc(size), text: text.to_string(), color });
}

/// Wraps `text` into `width` and draws it; returns the y below the block.
#[allow(clippy::too_many_arguments)]
fn para(
    items: &mut Vec<Item>,
    font: FontKind,
    size: f32,
    x: f32,
    top: f32,
    width: f32,
    text: &str,
    align: Align,
    color: Rgb,
) -> f32 {
    let mut y = top;
    for l in wrap(font, size, text, width) {
        line(items, font, size, x, y, &l, align, color);
        y += lh(size);
    }
    y
}

fn hline(items: &mut Vec<Item>, x1: f32, x2: f32, y: f32, width_pt: f32, color: Rgb, dashed: bool) {
    items.push(Item::Line { x1, y1: y, x2, y2: y, width_pt, color, dashed });
}

fn fill_rect(items: &mut Vec<Item>, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
    items.push(Item::Rect { x, y, w, h, fill: Some(color), stroke: None });
}

fn stroke_rect(items: &mut Vec<Item>, x: f32, y: f32, w: f32, h: f32, color: Rgb, width_pt: f32) {
    items.push(Item::Rect { x, y, w, h, fill: None, stroke: Some((color, width_pt)) });
}

/// Moves a block laid out at y = 0 down by `dy`.
fn shift(items: Vec<Item>, dy: f32) -> impl Iterator<Item = Item> {
    items.into_iter().map(move |it| match it {
        Item::Text { font, size, x, y, text, color } => Item::Text { font, size, x, y: y + dy, text, color },
        Item::Rect { x, y, w, h, fill, stroke } => Item::Rect { x, y: y + dy, w, h, fill, stroke },
        Item::Line { x1, y1, x2, y2, width_pt, color, dashed } => {
            Item::Line { x1, y1: y1 + dy, x2, y2: y2 + dy, width_pt, color, dashed }
        }
        Item::Logo { x, y, w, h } => Item::Logo { x, y: y + dy, w, h },
        Item::Qr { rects } => Item::Qr { rects: rects.into_iter().map(|r| [r[0], r[1] + dy, r[2], r[3]]).collect() },
        wm @ Item::Watermark { .. } => wm,
    })
}

fn logo_size(logo: &Logo, max_w: f32, max_h: f32) -> (f32, f32) {
    let ratio = logo.height as f32 / logo.width.max(1) as f32;
    if max_w * ratio <= max_h {
        (max_w, max_w * ratio)
    } else {
        (max_h / ratio, max_h)
    }
}

// ---------------------------------------------------------------- letter

const L_W: f32 = 215.9;
const L_H: f32 = 279.4;
const L_M: f32 = 15.0;
const L_TOP: f32 = 13.0;
const L_BOTTOM: f32 = 12.0;
/// Lowest y the body may reach (the footer lives below it).
const L_LIMIT: f32 = L_H - L_BOTTOM - 9.0;
const L_QR_SYMBOL: f32 = 32.0;

struct Col {
    x: f32,
    w: f32,
    right: bool,
}

fn letter_cols() -> [Col; 6] {
    let fixed = [26.0, 25.0, 24.0, 24.0, 25.0];
    let cw = L_W - 2.0 * L_M;
    let concept_w = cw - fixed.iter().sum::<f32>();
    let mut x = L_M + concept_w;
    let mut cols = [
        Col { x: L_M, w: concept_w, right: false },
        Col { x: 0.0, w: 0.0, right: false },
        Col { x: 0.0, w: 0.0, right: true },
        Col { x: 0.0, w: 0.0, right: true },
        Col { x: 0.0, w: 0.0, right: true },
        Col { x: 0.0, w: 0.0, right: true },
    ];
    for (i, w) in fixed.iter().enumerate() {
        cols[i + 1].x = x;
        cols[i + 1].w = *w;
        x += w;
    }
    cols
}

const CELL_PAD: f32 = 1.8;

fn letter_table_header(items: &mut Vec<Item>, v: &ReceiptView, top: f32) -> f32 {
    let l = &v.labels;
    let cols = letter_cols();
    let h = 7.0;
    fill_rect(items, L_M, top, L_W - 2.0 * L_M, h, ACCENT);
    let titles = [&l.concept, &l.period, &l.principal, &l.surcharges, &l.discount, &l.amount];
    let size = 7.5;
    let t = top + (h - lh(size)) / 2.0;
    for (c, title) in cols.iter().zip(titles) {
        let text = fit(Bold, size, &title.to_uppercase(), c.w - 2.0 * CELL_PAD);
        if c.right {
            line(items, Bold, size, c.x + c.w - CELL_PAD, t, &text, Align::Right, WHITE);
        } else {
            line(items, Bold, size, c.x + CELL_PAD, t, &text, Align::Left, WHITE);
        }
    }
    top + h
}

fn letter_first_header(items: &mut Vec<Item>, v: &ReceiptView, logo: Option<&Logo>) -> f32 {
    let l = &v.labels;
    let right_edge = L_W - L_M;
    let rw = 72.0;
    let mut bottom = L_TOP;

    let mut lx = L_M;
    if let Some(logo) = logo {
        let (w, h) = logo_size(logo, 24.0, 24.0);
        items.push(Item::Logo { x: L_M, y: L_TOP, w, h });
        lx = L_M + w + 4.0;
        bottom = bottom.max(L_TOP + h);
    }

    // Right block: title, folio, date.
    let mut y = L_TOP;
    y = para(items, Bold, 10.0, right_edge, y, rw, &v.title, Align::Right, ACCENT);
    y += 1.5;
    line(items, Regular, 7.5, right_edge, y, &l.folio.to_uppercase(), Align::Right, GREY);
    y += lh(7.5);
    y = para(items, Bold, 17.0, right_edge, y, rw, &v.folio, Align::Right, FOLIO);
    y += 1.0;
    line(items, Regular, 7.5, right_edge, y, &l.issued_at.to_uppercase(), Align::Right, GREY);
    y += lh(7.5);
    y = para(items, Regular, 9.0, right_edge, y, rw, &v.issued_at, Align::Right, INK);
    bottom = bottom.max(y);

    // Left block: municipality, state, office.
    let lw = right_edge - rw - 6.0 - lx;
    let mut y = L_TOP;
    y = para(items, Bold, 16.0, lx, y, lw, &v.municipality, Align::Left, INK);
    y = para(items, Regular, 10.5, lx, y, lw, &v.state, Align::Left, GREY);
    y += 1.0;
    y = para(items, Regular, 8.5, lx, y, lw, &v.office, Align::Left, GREY);
    bottom = bottom.max(y);

    let y = bottom + 3.0;
    hline(items, L_M, right_edge, y, 1.4, ACCENT, false);
    y + 5.0
}

fn letter_cont_header(items: &mut Vec<Item>, v: &ReceiptView) -> f32 {
    let right_edge = L_W - L_M;
    let half = (right_edge - L_M) / 2.0 - 3.0;
    let name = fit(Bold, 10.0, &v.municipality, half);
    line(items, Bold, 10.0, L_M, L_TOP, &name, Align::Left, INK);
    let folio = format!("{} {} · {}", v.labels.folio, v.folio, v.labels.continued);
    let folio = fit(Bold, 10.0, &folio, half);
    line(items, Bold, 10.0, right_edge, L_TOP, &folio, Align::Right, FOLIO);
    let y = L_TOP + lh(10.0) + 2.0;
    hline(items, L_M, right_edge, y, 1.0, ACCENT, false);
    y + 4.0
}

fn cancel_banner(items: &mut Vec<Item>, v: &ReceiptView, x: f32, top: f32, w: f32, size: f32) -> f32 {
    let Some(reason) = &v.cancelled else { return top };
    let mut tmp = Vec::new();
    let mut y = 2.0;
    line(&mut tmp, Bold, size, x + w / 2.0, y, &v.labels.cancelled, Align::Center, RED);
    y += lh(size) + 0.5;
    let text = format!("{}: {}", v.labels.cancelled_reason, reason);
    y = para(&mut tmp, Regular, 8.5, x + w / 2.0, y, w - 6.0, &text, Align::Center, RED);
    y += 2.0;
    stroke_rect(items, x, top, w, y, RED, 1.5);
    items.extend(shift(tmp, top));
    top + y
}

fn letter_payer(items: &mut Vec<Item>, v: &ReceiptView, top: f32) -> f32 {
    let l = &v.labels;
    let cw = L_W - 2.0 * L_M;
    let left_w = cw * 0.68;
    let pad = 2.5;
    let mut tmp = Vec::new();
    let mut y1 = pad;
    line(&mut tmp, Regular, 7.5, L_M + 3.0, y1, &l.payer.to_uppercase(), Align::Left, GREY);
    y1 += lh(7.5);
    y1 = para(&mut tmp, Bold, 11.0, L_M + 3.0, y1, left_w - 6.0, &v.payer_name, Align::Left, INK);
    let rx = L_M + left_w;
    let mut y2 = pad;
    line(&mut tmp, Regular, 7.5, rx + 3.0, y2, &l.account.to_uppercase(), Align::Left, GREY);
    y2 += lh(7.5);
    y2 = para(&mut tmp, Bold, 11.0, rx + 3.0, y2, cw - left_w - 6.0, &v.account, Align::Left, INK);
    let h = y1.max(y2) + pad;
    fill_rect(items, L_M, top, cw, h, LIGHT);
    items.push(Item::Line {
        x1: rx,
        y1: top + 2.0,
        x2: rx,
        y2: top + h - 2.0,
        width_pt: 0.5,
        color: RULE,
        dashed: false,
    });
    items.extend(shift(tmp, top));
    top + h
}

/// Totals, amount in words, payment data and QR, laid out at y = 0.
fn letter_summary(v: &ReceiptView) -> Result<(Vec<Item>, f32), PdfError> {
    let l = &v.labels;
    let right_edge = L_W - L_M;
    let cw = L_W - 2.0 * L_M;
    let mut it = Vec::new();
    let mut y = 2.5;
    if let Some(r) = &v.rounding {
        line(&mut it, Regular, 9.0, right_edge - 40.0, y, &l.rounding, Align::Right, GREY);
        line(&mut it, Regular, 9.0, right_edge - 3.0, y, r, Align::Right, INK);
        y += lh(9.0) + 1.5;
    }
    let bar_w = 95.0;
    let bar_h = 11.0;
    fill_rect(&mut it, right_edge - bar_w, y, bar_w, bar_h, ACCENT);
    let t = y + (bar_h - lh(10.0)) / 2.0;
    line(&mut it, Bold, 10.0, right_edge - bar_w + 3.5, t, &l.total.to_uppercase(), Align::Left, WHITE);
    let total_w = bar_w - 7.0 - fonts().bold.width_mm(&l.total.to_uppercase(), 10.0) - 4.0;
    let total = fit(Bold, 17.0, &v.total, total_w);
    let t = y + (bar_h - lh(17.0)) / 2.0 + 0.4;
    line(&mut it, Bold, 17.0, right_edge - 3.5, t, &total, Align::Right, WHITE);
    y += bar_h + 3.0;

    line(&mut it, Regular, 7.5, L_M, y, &l.total_in_words.to_uppercase(), Align::Left, GREY);
    y += lh(7.5);
    y = para(&mut it, Bold, 9.5, L_M, y, cw, &v.total_in_words, Align::Left, INK);
    y += 4.0;

    // Payment + verification box.
    let box_top = y;
    let pad = 3.0;
    let qr_total = qr_total_mm(&v.verify_url, L_QR_SYMBOL)?;
    let qr = qr_rects(&v.verify_url, L_M + pad, box_top + pad, L_QR_SYMBOL)?;
    it.push(Item::Qr { rects: qr.rects });
    let tx = L_M + pad + qr_total + 5.0;
    let tw = right_edge - pad - tx;
    let mut ty = box_top + pad + 2.0;
    line(&mut it, Regular, 7.5, tx, ty, &l.payment_method.to_uppercase(), Align::Left, GREY);
    ty += lh(7.5);
    ty = para(&mut it, Bold, 10.5, tx, ty, tw, &v.payment_method, Align::Left, INK);
    ty += 2.0;
    line(&mut it, Regular, 7.5, tx, ty, &l.provider_reference.to_uppercase(), Align::Left, GREY);
    ty += lh(7.5);
    ty = para(&mut it, Regular, 9.5, tx, ty, tw, &v.provider_reference, Align::Left, INK);
    ty += 4.0;
    ty = para(&mut it, Regular, 8.5, tx, ty, tw, &l.verify_caption, Align::Left, GREY);
    ty = para(&mut it, Regular, 8.5, tx, ty, tw, &v.verify_url, Align::Left, ACCENT);
    let box_h = (qr_total + 2.0 * pad).max(ty - box_top + pad);
    stroke_rect(&mut it, L_M, box_top, cw, box_h, RULE, 0.6);
    y = box_top + box_h;
    Ok((it, y))
}

pub(crate) fn letter(v: &ReceiptView, logo: Option<&Logo>) -> Result<Vec<Page>, PdfError> {
    let new_page = || Page { w: L_W, h: L_H, items: Vec::new() };
    let mut pages = vec![new_page()];
    let cw = L_W - 2.0 * L_M;

    let mut y = letter_first_header(&mut pages[0].items, v, logo);
    if v.cancelled.is_some() {
        y = cancel_banner(&mut pages[0].items, v, L_M, y, cw, 14.0) + 4.0;
    }
    y = letter_payer(&mut pages[0].items, v, y) + 5.0;
    y = letter_table_header(&mut pages[0].items, v, y);

    let cols = letter_cols();
    let size = 8.5;
    for (i, row) in v.items.iter().enumerate() {
        let cells = [&row.concept, &row.period, &row.principal, &row.surcharges, &row.discount, &row.amount];
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(&cols)
            .map(|(text, c)| {
                if c.right {
                    vec![fit(Regular, size, text, c.w - 2.0 * CELL_PAD)]
                } else {
                    wrap(Regular, size, text, c.w - 2.0 * CELL_PAD)
                }
            })
            .collect();
        let n = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let row_h = n as f32 * lh(size) + 2.0 * CELL_PAD;
        if y + row_h > L_LIMIT {
            hline(&mut pages.last_mut().unwrap().items, L_M, L_M + cw, y, 0.8, ACCENT, false);
            pages.push(new_page());
            let items = &mut pages.last_mut().unwrap().items;
            y = letter_cont_header(items, v);
            y = letter_table_header(items, v, y);
        }
        let items = &mut pages.last_mut().unwrap().items;
        if i % 2 == 1 {
            fill_rect(items, L_M, y, cw, row_h, LIGHT);
        }
        for (ci, (lines, c)) in wrapped.iter().zip(&cols).enumerate() {
            let font = if ci == 5 { Bold } else { Regular };
            let mut ty = y + CELL_PAD;
            for l in lines {
                if c.right {
                    line(items, font, size, c.x + c.w - CELL_PAD, ty, l, Align::Right, INK);
                } else {
                    line(items, font, size, c.x + CELL_PAD, ty, l, Align::Left, INK);
                }
                ty += lh(size);
            }
        }
        y += row_h;
    }
    hline(&mut pages.last_mut().unwrap().items, L_M, L_M + cw, y, 0.8, ACCENT, false);

    let (summary, h) = letter_summary(v)?;
    if y + h > L_LIMIT {
        pages.push(new_page());
        y = letter_cont_header(&mut pages.last_mut().unwrap().items, v);
    }
    pages.last_mut().unwrap().items.extend(shift(summary, y));

    // Footer and cancellation mark on every page.
    let n = pages.len();
    for (i, p) in pages.iter_mut().enumerate() {
        let fy = L_H - L_BOTTOM - 5.0;
        hline(&mut p.items, L_M, L_W - L_M, fy, 0.5, RULE, false);
        let page_txt = format!("{} {} {} {}", v.labels.page, i + 1, v.labels.page_of, n);
        let pw = fonts().regular.width_mm(&page_txt, 7.0);
        let note = fit(Regular, 7.0, &v.labels.footer_note, cw - pw - 6.0);
        line(&mut p.items, Regular, 7.0, L_M, fy + 1.5, &note, Align::Left, GREY);
        line(&mut p.items, Regular, 7.0, L_W - L_M, fy + 1.5, &page_txt, Align::Right, GREY);
        if v.cancelled.is_some() {
            p.items.push(Item::Watermark {
                text: v.labels.cancelled.clone(),
                size: watermark_size(&v.labels.cancelled, 170.0, 96.0),
                angle_deg: 35.0,
                color: RED,
            });
        }
    }
    Ok(pages)
}

/// Font size (pt) at which `text` in bold is `width_mm` wide, capped at `max`.
fn watermark_size(text: &str, width_mm: f32, max: f32) -> f32 {
    let w1 = fonts().bold.width_mm(text, 1.0).max(0.01);
    (width_mm / w1).min(max)
}

// ---------------------------------------------------------------- ticket

const T_W: f32 = 80.0;
const T_M: f32 = 4.0;
const T_CW: f32 = 72.0;
const T_QR_SYMBOL: f32 = 42.0;

/// Label on the left, value on the right (value wins space; label wraps).
fn kv(items: &mut Vec<Item>, top: f32, label: &str, value: &str, font: FontKind, size: f32, vsize: f32) -> f32 {
    // A bold value gets a bold label only for the big total line.
    let (lfont, lcolor) = if vsize >= 12.0 { (Bold, INK) } else { (Regular, GREY) };
    let vw = fonts().get(font).width_mm(value, vsize).min(T_CW * 0.6);
    let value = fit(font, vsize, value, T_CW * 0.6);
    line(items, font, vsize, T_M + T_CW, top, &value, Align::Right, INK);
    let ly = top + (lh(vsize) - lh(size)).max(0.0) * 0.8;
    let end = para(items, lfont, size, T_M, ly, T_CW - vw - 3.0, label, Align::Left, lcolor);
    end.max(top + lh(vsize))
}

fn dashed(items: &mut Vec<Item>, y: f32) -> f32 {
    hline(items, T_M, T_M + T_CW, y + 1.5, 0.6, GREY, true);
    y + 3.5
}

pub(crate) fn ticket(v: &ReceiptView, logo: Option<&Logo>) -> Result<Vec<Page>, PdfError> {
    let l = &v.labels;
    let cx = T_M + T_CW / 2.0;
    let mut it = Vec::new();
    let mut y = 5.0;

    if let Some(logo) = logo {
        let (w, h) = logo_size(logo, 18.0, 18.0);
        it.push(Item::Logo { x: cx - w / 2.0, y, w, h });
        y += h + 2.0;
    }
    y = para(&mut it, Bold, 11.0, cx, y, T_CW, &v.municipality, Align::Center, INK);
    y = para(&mut it, Regular, 8.5, cx, y, T_CW, &v.state, Align::Center, GREY);
    y = para(&mut it, Regular, 7.5, cx, y, T_CW, &v.office, Align::Center, GREY);
    y += 2.0;
    y = para(&mut it, Bold, 9.0, cx, y, T_CW, &v.title, Align::Center, INK);
    y += 0.5;
    line(&mut it, Regular, 7.0, cx, y, &l.folio.to_uppercase(), Align::Center, GREY);
    y += lh(7.0);
    y = para(&mut it, Bold, 14.0, cx, y, T_CW, &v.folio, Align::Center, INK);
    y = para(&mut it, Regular, 8.0, cx, y, T_CW, &v.issued_at, Align::Center, INK);
    y += 1.0;
    if v.cancelled.is_some() {
        y = cancel_banner(&mut it, v, T_M, y + 1.0, T_CW, 16.0) + 1.0;
    }
    y = dashed(&mut it, y);

    line(&mut it, Regular, 7.0, T_M, y, &l.payer.to_uppercase(), Align::Left, GREY);
    y += lh(7.0);
    y = para(&mut it, Bold, 9.0, T_M, y, T_CW, &v.payer_name, Align::Left, INK);
    y += 0.5;
    y = kv(&mut it, y, &l.account, &v.account, Bold, 8.0, 9.0);
    y = dashed(&mut it, y);

    for (i, row) in v.items.iter().enumerate() {
        if i > 0 {
            hline(&mut it, T_M, T_M + T_CW, y + 0.8, 0.3, RULE, false);
            y += 1.8;
        }
        y = para(&mut it, Bold, 8.5, T_M, y, T_CW, &row.concept, Align::Left, INK);
        if !row.period.is_empty() {
            let p = format!("{}: {}", l.period, row.period);
            y = para(&mut it, Regular, 7.5, T_M, y, T_CW, &p, Align::Left, GREY);
        }
        for (label, value) in
            [(&l.principal, &row.principal), (&l.surcharges, &row.surcharges), (&l.discount, &row.discount)]
        {
            if !value.is_empty() {
                y = kv(&mut it, y, label, value, Regular, 8.0, 8.0);
            }
        }
        y = kv(&mut it, y, &l.amount, &row.amount, Bold, 8.0, 8.5);
    }
    y = dashed(&mut it, y);

    if let Some(r) = &v.rounding {
        y = kv(&mut it, y, &l.rounding, r, Regular, 8.0, 8.5);
    }
    y += 0.5;
    y = kv(&mut it, y, &l.total.to_uppercase(), &v.total, Bold, 10.0, 13.0);
    y += 0.5;
    y = para(&mut it, Regular, 7.5, T_M, y, T_CW, &v.total_in_words, Align::Left, INK);
    y = dashed(&mut it, y);

    line(&mut it, Regular, 7.0, T_M, y, &l.payment_method.to_uppercase(), Align::Left, GREY);
    y += lh(7.0);
    y = para(&mut it, Bold, 8.5, T_M, y, T_CW, &v.payment_method, Align::Left, INK);
    y += 0.5;
    line(&mut it, Regular, 7.0, T_M, y, &l.provider_reference.to_uppercase(), Align::Left, GREY);
    y += lh(7.0);
    y = para(&mut it, Regular, 8.0, T_M, y, T_CW, &v.provider_reference, Align::Left, INK);
    y += 1.0;

    let qr_total = qr_total_mm(&v.verify_url, T_QR_SYMBOL)?;
    let qr = qr_rects(&v.verify_url, cx - qr_total / 2.0, y, T_QR_SYMBOL)?;
    it.push(Item::Qr { rects: qr.rects });
    y += qr_total;
    y = para(&mut it, Regular, 7.5, cx, y, T_CW, &l.verify_caption, Align::Center, INK);
    y = para(&mut it, Regular, 7.5, cx, y, T_CW, &v.verify_url, Align::Center, INK);
    if !l.footer_note.is_empty() {
        y += 2.0;
        y = para(&mut it, Regular, 6.5, cx, y, T_CW, &l.footer_note, Align::Center, GREY);
    }
    let h = y + 6.0;
    if v.cancelled.is_some() {
        it.push(Item::Watermark {
            text: l.cancelled.clone(),
            size: watermark_size(&l.cancelled, 62.0, 40.0),
            angle_deg: 30.0,
            color: RED,
        });
    }
    Ok(vec![Page { w: T_W, h, items: it }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt_pdf::{Labels, ReceiptLine};

    fn long_view(items: usize) -> ReceiptView {
        let long_word = "X".repeat(150);
        ReceiptView {
            municipality: "Municipio de San Pedro Tlaquepaque de los Altos de Jalisco y Anexas".into(),
            state: "Estado Libre y Soberano de Michoacán de Ocampo".into(),
            office: format!("Dirección de Ingresos {long_word}"),
            logo_png: None,
            title: "RECIBO OFICIAL DE PAGO DE CONTRIBUCIONES MUNICIPALES".into(),
            folio: "A-2026-000000000123".into(),
            issued_at: "22/11/2026 10:15 (hora del Centro de México)".into(),
            payer_name: "MARÍA GUADALUPE DEL SAGRADO CORAZÓN PÉREZ NÚÑEZ DE LA PEÑA Y ZÚÑIGA".repeat(2),
            account: format!("P-{long_word}"),
            items: (0..items)
                .map(|i| ReceiptLine {
                    concept: format!("Concepto {i} {long_word} con texto muy largo"),
                    period: "Enero a diciembre de 2026 y anteriores".into(),
                    principal: "$1,234,567,890.00".into(),
                    surcharges: "$123,456.78".into(),
                    discount: "-$123,456.78".into(),
                    amount: "$1,234,567,890.00".into(),
                })
                .collect(),
            rounding: Some("-$0.40".into()),
            total: "$1,234,567,890,123.45".into(),
            total_in_words: "UN BILLÓN DOSCIENTOS TREINTA Y CUATRO MIL QUINIENTOS SESENTA Y SIETE MILLONES OCHOCIENTOS NOVENTA MIL CIENTO VEINTITRÉS PESOS 45/100 M.N.".into(),
            payment_method: "Transferencia electrónica SPEI desde cuenta de terceros".into(),
            provider_reference: long_word.clone(),
            verify_url: format!("https://pagos.ejemplo.gob.mx/v/A-2026-000123?s={}", "k".repeat(200)),
            cancelled: Some(format!("Motivo largo {long_word}")),
            labels: Labels::default(),
        }
    }

    fn assert_inside(pages: &[Page], margin: f32, bottom: f32) {
        for (n, p) in pages.iter().enumerate() {
            for it in &p.items {
                match it {
                    Item::Text { font, size, x, y, text, .. } => {
                        let w = fonts().get(*font).width_mm(text, *size);
                        assert!(*x >= margin - 0.01, "page {n}: {text:?} starts at {x}");
                        assert!(x + w <= p.w - margin + 0.01, "page {n}: {text:?} ends at {}", x + w);
                        assert!(*y <= p.h - bottom + 0.01, "page {n}: {text:?} below the page ({y})");
                    }
                    Item::Qr { rects } => {
                        for r in rects {
                            assert!(r[0] >= margin && r[0] + r[2] <= p.w - margin);
                            assert!(r[1] + r[3] <= p.h - bottom);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn long_text_never_overflows_letter() {
        for n in [0, 3, 40] {
            let pages = letter(&long_view(n), None).unwrap();
            assert_inside(&pages, L_M, L_BOTTOM);
        }
    }

    #[test]
    fn long_text_never_overflows_ticket() {
        for n in [0, 3] {
            let pages = ticket(&long_view(n), None).unwrap();
            assert_eq!(pages.len(), 1);
            assert_inside(&pages, T_M, 3.0);
        }
    }

    #[test]
    fn wrap_breaks_long_words_and_keeps_all_text() {
        let text = format!("uno dos {} tres", "x".repeat(80));
        let lines = wrap(Regular, 9.0, &text, 30.0);
        assert!(lines.len() > 3);
        for l in &lines {
            assert!(fonts().regular.width_mm(l, 9.0) <= 30.0 + 0.01, "{l:?}");
        }
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
    }
}
