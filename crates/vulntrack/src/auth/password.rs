//! Password hashing with argon2id, off the async runtime. Legacy bcrypt
//! hashes (`$2a$`, `$2b$`, `$2y$`, as bcryptjs made them) still verify, and
//! the caller replaces them with argon2id on the next successful sign-in.
//!
//! Hashing is deliberately expensive; done on the runtime's worker threads a
//! burst of logins would stall every other request. Each hash runs on a
//! blocking thread, and a semaphore bounds how many run at once: by default
//! one fewer than the cores (at least one), so a sign-in flood always
//! leaves a core to everything else. Beyond a bounded queue of waiting
//! hashes, more are refused as busy (503 with `Retry-After`) instead of
//! piling up requests and their memory (argon2 uses ~19 MiB per hash).

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _, password_hash::phc::PasswordHash};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OnceCell, Semaphore};

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed")]
    Task(#[from] tokio::task::JoinError),
    #[error("password hasher is shut down")]
    Closed,
    /// The queue of waiting hashes is full: the caller should try later.
    #[error("too many sign-ins are being checked; try again shortly")]
    Busy,
}

/// Hashes that may wait for a free hashing slot, per slot. A waiting sign-in
/// holds little memory (argon2 allocates only when it runs), so the line is
/// long enough for bursts and bounded only against unbounded piling up.
const QUEUE_PER_SLOT: usize = 64;

/// Hashes and verifies passwords with bounded concurrency.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Hashes running or waiting, to bound the queue.
    in_line: Arc<AtomicUsize>,
    max_in_line: usize,
    /// A real argon2id hash of nothing anyone knows, verified against when
    /// the account does not exist, so a missing account costs the same
    /// time as a wrong password and emails cannot be probed by timing.
    decoy: Arc<OnceCell<String>>,
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Mismatch,
    Match,
    /// Matched a legacy (bcrypt) hash: store a fresh argon2id hash.
    MatchNeedsUpgrade,
}

impl Verification {
    pub fn matched(self) -> bool {
        self != Verification::Mismatch
    }
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|prefix| hash.starts_with(prefix))
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_concurrency(cores.saturating_sub(1))
    }
}

/// Holds a place in the hashing line until the hash is done.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordHasher {
    pub fn with_concurrency(max_parallel: usize) -> Self {
        let slots = max_parallel.max(1);
        Self {
            permits: Arc::new(Semaphore::new(slots)),
            in_line: Arc::default(),
            max_in_line: slots * (1 + QUEUE_PER_SLOT),
            decoy: Arc::new(OnceCell::new()),
        }
    }

    /// How many hashes may run at once.
    pub fn slots(&self) -> usize {
        self.max_in_line / (1 + QUEUE_PER_SLOT)
    }

    /// A place in line, or `Busy` when the line is full.
    fn join_line(&self) -> Result<Place, HashError> {
        let before = self.in_line.fetch_add(1, Ordering::AcqRel);
        let place = Place(self.in_line.clone());
        if before >= self.max_in_line {
            return Err(HashError::Busy);
        }
        Ok(place)
    }

    /// An argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`), with the
    /// OWASP-recommended default parameters and a random salt.
    pub async fn hash(&self, password: SecretString) -> Result<String, HashError> {
        let _place = self.join_line()?;
        let _permit = self.permits.acquire().await.map_err(|_| HashError::Closed)?;
        tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(password.expose_secret().as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|e| HashError::Hash(e.to_string()))
        })
        .await?
    }

    /// Checks `password` against an argon2 PHC string or a legacy bcrypt
    /// hash. A malformed stored hash never matches.
    pub async fn verify(&self, password: SecretString, stored: String) -> Result<Verification, HashError> {
        let _place = self.join_line()?;
        let _permit = self.permits.acquire().await.map_err(|_| HashError::Closed)?;
        tokio::task::spawn_blocking(move || {
            let candidate = password.expose_secret().as_bytes();
            if is_bcrypt(&stored) {
                return match bcrypt::verify(candidate, &stored) {
                    Ok(true) => Verification::MatchNeedsUpgrade,
                    _ => Verification::Mismatch,
                };
            }
            let matched = PasswordHash::new(&stored)
                .is_ok_and(|parsed| Argon2::default().verify_password(candidate, &parsed).is_ok());
            if matched { Verification::Match } else { Verification::Mismatch }
        })
        .await
        .map_err(HashError::from)
    }

    /// Spends the time of one verification without an account to check.
    pub async fn verify_decoy(&self, password: SecretString) -> Result<(), HashError> {
        let decoy = self
            .decoy
            .get_or_try_init(|| async {
                let mut random = [0u8; 32];
                rand::fill(&mut random);
                self.hash(SecretString::from(hex::encode(random))).await
            })
            .await?
            .clone();
        self.verify(password, decoy).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_core_is_left_to_requests() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        assert_eq!(PasswordHasher::default().slots(), cores.saturating_sub(1).max(1));
        assert_eq!(PasswordHasher::with_concurrency(0).slots(), 1);
    }

    #[tokio::test]
    async fn a_full_line_is_refused_as_busy_and_frees_as_hashes_finish() {
        let hasher = PasswordHasher::with_concurrency(1);
        let held: Vec<Place> = (0..hasher.max_in_line).map(|_| hasher.join_line().expect("room")).collect();
        assert!(matches!(hasher.hash(SecretString::from("x")).await, Err(HashError::Busy)));
        assert!(matches!(hasher.verify(SecretString::from("x"), String::new()).await, Err(HashError::Busy)));
        drop(held);
        assert_eq!(hasher.in_line.load(Ordering::Acquire), 0, "refused attempts leave no place taken");
        assert!(hasher.verify(SecretString::from("x"), "not a hash".into()).await.is_ok());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let hasher = PasswordHasher::default();
        let password = || SecretString::from("k3#Vq9!zLw2@Tr");
        let first = hasher.hash(password()).await.expect("hash");
        let second = hasher.hash(password()).await.expect("hash");
        assert!(first.starts_with("$argon2id$v=19$"), "{first}");
        assert_ne!(first, second, "each hash has its own salt");
        let check = |password: SecretString, stored: String| hasher.verify(password, stored);
        assert_eq!(check(password(), first.clone()).await.expect("verify"), Verification::Match);
        assert_eq!(check(SecretString::from("wrong"), first).await.expect("verify"), Verification::Mismatch);
        assert_eq!(check(password(), "not a hash".into()).await.expect("verify"), Verification::Mismatch);
    }

    #[tokio::test]
    async fn legacy_bcrypt_hashes_verify_and_ask_for_an_upgrade() {
        // The same hash under each prefix bcrypt implementations write; the
        // integration suite checks a real bcryptjs cost-12 hash end to end.
        let hasher = PasswordHasher::default();
        let hash = bcrypt::hash("k3#Vq9!zLw2@Tr", 4).expect("bcrypt");
        for variant in ["$2a$", "$2b$", "$2y$"] {
            let stored = format!("{variant}{}", &hash[4..]);
            let outcome = hasher.verify(SecretString::from("k3#Vq9!zLw2@Tr"), stored.clone()).await.expect("verify");
            assert_eq!(outcome, Verification::MatchNeedsUpgrade, "{variant}");
            let wrong = hasher.verify(SecretString::from("nope"), stored).await.expect("verify");
            assert_eq!(wrong, Verification::Mismatch);
        }
    }

    #[tokio::test]
    async fn the_decoy_check_runs_without_an_account() {
        let hasher = PasswordHasher::default();
        hasher.verify_decoy(SecretString::from("anything")).await.expect("decoy");
    }
}
