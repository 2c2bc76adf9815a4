//! Page model (millimetres, y downwards from the top) and the PDF writer.
//!
//! Fonts are embedded as Type0/CIDFontType2 with Identity-H encoding, subset
//! to the glyphs used, with a /ToUnicode CMap so that text extraction and
//! copy/paste give back the exact Unicode text (accents, ñ, ¿, $ …).

use crate::receipt_pdf::fonts::{fonts, FontKind};
use crate::receipt_pdf::{PdfError, MM_TO_PT};
use miniz_oxide::deflate::compress_to_vec_zlib;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, TextRenderingMode, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub(crate) type Rgb = (f32, f32, f32);

pub(crate) enum Item {
    /// `y` is the baseline.
    Text {
        font: FontKind,
        size: f32,
        x: f32,
        y: f32,
        text: String,
        color: Rgb,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Option<Rgb>,
        stroke: Option<(Rgb, f32)>,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width_pt: f32,
        color: Rgb,
        dashed: bool,
    },
    Logo {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
    /// QR modules; emitted inside a `/QR BMC … EMC` marked-content block.
    Qr {
        rects: Vec<[f32; 4]>,
    },
    /// Outlined, rotated text centred on the page (cancellation mark).
    Watermark {
        text: String,
        size: f32,
        angle_deg: f32,
        color: Rgb,
    },
}

pub(crate) struct Page {
    pub w: f32,
    pub h: f32,
    pub items: Vec<Item>,
}

/// A decoded logo, ready to embed: zlib-compressed 8-bit RGB samples plus an
/// optional compressed alpha channel (written as an /SMask).
pub(crate) struct Logo {
    pub width: u32,
    pub height: u32,
    rgb: Vec<u8>,
    alpha: Option<Vec<u8>>,
}

/// Recently used logos (a municipality has one logo, a deployment a handful):
/// decoding and re-compressing a PNG costs more than laying out the receipt.
static LOGO_CACHE: Mutex<Vec<(Vec<u8>, Arc<Logo>)>> = Mutex::new(Vec::new());
const LOGO_CACHE_SIZE: usize = 8;

impl Logo {
    pub fn get(bytes: &[u8]) -> Result<Arc<Logo>, PdfError> {
        if let Ok(cache) = LOGO_CACHE.lock() {
            if let Some((_, logo)) = cache.iter().find(|(k, _)| k.as_slice() == bytes) {
                return Ok(logo.clone());
            }
        }
        let logo = Arc::new(Logo::decode(bytes)?);
        if let Ok(mut cache) = LOGO_CACHE.lock() {
            if cache.len() >= LOGO_CACHE_SIZE {
                cache.remove(0);
            }
            cache.push((bytes.to_vec(), logo.clone()));
        }
        Ok(logo)
    }

    fn decode(bytes: &[u8]) -> Result<Logo, PdfError> {
        let err = |e: png::DecodingError| PdfError::Logo(e.to_string());
        let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
        dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = dec.read_info().map_err(err)?;
        let size = reader.output_buffer_size().ok_or_else(|| PdfError::Logo("image too large".into()))?;
        if size > 64 << 20 {
            return Err(PdfError::Logo("image too large".into()));
        }
        let mut buf = vec![0; size];
        let info = reader.next_frame(&mut buf).map_err(err)?;
        buf.truncate(info.buffer_size());
        let n = (info.width * info.height) as usize;
        let (rgb, alpha): (Vec<u8>, Option<Vec<u8>>) = match info.color_type {
            png::ColorType::Rgb => (buf, None),
            png::ColorType::Rgba => {
                let mut rgb = Vec::with_capacity(n * 3);
                let mut a = Vec::with_capacity(n);
                for px in buf.chunks_exact(4) {
                    rgb.extend_from_slice(&px[..3]);
                    a.push(px[3]);
                }
                (rgb, Some(a))
            }
            png::ColorType::Grayscale => (buf.iter().flat_map(|&g| [g, g, g]).collect(), None),
            png::ColorType::GrayscaleAlpha => {
                let rgb = buf.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0]]).collect();
                let a = buf.chunks_exact(2).map(|p| p[1]).collect();
                (rgb, Some(a))
            }
            png::ColorType::Indexed => return Err(PdfError::Logo("indexed PNG not expanded".into())),
        };
        if rgb.len() != n * 3 {
            return Err(PdfError::Logo("unexpected sample layout".into()));
        }
        let alpha = alpha.filter(|a| a.iter().any(|&v| v != 255));
        Ok(Logo { width: info.width, height: info.height, rgb: deflate(&rgb), alpha: alpha.map(|a| deflate(&a)) })
    }
}

/// Per-font subsetting state collected while writing the content streams.
struct FontUse {
    kind: FontKind,
    remapper: subsetter::GlyphRemapper,
    /// new glyph id -> text it stands for (for /ToUnicode)
    unicode: BTreeMap<u16, char>,
}

impl FontUse {
    fn new(kind: FontKind) -> Self {
        FontUse { kind, remapper: subsetter::GlyphRemapper::new(), unicode: BTreeMap::new() }
    }

    /// Encode `text` as 2-byte CIDs (new glyph ids of the subset).
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let f = fonts().get(self.kind);
        let mut out = Vec::with_capacity(text.len() * 2);
        for ch in text.chars() {
            let (gid, _) = f.glyph(ch);
            let new = self.remapper.remap(gid);
            // First come, first served: '?' fallbacks never override real text.
            let shown = if f.has_char(ch) { ch } else { '?' };
            self.unicode.entry(new).or_insert(shown);
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }
}

const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");
const LOGO: Name = Name(b"Im1");

fn deflate(data: &[u8]) -> Vec<u8> {
    compress_to_vec_zlib(data, 6)
}

fn pt(mm: f32) -> f32 {
    mm * MM_TO_PT
}

pub(crate) fn write(pages: &[Page], logo: Option<&Logo>, title: &str, author: &str) -> Result<Vec<u8>, PdfError> {
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog_id = alloc();
    let tree_id = alloc();
    let info_id = alloc();
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc(), alloc())).collect();
    let font_ids: Vec<[Ref; 5]> = (0..2).map(|_| [alloc(), alloc(), alloc(), alloc(), alloc()]).collect();
    let logo_ids = logo.map(|_| (alloc(), alloc()));

    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id).kids(page_ids.iter().map(|p| p.0)).count(pages.len() as i32);
    pdf.document_info(info_id).title(TextStr(title)).author(TextStr(author)).producer(TextStr("Recauda"));

    let mut uses = [FontUse::new(FontKind::Regular), FontUse::new(FontKind::Bold)];

    for (page, &(page_id, content_id)) in pages.iter().zip(&page_ids) {
        let content = page_content(page, &mut uses);
        let mut p = pdf.page(page_id);
        p.media_box(Rect::new(0.0, 0.0, pt(page.w), pt(page.h)));
        p.parent(tree_id);
        p.contents(content_id);
        let mut res = p.resources();
        {
            let mut f = res.fonts();
            f.pair(REGULAR, font_ids[0][0]);
            f.pair(BOLD, font_ids[1][0]);
        }
        if let Some((img, _)) = logo_ids {
            if page.items.iter().any(|i| matches!(i, Item::Logo { .. })) {
                res.x_objects().pair(LOGO, img);
            }
        }
        res.finish();
        p.finish();
        pdf.stream(content_id, &deflate(&content)).filter(Filter::FlateDecode);
    }

    for (fu, ids) in uses.iter().zip(&font_ids) {
        write_font(&mut pdf, fu, *ids)?;
    }

    if let (Some(logo), Some((img_id, mask_id))) = (logo, logo_ids) {
        let mut img = pdf.image_xobject(img_id, &logo.rgb);
        img.filter(Filter::FlateDecode);
        img.width(logo.width as i32);
        img.height(logo.height as i32);
        img.color_space().device_rgb();
        img.bits_per_component(8);
        if logo.alpha.is_some() {
            img.s_mask(mask_id);
        }
        img.finish();
        if let Some(alpha) = &logo.alpha {
            let mut mask = pdf.image_xobject(mask_id, alpha);
            mask.filter(Filter::FlateDecode);
            mask.width(logo.width as i32);
            mask.height(logo.height as i32);
            mask.color_space().device_gray();
            mask.bits_per_component(8);
            mask.finish();
        }
    }

    Ok(pdf.finish())
}

fn page_content(page: &Page, uses: &mut [FontUse; 2]) -> Vec<u8> {
    let mut c = Content::new();
    let h = page.h;
    for item in &page.items {
        match item {
            Item::Text { font, size, x, y, text, color } => {
                if text.is_empty() {
                    continue;
                }
                let (name, fu) = match font {
                    FontKind::Regular => (REGULAR, &mut uses[0]),
                    FontKind::Bold => (BOLD, &mut uses[1]),
                };
                let bytes = fu.encode(text);
                c.set_fill_rgb(color.0, color.1, color.2);
                c.begin_text();
                c.set_font(name, *size);
                c.set_text_matrix([1.0, 0.0, 0.0, 1.0, pt(*x), pt(h - y)]);
                c.show(Str(&bytes));
                c.end_text();
            }
            Item::Rect { x, y, w, h: rh, fill, stroke } => {
                c.save_state();
                if let Some(f) = fill {
                    c.set_fill_rgb(f.0, f.1, f.2);
                }
                if let Some((s, lw)) = stroke {
                    c.set_stroke_rgb(s.0, s.1, s.2);
                    c.set_line_width(*lw);
                }
                c.rect(pt(*x), pt(h - y - rh), pt(*w), pt(*rh));
                match (fill.is_some(), stroke.is_some()) {
                    (true, true) => c.fill_nonzero_and_stroke(),
                    (true, false) => c.fill_nonzero(),
                    (false, true) => c.stroke(),
                    (false, false) => c.end_path(),
                };
                c.restore_state();
            }
            Item::Line { x1, y1, x2, y2, width_pt, color, dashed } => {
                c.save_state();
                c.set_stroke_rgb(color.0, color.1, color.2);
                c.set_line_width(*width_pt);
                if *dashed {
                    c.set_dash_pattern([2.0, 1.5], 0.0);
                }
                c.move_to(pt(*x1), pt(h - y1));
                c.line_to(pt(*x2), pt(h - y2));
                c.stroke();
                c.restore_state();
            }
            Item::Logo { x, y, w, h: lh } => {
                c.save_state();
                c.transform([pt(*w), 0.0, 0.0, pt(*lh), pt(*x), pt(h - y - lh)]);
                c.x_object(LOGO);
                c.restore_state();
            }
            Item::Qr { rects } => {
                c.begin_marked_content(Name(b"QR"));
                c.save_state();
                c.set_fill_rgb(0.0, 0.0, 0.0);
                for r in rects {
                    c.rect(pt(r[0]), pt(h - r[1] - r[3]), pt(r[2]), pt(r[3]));
                }
                c.fill_nonzero();
                c.restore_state();
                c.end_marked_content();
            }
            Item::Watermark { text, size, angle_deg, color } => {
                let f = fonts().get(FontKind::Bold);
                let w = pt(f.width_mm(text, *size));
                let cap = f.cap_height / f.units_per_em * size;
                let (s, co) = angle_deg.to_radians().sin_cos();
                // Centre of the text box at the centre of the page.
                let (cx, cy) = (pt(page.w) / 2.0, pt(page.h) / 2.0);
                let ox = cx - (w / 2.0) * co + (cap / 2.0) * s;
                let oy = cy - (w / 2.0) * s - (cap / 2.0) * co;
                let bytes = uses[1].encode(text);
                c.save_state();
                c.set_stroke_rgb(color.0, color.1, color.2);
                c.set_line_width(1.2);
                c.begin_text();
                c.set_text_rendering_mode(TextRenderingMode::Stroke);
                c.set_font(BOLD, *size);
                c.set_text_matrix([co, s, -s, co, ox, oy]);
                c.show(Str(&bytes));
                c.end_text();
                c.restore_state();
            }
        }
    }
    c.finish().into_vec()
}

fn write_font(pdf: &mut Pdf, fu: &FontUse, ids: [Ref; 5]) -> Result<(), PdfError> {
    let [type0_id, cid_id, desc_id, cmap_id, file_id] = ids;
    let f = fonts().get(fu.kind);
    let gids: Vec<u16> = fu.remapper.remapped_gids().collect();
    let subset = subsetter::subset(f.bytes, 0, &fu.remapper).map_err(|e| PdfError::Font(format!("{e:?}")))?;

    // Subset tag: six capitals derived from the glyph set (PDF 32000 §9.6.4).
    let mut hash: u32 = 0x811c_9dc5;
    for g in &gids {
        for b in g.to_be_bytes() {
            hash = (hash ^ b as u32).wrapping_mul(0x0100_0193);
        }
    }
    let tag: String = (0..6).map(|i| (b'A' + ((hash >> (i * 5)) % 26) as u8) as char).collect();
    let base_name = format!("{tag}+{}", f.ps_name);
    let base = Name(base_name.as_bytes());

    let system_info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
    let scale = 1000.0 / f.units_per_em;

    pdf.type0_font(type0_id)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);

    let mut cid = pdf.cid_font(cid_id);
    cid.subtype(CidFontType::Type2)
        .base_font(base)
        .system_info(system_info)
        .font_descriptor(desc_id)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    cid.widths().consecutive(0, gids.iter().map(|&g| f.advance_of_gid(g) as f32 * scale));
    cid.finish();

    let bold = fu.kind == FontKind::Bold;
    pdf.font_descriptor(desc_id)
        .name(base)
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(f.bbox[0] * scale, f.bbox[1] * scale, f.bbox[2] * scale, f.bbox[3] * scale))
        .italic_angle(0.0)
        .ascent(f.ascender * scale)
        .descent(f.descender * scale)
        .cap_height(f.cap_height * scale)
        .stem_v(if bold { 140.0 } else { 80.0 })
        .weight(if bold { 700 } else { 400 })
        .font_file2(file_id);

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
    for (&g, &ch) in &fu.unicode {
        cmap.pair(g, ch);
    }
    let cmap_data = cmap.finish();
    pdf.cmap(cmap_id, cmap_data.as_slice());

    let data = deflate(&subset);
    let mut file = pdf.stream(file_id, &data);
    file.filter(Filter::FlateDecode);
    file.pair(Name(b"Length1"), subset.len() as i32);
    file.finish();
    Ok(())
}
