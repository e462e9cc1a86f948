//! Password hashing with argon2id, off the async runtime.
//!
//! Hashing is deliberately expensive; done on the runtime's worker threads a
//! burst of logins would stall every other request. Each hash runs on a
//! blocking thread, and a semaphore bounds how many run at once so a flood
//! queues instead of exhausting memory (argon2 uses ~19 MiB per hash).

use std::sync::Arc;

use argon2::{
    Argon2, PasswordHasher as _, PasswordVerifier as _, password_hash::phc::PasswordHash,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed")]
    Task(#[from] tokio::task::JoinError),
    #[error("password hasher is shut down")]
    Closed,
}

/// Hashes and verifies passwords with bounded concurrency.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_concurrency(cores)
    }
}

impl PasswordHasher {
    pub fn with_concurrency(max_parallel: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_parallel.max(1))),
        }
    }

    /// An argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`), with the
    /// OWASP-recommended default parameters and a random salt.
    pub async fn hash(&self, password: SecretString) -> Result<String, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::Closed)?;
        tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(password.expose_secret().as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|e| HashError::Hash(e.to_string()))
        })
        .await?
    }

    /// Whether `password` matches an argon2 PHC string. A malformed stored
    /// hash never matches.
    pub async fn verify(&self, password: SecretString, stored: String) -> Result<bool, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::Closed)?;
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(password.expose_secret().as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .map_err(HashError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let hasher = PasswordHasher::default();
        let password = || SecretString::from("k3#Vq9!zLw2@Tr");
        let first = hasher.hash(password()).await.expect("hash");
        let second = hasher.hash(password()).await.expect("hash");
        assert!(first.starts_with("$argon2id$v=19$"), "{first}");
        assert_ne!(first, second, "each hash has its own salt");
        assert!(
            hasher
                .verify(password(), first.clone())
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify(SecretString::from("wrong"), first)
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify(password(), "not a hash".into())
                .await
                .expect("verify")
        );
    }
}
