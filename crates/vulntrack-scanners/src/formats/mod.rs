//! One module per format. Each has `parse(data, report)`, which reads the
//! whole report and pushes its findings, and `sniff(head)`, which says
//! whether the start of a file looks like that format (for `format=auto`).

use crate::{Format, ParseError, ReportBuilder, detect::Head};

pub(crate) mod support;
mod web;
mod xml_tree;

mod bandit;
mod burp;
mod checkov;
mod cyclonedx;
mod dependency_check;
mod github_dependabot;
mod gitlab_sast;
mod gitleaks;
mod grype;
mod nessus;
mod nikto;
mod npm_audit;
mod nuclei;
mod openvas;
mod osv;
mod qualys;
mod sarif;
mod semgrep;
mod snyk;
mod trivy;
mod trufflehog;
mod zap;

/// Reads a report of a format that streams from `reader`, which starts at
/// its first non-blank byte `first`; `None` for the formats that are read
/// whole.
pub(crate) fn parse_reader(
    format: Format,
    first: u8,
    reader: impl std::io::Read,
    report: &mut ReportBuilder,
) -> Option<Result<(), ParseError>> {
    // Anything else (`null`, text that is not JSON) is read whole, where
    // the format's own parser says what it is.
    match (format, first) {
        (Format::Sarif, b'{') => Some(sarif::parse_reader(reader, report)),
        (Format::Trivy, b'{' | b'[') => Some(trivy::parse_reader(reader, first == b'[', report)),
        _ => None,
    }
}

pub(crate) fn parse(format: Format, data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    match format {
        Format::Sarif => sarif::parse(data, report),
        Format::Trivy => trivy::parse(data, report),
        Format::Grype => grype::parse(data, report),
        Format::Osv => osv::parse(data, report),
        Format::CycloneDx => cyclonedx::parse(data, report),
        Format::DependencyCheck => dependency_check::parse(data, report),
        Format::NpmAudit => npm_audit::parse(data, report),
        Format::Snyk => snyk::parse(data, report),
        Format::Zap => zap::parse(data, report),
        Format::Semgrep => semgrep::parse(data, report),
        Format::Bandit => bandit::parse(data, report),
        Format::GithubDependabot => github_dependabot::parse(data, report),
        Format::GitlabSast => gitlab_sast::parse(data, report),
        Format::Nessus => nessus::parse(data, report),
        Format::Gitleaks => gitleaks::parse(data, report),
        Format::Trufflehog => trufflehog::parse(data, report),
        Format::Checkov => checkov::parse(data, report),
        Format::Nuclei => nuclei::parse(data, report),
        Format::Burp => burp::parse(data, report),
        Format::Nikto => nikto::parse(data, report),
        Format::Openvas => openvas::parse(data, report),
        Format::Qualys => qualys::parse(data, report),
    }
}

/// Whether `head` looks like `format`. The detector asks in
/// [`crate::detect::ORDER`], most specific first.
pub(crate) fn sniff(format: Format, head: &Head<'_>) -> bool {
    match format {
        Format::Sarif => sarif::sniff(head),
        Format::Trivy => trivy::sniff(head),
        Format::Grype => grype::sniff(head),
        Format::Osv => osv::sniff(head),
        Format::CycloneDx => cyclonedx::sniff(head),
        Format::DependencyCheck => dependency_check::sniff(head),
        Format::NpmAudit => npm_audit::sniff(head),
        Format::Snyk => snyk::sniff(head),
        Format::Zap => zap::sniff(head),
        Format::Semgrep => semgrep::sniff(head),
        Format::Bandit => bandit::sniff(head),
        Format::GithubDependabot => github_dependabot::sniff(head),
        Format::GitlabSast => gitlab_sast::sniff(head),
        Format::Nessus => nessus::sniff(head),
        Format::Gitleaks => gitleaks::sniff(head),
        Format::Trufflehog => trufflehog::sniff(head),
        Format::Checkov => checkov::sniff(head),
        Format::Nuclei => nuclei::sniff(head),
        Format::Burp => burp::sniff(head),
        Format::Nikto => nikto::sniff(head),
        Format::Openvas => openvas::sniff(head),
        Format::Qualys => qualys::sniff(head),
    }
}
