//! The report formats the importer reads, by the names the API and CLI accept.

use std::{fmt, str::FromStr};

macro_rules! formats {
    ($($variant:ident => $name:literal, $label:literal;)+) => {
        /// A scanner report format.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Format {
            $($variant),+
        }

        impl Format {
            pub const ALL: &'static [Format] = &[$(Format::$variant),+];

            /// The name the API, the CLI and the import records use.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Format::$variant => $name),+
                }
            }

            /// The tool or format as people call it, for pages.
            pub const fn label(self) -> &'static str {
                match self {
                    $(Format::$variant => $label),+
                }
            }
        }
    };
}

formats! {
    Sarif => "sarif", "SARIF 2.1.0";
    Trivy => "trivy", "Trivy JSON";
    Grype => "grype", "Grype JSON";
    Osv => "osv", "OSV-Scanner JSON";
    CycloneDx => "cyclonedx", "CycloneDX (JSON or XML)";
    DependencyCheck => "dependency-check", "OWASP Dependency-Check (XML or JSON)";
    NpmAudit => "npm-audit", "npm audit JSON";
    Snyk => "snyk", "Snyk JSON";
    Zap => "zap", "OWASP ZAP (XML or JSON)";
    Semgrep => "semgrep", "Semgrep JSON";
    Bandit => "bandit", "Bandit JSON";
    GithubDependabot => "github-dependabot", "GitHub Dependabot alerts JSON";
    GitlabSast => "gitlab-sast", "GitLab SAST / dependency scanning JSON";
    Nessus => "nessus", "Nessus (.nessus XML or CSV)";
    Gitleaks => "gitleaks", "Gitleaks JSON";
    Trufflehog => "trufflehog", "TruffleHog JSON lines";
    Checkov => "checkov", "Checkov JSON";
    Nuclei => "nuclei", "Nuclei JSON or JSON lines";
    Burp => "burp", "Burp Suite XML";
    Nikto => "nikto", "Nikto (XML or JSON)";
    Openvas => "openvas", "OpenVAS / Greenbone (XML or CSV)";
    Qualys => "qualys", "Qualys (XML or CSV)";
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name no importer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        write!(f, "unknown format {:?}: expected auto or one of {}", self.0, names.join(", "))
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let wanted = name.trim().to_ascii_lowercase();
        Format::ALL.iter().copied().find(|f| f.name() == wanted).ok_or_else(|| UnknownFormat(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back() {
        assert_eq!(Format::ALL.len(), 22);
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(*format));
        }
        assert!("excel".parse::<Format>().unwrap_err().to_string().contains("github-dependabot"));
    }
}
