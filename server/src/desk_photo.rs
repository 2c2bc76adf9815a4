//! The verify desk's photo of a receipt (`POST /personal/caja/verificar/foto`,
//! for a phone or tablet without a scanner and without `BarcodeDetector`):
//! the QR code read from a JPEG or PNG on the server.
//!
//! The upload is judged by its content only (the magic bytes; never its
//! name nor its declared type), decoded with bounded dimensions and memory,
//! made grey and downsized (longest side [`MAX_SIDE`] px: phone photos are
//! 12–50 megapixels), and its QR code read with `rqrr`, which finds a code
//! at any angle (a photo's EXIF rotation does not matter). When the whole
//! photo shows no code, its centre is tried at full resolution (a small
//! code held far from the camera). The work is CPU-bound: it runs on
//! the blocking pool, at most [`CONCURRENT_READS`] at once, under a time
//! limit ([`read_qr_in_background`]).

use std::io::Cursor;
use std::sync::OnceLock;
use std::time::Duration;

use image::{DynamicImage, GrayImage, ImageFormat};
use tokio::sync::Semaphore;

/// Longest side, in pixels, of the image the code is looked for in.
pub const MAX_SIDE: u32 = 1600;
/// Largest photo accepted, per side (a 200-megapixel sensor's is 16 320).
const MAX_INPUT_SIDE: u32 = 20_000;
/// Most memory the decoder may hold for one photo.
const MAX_DECODE_ALLOC: u64 = 256 * 1024 * 1024;
/// How many photos are read at once (the others wait, within their time).
pub const CONCURRENT_READS: usize = 2;
/// How long a photo may take, waiting included.
pub const TIME_LIMIT: Duration = Duration::from_secs(15);

/// The formats read, told by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
}

impl Format {
    fn image_format(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
        }
    }
}

/// What the bytes are, by their signature: JPEG (`FF D8 FF`) or PNG
/// (`89 50 4E 47 0D 0A 1A 0A`); anything else is not read.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else {
        None
    }
}

/// Why no code came out of a photo.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    #[error("not a JPEG or PNG")]
    NotAnImage,
    #[error("the image cannot be decoded")]
    Unreadable,
    #[error("the image is too large to decode")]
    TooLarge,
    #[error("no QR code found")]
    NoCode,
    #[error("reading the photo took too long")]
    TimedOut,
}

/// The text of the QR code in the photo `bytes` (blocking: CPU-bound).
/// Of several codes, the first that is a receipt's verification URL, or
/// else the first read.
pub fn read_qr(bytes: &[u8]) -> Result<String, PhotoError> {
    let format = sniff(bytes).ok_or(PhotoError::NotAnImage)?;
    let grey = decode_grey(bytes, format)?;
    if let Some(text) = codes_in(&downsized(&grey)) {
        return Ok(text);
    }
    let (w, h) = grey.dimensions();
    if w.max(h) > MAX_SIDE {
        // The centre at full resolution (at most MAX_SIDE × MAX_SIDE): a
        // small code, held far from the camera, whose modules the downsizing
        // blurred together.
        let (cw, ch) = (w.min(MAX_SIDE), h.min(MAX_SIDE));
        let centre = image::imageops::crop_imm(&grey, (w - cw) / 2, (h - ch) / 2, cw, ch).to_image();
        if let Some(text) = codes_in(&centre) {
            return Ok(text);
        }
    }
    Err(PhotoError::NoCode)
}

fn decode_grey(bytes: &[u8], format: Format) -> Result<GrayImage, PhotoError> {
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_INPUT_SIDE);
    limits.max_image_height = Some(MAX_INPUT_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    match reader.decode() {
        Ok(DynamicImage::ImageLuma8(grey)) => Ok(grey),
        Ok(other) => Ok(other.into_luma8()),
        Err(image::ImageError::Limits(e)) => {
            tracing::info!(error = %e, "desk photo: over the decoder's limits");
            Err(PhotoError::TooLarge)
        }
        Err(e) => {
            tracing::info!(error = %e, "desk photo: not decoded");
            Err(PhotoError::Unreadable)
        }
    }
}

/// `grey` with its longest side at most [`MAX_SIDE`] (area averaging keeps
/// the modules' edges).
fn downsized(grey: &GrayImage) -> GrayImage {
    let (w, h) = grey.dimensions();
    let longest = w.max(h);
    if longest <= MAX_SIDE {
        return grey.clone();
    }
    let scale = |side: u32| ((u64::from(side) * u64::from(MAX_SIDE) / u64::from(longest)) as u32).max(1);
    image::imageops::thumbnail(grey, scale(w), scale(h))
}

/// The codes `rqrr` reads in `grey`: the first receipt URL, else the first text.
fn codes_in(grey: &GrayImage) -> Option<String> {
    let (w, h) = (grey.width() as usize, grey.height() as usize);
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| grey.get_pixel(x as u32, y as u32).0[0]);
    let texts: Vec<String> =
        prepared.detect_grids().into_iter().filter_map(|grid| grid.decode().ok().map(|(_, text)| text)).collect();
    texts.iter().find(|t| app::domain::receipt_sig::parse_verify_url(t).is_ok()).or_else(|| texts.first()).cloned()
}

/// [`read_qr`] on the blocking pool, at most [`CONCURRENT_READS`] at once,
/// within [`TIME_LIMIT`] (waiting for a turn included). A read past its time
/// is answered [`PhotoError::TimedOut`]; it finishes in the background and
/// keeps its turn until then, so the pool is never flooded.
pub async fn read_qr_in_background(bytes: Vec<u8>) -> Result<String, PhotoError> {
    static TURNS: OnceLock<std::sync::Arc<Semaphore>> = OnceLock::new();
    let turns = TURNS.get_or_init(|| std::sync::Arc::new(Semaphore::new(CONCURRENT_READS))).clone();
    let work = async move {
        let turn = turns.acquire_owned().await.map_err(|_| PhotoError::TimedOut)?;
        let read = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            read_qr(&bytes)
        });
        match read.await {
            Ok(result) => result,
            Err(e) => {
                tracing::error!(error = %e, "desk photo: the reading task failed");
                Err(PhotoError::Unreadable)
            }
        }
    };
    tokio::time::timeout(TIME_LIMIT, work).await.unwrap_or(Err(PhotoError::TimedOut))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` as a QR code, `module` px per module, centred on a white
    /// `w`×`h` canvas.
    fn photo_of(text: &str, module: u32, w: u32, h: u32) -> GrayImage {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let n = code.width() as u32;
        let colors = code.to_colors();
        let mut canvas = GrayImage::from_pixel(w, h, image::Luma([255]));
        let (x0, y0) = ((w - n * module) / 2, (h - n * module) / 2);
        for (i, c) in colors.iter().enumerate() {
            if *c == qrcode::Color::Dark {
                let (mx, my) = (i as u32 % n, i as u32 / n);
                for dy in 0..module {
                    for dx in 0..module {
                        canvas.put_pixel(x0 + mx * module + dx, y0 + my * module + dy, image::Luma([0]));
                    }
                }
            }
        }
        canvas
    }

    fn encoded(img: &GrayImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    const URL: &str = "https://pagos.loreto.gob.mx/v/A-2026-000001?s=k1.AAAABBBBCCCCDDDD";

    #[test]
    fn formats_are_told_by_their_first_bytes_only() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(Format::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Format::Png));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
        assert_eq!(sniff(b"hola, soy un .jpg"), None);
        assert_eq!(sniff(&[]), None);
        assert_eq!(read_qr(b"hola, soy un .jpg"), Err(PhotoError::NotAnImage));
        assert_eq!(read_qr(&[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]), Err(PhotoError::Unreadable), "a truncated JPEG");
    }

    #[test]
    fn a_code_is_read_from_a_png_and_a_jpeg_and_a_blank_photo_has_none() {
        let photo = photo_of(URL, 6, 600, 500);
        assert_eq!(read_qr(&encoded(&photo, ImageFormat::Png)).as_deref(), Ok(URL));
        assert_eq!(read_qr(&encoded(&photo, ImageFormat::Jpeg)).as_deref(), Ok(URL));
        let blank = GrayImage::from_pixel(640, 480, image::Luma([230]));
        assert_eq!(read_qr(&encoded(&blank, ImageFormat::Png)), Err(PhotoError::NoCode));
    }

    #[test]
    fn a_large_photo_is_downsized_and_a_small_code_in_its_centre_is_still_read() {
        // 4000 px wide: the code's 3 px modules would be 1.2 px once the
        // whole photo is downsized to 1600; its centre, at full resolution, reads.
        let photo = photo_of(URL, 3, 4000, 3000);
        assert_eq!(downsized(&photo).dimensions(), (1600, 1200));
        assert_eq!(read_qr(&encoded(&photo, ImageFormat::Png)).as_deref(), Ok(URL));
    }

    #[test]
    fn an_image_beyond_the_decoders_limits_is_refused_before_it_is_decoded() {
        // A PNG header that claims 30 000 × 30 000 pixels.
        let mut png = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut png, 30_000, 1);
            encoder.set_color(png::ColorType::Grayscale);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&vec![255; 30_000]).unwrap();
        }
        assert_eq!(read_qr(&png), Err(PhotoError::TooLarge));
    }
}
