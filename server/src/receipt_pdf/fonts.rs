//! Embedded TrueType faces (DejaVu Sans Condensed, regular + bold) and their
//! metrics. Parsed once per process; text measurement uses the real advance
//! widths so that word-wrapping matches what the PDF viewer draws.

use std::collections::HashMap;
use std::sync::OnceLock;

static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed-Bold.ttf");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum FontKind {
    Regular,
    Bold,
}

pub(crate) struct FontData {
    pub bytes: &'static [u8],
    pub ps_name: &'static str,
    /// char -> (glyph id, advance in font units)
    glyphs: HashMap<char, (u16, u16)>,
    fallback: (u16, u16),
    pub units_per_em: f32,
    pub ascender: f32,
    pub descender: f32,
    pub cap_height: f32,
    pub bbox: [f32; 4],
    advances: Vec<u16>,
}

impl FontData {
    fn parse(bytes: &'static [u8], ps_name: &'static str) -> FontData {
        // The fonts are compiled in; failing to parse them is a build defect.
        let face = ttf_parser::Face::parse(bytes, 0).expect("embedded font must parse");
        let mut glyphs = HashMap::new();
        if let Some(cmap) = face.tables().cmap {
            for st in cmap.subtables {
                if !st.is_unicode() {
                    continue;
                }
                st.codepoints(|cp| {
                    if let (Some(ch), Some(gid)) = (char::from_u32(cp), st.glyph_index(cp)) {
                        let adv = face.glyph_hor_advance(gid).unwrap_or(0);
                        glyphs.entry(ch).or_insert((gid.0, adv));
                    }
                });
            }
        }
        let advances =
            (0..face.number_of_glyphs()).map(|g| face.glyph_hor_advance(ttf_parser::GlyphId(g)).unwrap_or(0)).collect();
        let fallback = glyphs.get(&'?').copied().unwrap_or((0, 0));
        let bb = face.global_bounding_box();
        FontData {
            bytes,
            ps_name,
            glyphs,
            fallback,
            units_per_em: face.units_per_em() as f32,
            ascender: face.ascender() as f32,
            descender: face.descender() as f32,
            cap_height: face.capital_height().unwrap_or(face.ascender()) as f32,
            bbox: [bb.x_min as f32, bb.y_min as f32, bb.x_max as f32, bb.y_max as f32],
            advances,
        }
    }

    /// Glyph id and advance (font units) for a character; unknown characters
    /// map to '?' so nothing silently disappears.
    pub fn glyph(&self, ch: char) -> (u16, u16) {
        self.glyphs.get(&ch).copied().unwrap_or(self.fallback)
    }

    pub fn has_char(&self, ch: char) -> bool {
        self.glyphs.contains_key(&ch)
    }

    pub fn advance_of_gid(&self, gid: u16) -> u16 {
        self.advances.get(gid as usize).copied().unwrap_or(0)
    }

    /// Width of `text` in millimetres at `size_pt`.
    pub fn width_mm(&self, text: &str, size_pt: f32) -> f32 {
        let units: u32 = text.chars().map(|c| self.glyph(c).1 as u32).sum();
        units as f32 / self.units_per_em * size_pt * crate::receipt_pdf::PT_TO_MM
    }
}

pub(crate) struct Fonts {
    pub regular: FontData,
    pub bold: FontData,
}

impl Fonts {
    pub fn get(&self, kind: FontKind) -> &FontData {
        match kind {
            FontKind::Regular => &self.regular,
            FontKind::Bold => &self.bold,
        }
    }
}

pub(crate) fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| Fonts {
        regular: FontData::parse(REGULAR_TTF, "DejaVuSansCondensed"),
        bold: FontData::parse(BOLD_TTF, "DejaVuSansCondensed-Bold"),
    })
}

/// Greedy word-wrap using the font's real advance widths. Words longer than
/// the line (URLs, references) are broken between characters. Explicit
/// newlines are honoured. Always returns at least one line.
pub(crate) fn wrap(kind: FontKind, size_pt: f32, text: &str, max_w_mm: f32) -> Vec<String> {
    let f = fonts().get(kind);
    let space_w = f.width_mm(" ", size_pt);
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut cur = String::new();
        let mut cur_w = 0.0f32;
        for word in para.split_whitespace() {
            let w = f.width_mm(word, size_pt);
            let needed = if cur.is_empty() { w } else { cur_w + space_w + w };
            if needed <= max_w_mm {
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.push_str(word);
                cur_w = needed;
                continue;
            }
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
                cur_w = 0.0;
            }
            if w <= max_w_mm {
                cur.push_str(word);
                cur_w = w;
            } else {
                // Hard-break an over-long word character by character.
                for ch in word.chars() {
                    let cw = f.width_mm(ch.encode_utf8(&mut [0; 4]), size_pt);
                    if cur_w + cw > max_w_mm && !cur.is_empty() {
                        lines.push(std::mem::take(&mut cur));
                        cur_w = 0.0;
                    }
                    cur.push(ch);
                    cur_w += cw;
                }
            }
        }
        lines.push(cur);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Shorten `text` with an ellipsis so it fits `max_w_mm` (used only for
/// single-line cells such as amounts, which should never need it).
pub(crate) fn fit(kind: FontKind, size_pt: f32, text: &str, max_w_mm: f32) -> String {
    let f = fonts().get(kind);
    if f.width_mm(text, size_pt) <= max_w_mm {
        return text.to_string();
    }
    let mut out = String::new();
    for ch in text.chars() {
        out.push(ch);
        if f.width_mm(&out, size_pt) + f.width_mm("…", size_pt) > max_w_mm {
            out.pop();
            break;
        }
    }
    out.push('…');
    out
}
