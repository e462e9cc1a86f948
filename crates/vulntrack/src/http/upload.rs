//! Reading a multipart upload (a scanner report and its form fields)
//! within the upload limit, counted while the bytes arrive, so an oversized
//! upload is refused after reading at most the limit, whatever it claimed.

use std::collections::HashMap;

use axum::extract::{Multipart, multipart::MultipartError};

use crate::services::ServiceError;

/// Longest value of a text field of the form.
const FIELD_MAX_BYTES: usize = 4096;

/// The file part and the text fields of an upload form.
#[derive(Debug, Default)]
pub struct Upload {
    /// The file's name as the client sent it (no path), if a file came.
    pub file_name: Option<String>,
    pub data: Vec<u8>,
    /// Text fields by name; a repeated field's values are joined by commas.
    pub fields: HashMap<String, String>,
}

impl Upload {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

fn unreadable(error: &MultipartError) -> ServiceError {
    ServiceError::Malformed(format!("the upload could not be read as multipart/form-data: {}", error.body_text()))
}

/// Reads the form: the part named `file_field` is the report, at most
/// `limit` bytes; every other part is a short text field.
pub async fn read(mut multipart: Multipart, file_field: &str, limit: u64) -> Result<Upload, ServiceError> {
    let mut upload = Upload::default();
    while let Some(mut part) = multipart.next_field().await.map_err(|e| unreadable(&e))? {
        let name = part.name().unwrap_or("").to_owned();
        if name == file_field {
            let file_name = part.file_name().unwrap_or("report").to_owned();
            // A browser may send a path; only its last part is the name.
            let base = file_name.rsplit(['/', '\\']).next().unwrap_or("report").to_owned();
            upload.file_name = Some(base);
            while let Some(chunk) = part.chunk().await.map_err(|e| unreadable(&e))? {
                if (upload.data.len() + chunk.len()) as u64 > limit {
                    return Err(ServiceError::TooLarge { limit });
                }
                upload.data.extend_from_slice(&chunk);
            }
            continue;
        }
        let mut value = Vec::new();
        while let Some(chunk) = part.chunk().await.map_err(|e| unreadable(&e))? {
            if value.len() + chunk.len() > FIELD_MAX_BYTES {
                return Err(ServiceError::field(&name, "too_long", "is too long"));
            }
            value.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(value).map_err(|_| ServiceError::field(&name, "invalid", "must be UTF-8 text"))?;
        if vulntrack_domain::control_chars::contains_forbidden(&text) {
            return Err(ServiceError::Invalid(vulntrack_domain::control_chars::field_error(name).into()));
        }
        upload
            .fields
            .entry(name)
            .and_modify(|joined| {
                joined.push(',');
                joined.push_str(&text);
            })
            .or_insert(text);
    }
    Ok(upload)
}
