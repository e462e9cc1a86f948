//! VulnTrack: self-hosted vulnerability management.
//!
//! The library holds the whole application so integration tests drive the
//! real router; `main.rs` only hands over to [`cli::main`].

pub mod alerts;
pub mod api;
pub mod app;
pub mod audit_heads;
pub mod auth;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod exports;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod notify_mail;
pub mod ratelimit;
pub mod services;
pub mod spreadsheet;
pub mod state;
pub mod telemetry;
pub mod web;

pub use app::{AppState, build_router, serve};
pub use config::Config;
