//! Compressed uploads: a `.gz` file or a `.zip` of one report, opened
//! within a limit on the decompressed size so a zip bomb is refused after
//! reading at most `limit` bytes, never by running out of memory.

use std::{
    fmt,
    io::{Cursor, Read},
};

/// Why an upload could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnpackError {
    /// The report inside is larger than the limit (in bytes).
    TooLarge { limit: u64 },
    /// A zip holding no file, or more than one.
    NotOneReport { files: usize },
    /// Not a readable archive.
    Corrupt(String),
}

impl fmt::Display for UnpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnpackError::TooLarge { limit } => {
                write!(f, "the decompressed report is larger than the limit of {limit} bytes")
            }
            UnpackError::NotOneReport { files } => {
                write!(f, "a .zip upload must hold exactly one report; this one holds {files} files")
            }
            UnpackError::Corrupt(why) => write!(f, "the compressed upload cannot be read: {why}"),
        }
    }
}

impl std::error::Error for UnpackError {}

fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Whether a file starting with `head` is one that [`unpack`] decompresses.
pub fn is_compressed(head: &[u8]) -> bool {
    is_gzip(head) || is_zip(head)
}

/// The report in `data`: `data` itself when it is not compressed, else the
/// decompressed bytes of the gzip stream or of the zip's one file.
pub fn unpack(data: Vec<u8>, limit: u64) -> Result<Vec<u8>, UnpackError> {
    if is_gzip(&data) {
        let decoder = flate2::read::MultiGzDecoder::new(Cursor::new(data));
        return read_limited(decoder, limit);
    }
    if is_zip(&data) {
        return unzip_one(data, limit);
    }
    if data.len() as u64 > limit {
        return Err(UnpackError::TooLarge { limit });
    }
    Ok(data)
}

fn unzip_one(data: Vec<u8>, limit: u64) -> Result<Vec<u8>, UnpackError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(data)).map_err(|e| UnpackError::Corrupt(e.to_string()))?;
    let files: Vec<usize> = (0..archive.len())
        .filter(|&i| {
            archive.by_index_raw(i).is_ok_and(|entry| {
                // Finder's resource forks ride along in zips made on a Mac.
                entry.is_file() && !entry.name().starts_with("__MACOSX/")
            })
        })
        .collect();
    let [only] = files[..] else {
        return Err(UnpackError::NotOneReport { files: files.len() });
    };
    let entry = archive.by_index(only).map_err(|e| UnpackError::Corrupt(e.to_string()))?;
    // The declared size is a claim, not a promise: the read below is
    // limited whatever the header says.
    if entry.size() > limit {
        return Err(UnpackError::TooLarge { limit });
    }
    read_limited(entry, limit)
}

fn read_limited(reader: impl Read, limit: u64) -> Result<Vec<u8>, UnpackError> {
    let mut out = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut out).map_err(|e| UnpackError::Corrupt(e.to_string()))?;
    if out.len() as u64 > limit {
        return Err(UnpackError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in files {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn plain_gzip_and_zip_uploads_open() {
        assert_eq!(unpack(b"{}".to_vec(), 10).unwrap(), b"{}");
        assert_eq!(unpack(gzip(b"{\"a\":1}"), 100).unwrap(), b"{\"a\":1}");
        assert_eq!(unpack(zip_of(&[("r.json", b"[1]")]), 100).unwrap(), b"[1]");
    }

    #[test]
    fn a_bomb_is_refused_at_the_limit() {
        // 64 MiB of zeros compress to about 64 KiB.
        let zeros = vec![0u8; 64 << 20];
        assert_eq!(unpack(gzip(&zeros), 1 << 20), Err(UnpackError::TooLarge { limit: 1 << 20 }));
        assert_eq!(unpack(zip_of(&[("bomb.json", &zeros)]), 1 << 20), Err(UnpackError::TooLarge { limit: 1 << 20 }));
        assert_eq!(unpack(vec![b' '; 11], 10), Err(UnpackError::TooLarge { limit: 10 }));
    }

    #[test]
    fn a_zip_must_hold_one_report() {
        let two = zip_of(&[("a.json", b"1"), ("b.json", b"2")]);
        assert_eq!(unpack(two, 100), Err(UnpackError::NotOneReport { files: 2 }));
        assert!(matches!(unpack(b"PK\x03\x04garbage".to_vec(), 100), Err(UnpackError::Corrupt(_))));
        assert!(matches!(unpack(vec![0x1f, 0x8b, 1, 2, 3], 100), Err(UnpackError::Corrupt(_))));
    }
}
