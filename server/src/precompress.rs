//! `recauda precompress DIR`: writes a brotli copy (`file.br`, quality 11) of
//! every static asset, so the server hands phones the smallest wasm, JS and
//! CSS without compressing them again on every request.

use std::io::Write;
use std::path::{Path, PathBuf};

const COMPRESSIBLE: &[&str] = &["wasm", "js", "css", "svg", "json", "html", "txt", "ico"];

/// Compresses every compressible file under `dir`; returns (files, raw bytes, brotli bytes).
pub fn precompress_dir(dir: &Path) -> std::io::Result<(usize, u64, u64)> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    let (mut raw_total, mut br_total) = (0u64, 0u64);
    for path in &files {
        let raw = std::fs::read(path)?;
        let mut out = Vec::with_capacity(raw.len() / 3);
        {
            let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
            writer.write_all(&raw)?;
        }
        let mut br_path = path.clone().into_os_string();
        br_path.push(".br");
        std::fs::write(&br_path, &out)?;
        raw_total += raw.len() as u64;
        br_total += out.len() as u64;
    }
    Ok((files.len(), raw_total, br_total))
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| COMPRESSIBLE.contains(&e)) {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_smaller_brotli_copy_that_decompresses_to_the_original() {
        let dir = std::env::temp_dir().join(format!("recauda-precompress-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        let body = "body { color: #123456; }\n".repeat(200);
        std::fs::write(dir.join("pkg/site.css"), &body).unwrap();
        std::fs::write(dir.join("photo.png"), [0u8; 10]).unwrap();
        let (files, raw, br) = precompress_dir(&dir).unwrap();
        assert_eq!(files, 1, "only compressible files");
        assert!(br < raw / 10);
        let compressed = std::fs::read(dir.join("pkg/site.css.br")).unwrap();
        let mut restored = Vec::new();
        brotli::BrotliDecompress(&mut compressed.as_slice(), &mut restored).unwrap();
        assert_eq!(restored, body.as_bytes());
        assert!(!dir.join("photo.png.br").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
