//! The integration suite: one binary, run unchanged on SQLite (default) and
//! on PostgreSQL (when `VULNTRACK_TEST_DATABASE_URL` names a server whose
//! user may create databases; each test gets a fresh database).

mod support;

mod access;
mod alerts;
mod architecture;
mod assets;
mod audit;
mod auth;
mod browser;
mod cli;
mod conformance;
mod contract;
mod cves;
mod detail_page;
mod exports;
mod hardening;
mod health;
mod imports;
mod integrity;
mod operations;
mod outbound;
mod pentest;
mod privacy;
mod readiness;
mod services;
mod tokens;
mod vulnerabilities;
mod web;
