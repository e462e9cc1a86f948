//! SARIF 2.1.0 (`runs[].results[]`), as CodeQL, Semgrep, Trivy, Grype,
//! Dockle, mobsfscan, flawfinder, gitleaks and most linters write it.
//!
//! - Rules come from `tool.driver.rules` and `tool.extensions[].rules`, found
//!   by `result.rule` (with its `toolComponent`), `ruleIndex` or `ruleId`.
//!   Messages given by id are looked up in the rule's `messageStrings` (then
//!   the driver's `globalMessageStrings`) and their `{0}` placeholders filled.
//! - One finding per entry of `locations` (a result without locations is one
//!   finding); `file://` and percent-escapes are taken off the URI, and an
//!   `artifactLocation.index` is resolved through `run.artifacts`.
//! - Results of kind `pass`, `notApplicable` or `informational`, and those
//!   whose `baselineState` is `absent`, are not findings and are skipped.
//! - Severity: the `security-severity` property (result, then rule; GitHub's
//!   0–10 score, or a word) if present; else the level — the result's, else
//!   the rule's `defaultConfiguration.level`, else `warning` (`none` for a
//!   kind other than `fail`) — with error→HIGH, warning→MEDIUM, note→LOW,
//!   none→INFO.
//! - CWE ids from rule and result `properties` (`tags` such as
//!   `external/cwe/cwe-79` or `CWE-79`, and `cwe`), from `relationships` and
//!   `taxa` into a CWE taxonomy; the CVE from the rule id (`CVE-…` inside it).
//! - Description: the message and snippet; `details`: the rule's short and
//!   full descriptions; remediation: the result's fixes, else the rule's
//!   help. The rule's texts are shared by its findings ([`ReportBuilder`]).
//! - A suppression whose status is absent or `accepted` sets `dismissed`.
//! - Secrets: a value in the result's `offender`/`secret`/`match` property
//!   is replaced by `[REDACTED]` in the message and snippet, and no snippet
//!   is copied from secret scanners (gitleaks, trufflehog, …) or for secrets
//!   rules (rule id with `secret`, CWE-259/321/798).
//! - Fingerprint: tool name, rule id, file, line, column, logical location
//!   and the result's `partialFingerprints`/`fingerprints`; the message when
//!   the result has no such ids, and the snippet when it has no line.
//!
//! The typed structs of the `serde-sarif` crate are not used: they reject a
//! whole report for one deviation real tools write — `runs: null` (which the
//! specification allows), a message string with only `markdown` (OSV-Scanner
//! 2.1.0, google/osv-scanner#2071), a rule without `id`, a driver without
//! `name`, a missing top-level `version`, a non-lower-case `level`. The
//! structs below read only what is used, each result on its own: a result
//! that cannot be read is skipped with a warning instead.

use std::{collections::HashMap, fmt};

use serde::{
    Deserialize,
    de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor},
};
use serde_json::{Map, Value};
use vulntrack_domain::vulnerability::Severity;

use super::support::{EachElement, List, is_blank, is_secrets_rule, is_url, scalar_text, unique, without_bom};
use crate::finding::{cwe_number, severity_from_valid_score, severity_from_word};
use crate::{Finding, Location, ParseError, ReportBuilder, detect::Head};

const FORMAT: &str = "sarif";

/// Tools whose snippets are the secrets they found (matched in lower case).
const SECRET_SCANNERS: &[&str] =
    &["gitleaks", "trufflehog", "secret", "ggshield", "talisman", "kingfisher", "noseyparker"];

/// Result properties in which secret scanners put the secret.
const SECRET_PROPERTIES: &[&str] = &["offender", "secret", "Secret", "match", "Match", "raw", "Raw", "RawV2"];

/// Titles longer than this are cut at a word boundary.
const TITLE_CHARS: usize = 200;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Tool {
    driver: Option<Component>,
    extensions: Option<Vec<Component>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Component {
    name: Option<Value>,
    version: Option<Value>,
    semantic_version: Option<Value>,
    rules: Option<Vec<Value>>,
    global_message_strings: Option<HashMap<String, Text>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Rule {
    id: Option<Value>,
    name: Option<Value>,
    short_description: Option<Text>,
    full_description: Option<Text>,
    help: Option<Text>,
    help_uri: Option<Value>,
    message_strings: Option<HashMap<String, Text>>,
    default_configuration: Option<Configuration>,
    properties: Option<Map<String, Value>>,
    relationships: Option<Vec<Relationship>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Configuration {
    level: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Relationship {
    target: Option<Reference>,
}

/// A `reportingDescriptorReference`: a rule or taxon by id or index, in a
/// tool component.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Reference {
    id: Option<Value>,
    index: Option<Value>,
    tool_component: Option<ComponentReference>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ComponentReference {
    name: Option<Value>,
    index: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SarifResult {
    rule_id: Option<Value>,
    rule_index: Option<Value>,
    rule: Option<Reference>,
    kind: Option<Value>,
    level: Option<Value>,
    message: Option<Text>,
    locations: Option<Vec<SarifLocation>>,
    analysis_target: Option<ArtifactLocation>,
    partial_fingerprints: Option<Map<String, Value>>,
    fingerprints: Option<Map<String, Value>>,
    suppressions: Option<Vec<Suppression>>,
    baseline_state: Option<Value>,
    properties: Option<Map<String, Value>>,
    fixes: Option<Vec<Fix>>,
    taxa: Option<Vec<Reference>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SarifLocation {
    physical_location: Option<PhysicalLocation>,
    logical_locations: Option<Vec<LogicalLocation>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: Option<ArtifactLocation>,
    region: Option<Region>,
    context_region: Option<Region>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ArtifactLocation {
    uri: Option<Value>,
    index: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Region {
    start_line: Option<Value>,
    start_column: Option<Value>,
    snippet: Option<Text>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: Option<Value>,
    name: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Artifact {
    location: Option<ArtifactLocation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Suppression {
    kind: Option<Value>,
    status: Option<Value>,
    justification: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Fix {
    description: Option<Text>,
}

/// A `message` or `multiformatMessageString`, read from whatever the tool
/// wrote: an object with `text`, `markdown`, `id` and `arguments`, or (as
/// pre-2.1 SARIF did) a plain string. Anything else reads as empty.
#[derive(Default)]
struct Text {
    text: Option<String>,
    markdown: Option<String>,
    id: Option<String>,
    arguments: Vec<String>,
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match value {
            Value::String(text) => Text { text: Some(text), ..Text::default() },
            Value::Object(map) => Text {
                text: scalar_text(map.get("text")),
                markdown: scalar_text(map.get("markdown")),
                id: scalar_text(map.get("id")),
                arguments: map
                    .get("arguments")
                    .and_then(Value::as_array)
                    .map(|args| args.iter().map(|a| scalar_text(Some(a)).unwrap_or_default()).collect())
                    .unwrap_or_default(),
            },
            _ => Text::default(),
        })
    }
}

impl Text {
    /// The plain text, else the Markdown.
    fn plain(&self) -> Option<&str> {
        self.text.as_deref().or(self.markdown.as_deref()).map(str::trim).filter(|t| !t.is_empty())
    }
}

/// The rules of one tool component, by position and by id.
struct Rules {
    name: Option<String>,
    list: Vec<Rule>,
    by_id: HashMap<String, usize>,
}

impl Rules {
    fn of(component: Option<&mut Component>, report: &mut ReportBuilder) -> Self {
        let name = component.as_ref().and_then(|c| scalar_text(c.name.as_ref()));
        let values = component.and_then(|c| c.rules.take()).unwrap_or_default();
        let list: Vec<Rule> = each_in_place(values, "rule", report);
        let mut by_id = HashMap::new();
        for (at, rule) in list.iter().enumerate() {
            if let Some(id) = scalar_text(rule.id.as_ref()) {
                by_id.entry(id).or_insert(at);
            }
        }
        Self { name, list, by_id }
    }

    fn find(&self, id: Option<&str>, index: Option<usize>) -> Option<&Rule> {
        if let Some(rule) = index.and_then(|at| self.list.get(at)) {
            return Some(rule);
        }
        let id = id?;
        // A hierarchical id ("C2001/sub") falls back to its parent rule.
        let parent = id.rsplit_once('/').map(|(head, _)| head);
        [Some(id), parent].into_iter().flatten().find_map(|id| self.by_id.get(id)).and_then(|&at| self.list.get(at))
    }
}

/// What a run shares among its results.
struct RunContext {
    tool: String,
    /// Whether the tool is a secret scanner, whose snippets hold secrets.
    finds_secrets: bool,
    driver: Rules,
    extensions: Vec<Rules>,
    global_messages: HashMap<String, Text>,
    artifacts: Vec<Option<String>>,
}

pub(crate) fn parse(data: &[u8], report: &mut ReportBuilder) -> Result<(), ParseError> {
    if is_blank(data) {
        return Ok(());
    }
    read(serde_json::Deserializer::from_slice(without_bom(data)), report)
}

/// [`parse`] of a log read as it comes from `reader`, which starts at the
/// first byte of the JSON.
pub(crate) fn parse_reader(reader: impl std::io::Read, report: &mut ReportBuilder) -> Result<(), ParseError> {
    read(serde_json::Deserializer::from_reader(reader), report)
}

fn read<'de, R: serde_json::de::Read<'de>>(
    mut json: serde_json::Deserializer<R>,
    report: &mut ReportBuilder,
) -> Result<(), ParseError> {
    serde::Deserializer::deserialize_map(&mut json, LogVisitor { report })
        .and_then(|()| json.end())
        .map_err(|e| ParseError::json(FORMAT, &e))
}

// The log is read as it streams past: each result is read on its own (as a
// JSON value, then typed, so one a tool wrote wrongly is skipped with a
// warning) and made findings at once, using the run's `tool`, which comes
// before `results` in every writer's order. A result is held until its
// run has been read only when that order is not followed, or when it
// points into `artifacts` and those have not come yet.

/// The top-level object: `version` and `runs`.
struct LogVisitor<'r> {
    report: &'r mut ReportBuilder,
}

impl<'de> Visitor<'de> for LogVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SARIF log object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut runs = 0;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => {
                    let version: Option<Value> = map.next_value()?;
                    if let Some(version) = scalar_text(version.as_ref()).filter(|v| !v.starts_with("2.")) {
                        self.report.warn(format!("SARIF version {version} is read as 2.1.0"));
                    }
                }
                "runs" => map.next_value_seed(List(RunsSeed { report: &mut *self.report, runs: &mut runs }))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// `runs`, each run read as it comes.
struct RunsSeed<'r> {
    report: &'r mut ReportBuilder,
    /// Runs read so far (for warnings that name one).
    runs: &'r mut usize,
}

impl<'de> EachElement<'de> for RunsSeed<'_> {
    const EXPECTING: &'static str = "a list of SARIF runs";

    fn next<A: SeqAccess<'de>>(&mut self, seq: &mut A) -> Result<bool, A::Error> {
        *self.runs += 1;
        Ok(seq.next_element_seed(RunReader { report: &mut *self.report, number: *self.runs })?.is_some())
    }
}

/// One run: its tool and artifacts, then its results.
struct RunReader<'r> {
    report: &'r mut ReportBuilder,
    number: usize,
}

/// What a run has given so far.
#[derive(Default)]
struct RunSoFar {
    tool: Option<Tool>,
    artifacts: Option<Vec<Value>>,
    context: Option<RunContext>,
    /// Results that wait for the end of the run.
    held: Vec<SarifResult>,
    results: usize,
}

impl<'de> DeserializeSeed<'de> for RunReader<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RunReader<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SARIF run object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut run = RunSoFar::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "tool" => {
                    let value: Value = map.next_value()?;
                    run.tool = Some(self.typed(value, "tool"));
                }
                "artifacts" => run.artifacts = Some(map.next_value::<Option<Vec<Value>>>()?.unwrap_or_default()),
                "results" => {
                    // With the tool known, results stream; those that point
                    // into artifacts not read yet wait, as do all of them
                    // while the tool is unknown.
                    let artifacts_known = run.artifacts.is_some() || run.context.is_some();
                    if run.tool.is_some() && run.context.is_none() {
                        run.context = Some(self.context(&mut run));
                    }
                    map.next_value_seed(List(ResultsSeed { reader: &mut self, run: &mut run, artifacts_known }))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let held = std::mem::take(&mut run.held);
        let mut context = self.context(&mut run);
        if let Some(late) = run.artifacts.take() {
            // They came after the results that streamed; the held ones
            // point into them.
            context.artifacts = artifact_uris(late, self.report());
        }
        for result in held {
            read_result(&result, &context, self.report());
        }
        Ok(())
    }

    // Anything but an object is a run no tool meant: skipped, as before.
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.skipped();
        Ok(())
    }

    fn visit_str<E: de::Error>(mut self, _: &str) -> Result<(), E> {
        self.skipped();
        Ok(())
    }

    fn visit_bool<E: de::Error>(mut self, _: bool) -> Result<(), E> {
        self.skipped();
        Ok(())
    }

    fn visit_i64<E: de::Error>(mut self, _: i64) -> Result<(), E> {
        self.skipped();
        Ok(())
    }

    fn visit_u64<E: de::Error>(mut self, _: u64) -> Result<(), E> {
        self.skipped();
        Ok(())
    }

    fn visit_f64<E: de::Error>(mut self, _: f64) -> Result<(), E> {
        self.skipped();
        Ok(())
    }

    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.skipped();
        Ok(())
    }
}

impl RunReader<'_> {
    fn report(&mut self) -> &mut ReportBuilder {
        self.report
    }

    fn skipped(&mut self) {
        let number = self.number;
        self.report().warn(format!("run {number} skipped: not an object"));
    }

    /// A part of the run as `T`; one that cannot be read is noted and
    /// taken as empty.
    fn typed<T: DeserializeOwned + Default>(&mut self, value: Value, what: &str) -> T {
        let number = self.number;
        serde_json::from_value(value).unwrap_or_else(|error| {
            self.report().warn(format!("the {what} of run {number} not read: {error}"));
            T::default()
        })
    }

    /// The run's shared context, made once from what it has given (and
    /// the tool named on the report by the first run that names one).
    fn context(&mut self, run: &mut RunSoFar) -> RunContext {
        if let Some(context) = run.context.take() {
            return context;
        }
        let mut tool = run.tool.take().unwrap_or_default();
        let report = self.report();
        if report.tool().is_none()
            && let Some(driver) = tool.driver.as_ref()
            && let Some(name) = scalar_text(driver.name.as_ref())
        {
            let version =
                scalar_text(driver.version.as_ref()).or_else(|| scalar_text(driver.semantic_version.as_ref()));
            report.scanner(&name, version.as_deref());
        }
        let driver = Rules::of(tool.driver.as_mut(), report);
        let extensions = tool.extensions.iter_mut().flatten().map(|c| Rules::of(Some(c), report)).collect();
        let artifacts = artifact_uris(run.artifacts.take().unwrap_or_default(), report);
        let tool_name = driver.name.clone().unwrap_or_default();
        RunContext {
            finds_secrets: SECRET_SCANNERS.iter().any(|name| tool_name.to_ascii_lowercase().contains(name)),
            tool: tool_name,
            driver,
            extensions,
            global_messages: tool.driver.and_then(|d| d.global_message_strings).unwrap_or_default(),
            artifacts,
        }
    }
}

/// A run's `results`: each made findings as it is read when the run's
/// tool is known, else held for the end of the run.
struct ResultsSeed<'a, 'r> {
    reader: &'a mut RunReader<'r>,
    run: &'a mut RunSoFar,
    artifacts_known: bool,
}

impl<'de> EachElement<'de> for ResultsSeed<'_, '_> {
    const EXPECTING: &'static str = "a list of SARIF results";

    fn next<A: SeqAccess<'de>>(&mut self, seq: &mut A) -> Result<bool, A::Error> {
        let Some(value) = seq.next_element::<Value>()? else { return Ok(false) };
        self.run.results += 1;
        let result: SarifResult = match serde_json::from_value(value) {
            Ok(result) => result,
            Err(error) => {
                let number = self.run.results;
                self.reader.report().warn(format!("result {number} skipped: {error}"));
                return Ok(true);
            }
        };
        match self.run.context.as_ref() {
            Some(context) if self.artifacts_known || !points_into_artifacts(&result) => {
                read_result(&result, context, self.reader.report());
            }
            _ => self.run.held.push(result),
        }
        Ok(true)
    }
}

/// Each artifact's path (`None` for one without a URI), by position.
fn artifact_uris(values: Vec<Value>, report: &mut ReportBuilder) -> Vec<Option<String>> {
    each_in_place::<Artifact>(values, "artifact", report)
        .into_iter()
        .map(|a| a.location.and_then(|l| scalar_text(l.uri.as_ref())).map(|uri| clean_uri(&uri)))
        .collect()
}

/// Whether a result names a file only by its index in `run.artifacts`.
fn points_into_artifacts(result: &SarifResult) -> bool {
    let by_index = |a: &ArtifactLocation| a.uri.is_none() && a.index.is_some();
    result.analysis_target.as_ref().is_some_and(by_index)
        || result
            .locations
            .iter()
            .flatten()
            .filter_map(|l| l.physical_location.as_ref()?.artifact_location.as_ref())
            .any(by_index)
}

fn read_result(result: &SarifResult, run: &RunContext, report: &mut ReportBuilder) {
    let kind = scalar_text(result.kind.as_ref()).unwrap_or_else(|| "fail".to_owned());
    if matches!(kind.as_str(), "pass" | "notApplicable" | "informational") {
        return;
    }
    if scalar_text(result.baseline_state.as_ref()).as_deref() == Some("absent") {
        return;
    }
    let rule = find_rule(result, run);
    let rule_id = scalar_text(result.rule_id.as_ref())
        .or_else(|| result.rule.as_ref().and_then(|r| scalar_text(r.id.as_ref())))
        .or_else(|| rule.and_then(|r| scalar_text(r.id.as_ref())));
    let secrets = secrets_of(result);
    let message =
        result.message.as_ref().and_then(|m| message_text(m, rule, &run.global_messages)).map(|m| redact(&m, &secrets));

    let base = Finding {
        title: title(message.as_deref(), rule, rule_id.as_deref()),
        severity: Some(severity(result, rule, &kind)),
        rule_id: rule_id.clone(),
        cve_id: rule_id.as_deref().and_then(cve_in),
        cwe_ids: cwes(result, rule),
        references: references(result, rule),
        details: rule.and_then(|rule| details(message.as_deref(), rule)).map(Into::into),
        remediation: remediation(result, rule).map(Into::into),
        dismissed: dismissed(result),
        ..Finding::default()
    };
    let stable_ids = fingerprint_ids(result);
    // A secret scanner's or secrets rule's snippet is the secret itself.
    let keep_snippet = !run.finds_secrets && !is_secrets_rule(rule_id.as_deref(), &base.cwe_ids);
    let mut places: Vec<Place> =
        result.locations.iter().flatten().map(|l| Place::of(l, run, keep_snippet, &secrets)).collect();
    if places.is_empty() {
        let file = result.analysis_target.as_ref().and_then(|a| artifact_uri(a, run));
        places.push(Place { file, ..Place::default() });
    }
    for place in places {
        let mut finding = base.clone();
        finding.description = description(message.as_deref(), place.snippet.as_deref());
        finding.fingerprint = fingerprint(run, &finding, &place, message.as_deref(), &stable_ids);
        finding.location = Location { file: place.file, line: place.line, ..Location::default() };
        report.push(finding);
    }
}

/// Where one location of a result points.
#[derive(Default)]
struct Place {
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
    logical: String,
    snippet: Option<String>,
}

impl Place {
    fn of(location: &SarifLocation, run: &RunContext, keep_snippet: bool, secrets: &[String]) -> Self {
        let physical = location.physical_location.as_ref();
        let regions: Vec<&Region> = physical
            .map(|p| [p.region.as_ref(), p.context_region.as_ref()])
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .collect();
        let snippet = regions.iter().find_map(|r| r.snippet.as_ref().and_then(Text::plain));
        Place {
            file: physical.and_then(|p| p.artifact_location.as_ref()).and_then(|a| artifact_uri(a, run)),
            line: regions.iter().find_map(|r| number(r.start_line.as_ref())),
            column: regions.first().and_then(|r| number(r.start_column.as_ref())),
            logical: location
                .logical_locations
                .iter()
                .flatten()
                .find_map(|l| scalar_text(l.fully_qualified_name.as_ref()).or_else(|| scalar_text(l.name.as_ref())))
                .unwrap_or_default(),
            snippet: snippet.filter(|_| keep_snippet).map(|s| redact(s, secrets)),
        }
    }
}

fn find_rule<'a>(result: &SarifResult, run: &'a RunContext) -> Option<&'a Rule> {
    let reference = result.rule.as_ref();
    let id = scalar_text(result.rule_id.as_ref()).or_else(|| reference.and_then(|r| scalar_text(r.id.as_ref())));
    let position = reference.and_then(|r| index(r.index.as_ref())).or_else(|| index(result.rule_index.as_ref()));
    let component = reference.and_then(|r| r.tool_component.as_ref());
    let extension = component.and_then(|c| {
        index(c.index.as_ref()).and_then(|at| run.extensions.get(at)).or_else(|| {
            let name = scalar_text(c.name.as_ref())?;
            run.extensions.iter().find(|e| e.name.as_deref() == Some(name.as_str()))
        })
    });
    match extension {
        Some(rules) => rules.find(id.as_deref(), position),
        None => run
            .driver
            .find(id.as_deref(), position)
            .or_else(|| run.extensions.iter().find_map(|rules| rules.find(id.as_deref(), None))),
    }
}

/// The message's text, or the rule's (or driver's) message string it names
/// with its arguments filled in.
fn message_text(message: &Text, rule: Option<&Rule>, globals: &HashMap<String, Text>) -> Option<String> {
    if let Some(text) = message.plain() {
        return Some(text.to_owned());
    }
    let id = message.id.as_deref()?;
    let template = rule
        .and_then(|r| r.message_strings.as_ref())
        .and_then(|strings| strings.get(id))
        .or_else(|| globals.get(id))
        .and_then(Text::plain)?;
    Some(fill(template, &message.arguments))
}

/// Replaces `{n}` with the n-th argument; `{{` and `}}` are literal braces.
fn fill(template: &str, arguments: &[String]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut digits = String::new();
                while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(d);
                    chars.next();
                }
                let argument = digits.parse::<usize>().ok().and_then(|n| arguments.get(n));
                match (argument, chars.peek()) {
                    (Some(argument), Some('}')) => {
                        chars.next();
                        out.push_str(argument);
                    }
                    _ => {
                        out.push('{');
                        out.push_str(&digits);
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn title(message: Option<&str>, rule: Option<&Rule>, rule_id: Option<&str>) -> String {
    let from_rule = || {
        rule.and_then(|r| {
            r.short_description
                .as_ref()
                .and_then(Text::plain)
                .or_else(|| r.full_description.as_ref().and_then(Text::plain))
                .map(str::to_owned)
                .or_else(|| scalar_text(r.name.as_ref()))
        })
    };
    let text = message.map(str::to_owned).or_else(from_rule).or_else(|| rule_id.map(str::to_owned));
    text.map(|t| shorten(&t)).unwrap_or_default()
}

/// The first non-blank line, cut at a word boundary if it is long.
fn shorten(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    if line.chars().count() <= TITLE_CHARS {
        return line.to_owned();
    }
    let mut cut = String::new();
    for word in line.split_whitespace() {
        if cut.chars().count() + word.chars().count() + 1 > TITLE_CHARS {
            break;
        }
        if !cut.is_empty() {
            cut.push(' ');
        }
        cut.push_str(word);
    }
    if cut.is_empty() {
        cut = line.chars().take(TITLE_CHARS).collect();
    }
    cut.push('…');
    cut
}

fn severity(result: &SarifResult, rule: Option<&Rule>, kind: &str) -> Severity {
    let properties = [result.properties.as_ref(), rule.and_then(|r| r.properties.as_ref())];
    let security = properties.iter().flatten().find_map(|p| p.get("security-severity")).and_then(|value| {
        let score = value.as_f64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()));
        score.and_then(severity_from_valid_score).or_else(|| value.as_str().and_then(severity_from_word))
    });
    if let Some(severity) = security {
        return severity;
    }
    let level = scalar_text(result.level.as_ref())
        .or_else(|| rule.and_then(|r| r.default_configuration.as_ref()).and_then(|c| scalar_text(c.level.as_ref())))
        .unwrap_or_else(|| if kind == "fail" { "warning" } else { "none" }.to_owned());
    match level.trim().to_ascii_lowercase().as_str() {
        "error" => Severity::High,
        "note" => Severity::Low,
        "none" => Severity::Info,
        _ => Severity::Medium,
    }
}

fn cwes(result: &SarifResult, rule: Option<&Rule>) -> Vec<u32> {
    let mut found = Vec::new();
    let properties = [rule.and_then(|r| r.properties.as_ref()), result.properties.as_ref()];
    for property in properties.iter().flatten() {
        for key in ["tags", "cwe", "CWE", "cwes"] {
            for text in strings(property.get(key)) {
                cwes_in(&text, &mut found);
            }
        }
    }
    let references =
        rule.and_then(|r| r.relationships.as_ref()).into_iter().flatten().filter_map(|r| r.target.as_ref());
    for reference in references.chain(result.taxa.iter().flatten()) {
        let Some(id) = scalar_text(reference.id.as_ref()) else { continue };
        let taxonomy = reference.tool_component.as_ref().and_then(|c| scalar_text(c.name.as_ref())).unwrap_or_default();
        if taxonomy.eq_ignore_ascii_case("cwe") {
            found.extend(cwe_number(&id));
        } else {
            cwes_in(&id, &mut found);
        }
    }
    unique(found)
}

/// Every `CWE-n` (also `cwe_n`, `cwe:n`, any case) in `text`.
fn cwes_in(text: &str, found: &mut Vec<u32>) {
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("cwe") {
        rest = rest.get(at + 3..).unwrap_or("");
        let digits = rest.strip_prefix(['-', '_', ':', ' ']).unwrap_or(rest);
        let number: String = digits.chars().take_while(char::is_ascii_digit).collect();
        if let Some(n) = number.parse::<u32>().ok().filter(|&n| n > 0) {
            found.push(n);
        }
    }
}

/// The first `CVE-YYYY-NNNN…` inside `text`, upper-cased.
fn cve_in(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    let mut rest = upper.as_str();
    while let Some(at) = rest.find("CVE-") {
        let candidate = rest.get(at..).unwrap_or("");
        let year: String = candidate.chars().skip(4).take_while(char::is_ascii_digit).collect();
        let number: String = candidate.chars().skip(9).take_while(char::is_ascii_digit).collect();
        if year.len() == 4 && candidate.chars().nth(8) == Some('-') && number.len() >= 4 {
            return Some(format!("CVE-{year}-{number}"));
        }
        rest = candidate.get(4..).unwrap_or("");
    }
    None
}

fn references(result: &SarifResult, rule: Option<&Rule>) -> Vec<String> {
    let mut links: Vec<String> = Vec::new();
    if let Some(rule) = rule {
        links.extend(scalar_text(rule.help_uri.as_ref()));
        links.extend(rule.help.as_ref().and_then(Text::plain).filter(|h| is_url(h)).map(str::to_owned));
    }
    let properties = [rule.and_then(|r| r.properties.as_ref()), result.properties.as_ref()];
    for property in properties.iter().flatten() {
        for key in ["reference", "references", "helpUri"] {
            links.extend(strings(property.get(key)).into_iter().filter(|l| is_url(l)));
        }
    }
    unique(links)
}

fn remediation(result: &SarifResult, rule: Option<&Rule>) -> Option<String> {
    let fixes: Vec<&str> =
        result.fixes.iter().flatten().filter_map(|f| f.description.as_ref().and_then(Text::plain)).collect();
    if !fixes.is_empty() {
        return Some(fixes.join("\n"));
    }
    let help = rule.and_then(|r| r.help.as_ref())?;
    let help = help.markdown.as_deref().or(help.text.as_deref()).map(str::trim)?;
    (!help.is_empty() && !is_url(help)).then(|| help.to_owned())
}

fn dismissed(result: &SarifResult) -> Option<String> {
    let suppression = result.suppressions.iter().flatten().find(|s| {
        let status = scalar_text(s.status.as_ref());
        status.is_none() || status.as_deref() == Some("accepted")
    })?;
    Some(scalar_text(suppression.justification.as_ref()).unwrap_or_else(|| {
        match scalar_text(suppression.kind.as_ref()) {
            Some(kind) => format!("suppressed ({kind})"),
            None => "suppressed".to_owned(),
        }
    }))
}

fn description(message: Option<&str>, snippet: Option<&str>) -> String {
    let mut parts: Vec<String> = message.map(str::to_owned).into_iter().collect();
    if let Some(snippet) = snippet {
        parts.push(format!("```\n{snippet}\n```"));
    }
    parts.join("\n\n")
}

/// The rule's short and full descriptions, but what the message already says.
fn details(message: Option<&str>, rule: &Rule) -> Option<String> {
    let short = rule.short_description.as_ref().and_then(Text::plain);
    let full = rule.full_description.as_ref().and_then(Text::plain);
    let mut parts: Vec<&str> = Vec::new();
    for text in [short, full].into_iter().flatten() {
        if Some(text) != message && !parts.contains(&text) {
            parts.push(text);
        }
    }
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// The result's stable ids (`partialFingerprints`, `fingerprints`), sorted.
fn fingerprint_ids(result: &SarifResult) -> String {
    let mut ids: Vec<String> = [result.partial_fingerprints.as_ref(), result.fingerprints.as_ref()]
        .into_iter()
        .flatten()
        .flat_map(|map| map.iter())
        .map(|(key, value)| format!("{key}={}", scalar_text(Some(value)).unwrap_or_default()))
        .collect();
    ids.sort_unstable();
    ids.join(";")
}

/// The tool's stable ids stand for the message when it gives them; the
/// message and snippet tell apart results that have no line.
fn fingerprint(run: &RunContext, finding: &Finding, place: &Place, message: Option<&str>, stable_ids: &str) -> String {
    let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
    let message = if stable_ids.is_empty() { message.unwrap_or("") } else { "" };
    let snippet = if place.line.is_none() { place.snippet.as_deref().unwrap_or("") } else { "" };
    Finding::fingerprint_of(
        FORMAT,
        &[
            &run.tool,
            finding.rule_id.as_deref().unwrap_or(""),
            place.file.as_deref().unwrap_or(""),
            &number(place.line),
            &number(place.column),
            &place.logical,
            stable_ids,
            message,
            snippet,
        ],
    )
}

/// The secret values a result's properties name.
fn secrets_of(result: &SarifResult) -> Vec<String> {
    let properties = result.properties.as_ref();
    SECRET_PROPERTIES
        .iter()
        .filter_map(|key| scalar_text(properties.and_then(|p| p.get(*key))))
        .filter(|s| s.len() >= 4)
        .collect()
}

fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), "[REDACTED]"))
}

fn artifact_uri(location: &ArtifactLocation, run: &RunContext) -> Option<String> {
    scalar_text(location.uri.as_ref())
        .map(|uri| clean_uri(&uri))
        .or_else(|| index(location.index.as_ref()).and_then(|at| run.artifacts.get(at).cloned().flatten()))
        .filter(|uri| !uri.is_empty())
}

/// A URI as a path: without `file://`, percent-escapes decoded.
fn clean_uri(uri: &str) -> String {
    let uri = uri.trim();
    let path = match uri.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("file://") => uri.get(7..).unwrap_or(""),
        _ => uri,
    };
    // `file:///C:/x` names the Windows path `C:/x`.
    let bytes = path.as_bytes();
    let path = match bytes {
        [b'/', drive, b':', ..] if drive.is_ascii_alphabetic() => path.get(1..).unwrap_or(path),
        _ => path,
    };
    percent_decode(path)
}

fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'%' {
            out.push(b);
            continue;
        }
        let mut lookahead = bytes.clone();
        let hex = [lookahead.next(), lookahead.next()];
        match hex {
            [Some(h), Some(l)] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                let value = u8::from_str_radix(&format!("{}{}", h as char, l as char), 16).unwrap_or(b'%');
                out.push(value);
                bytes = lookahead;
            }
            _ => out.push(b),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A string or a list of strings.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(|v| scalar_text(Some(v))).collect(),
        other => scalar_text(other).into_iter().collect(),
    }
}

/// A positive line number, given as a number or a numeric string.
fn number(value: Option<&Value>) -> Option<u32> {
    let value = value?;
    let n = value
        .as_u64()
        .or_else(|| value.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64))
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))?;
    u32::try_from(n).ok().filter(|&n| n > 0)
}

/// A zero-based index; SARIF writes -1 for "none".
fn index(value: Option<&Value>) -> Option<usize> {
    value?.as_u64().and_then(|n| usize::try_from(n).ok())
}

/// Each item read as a `T`, one that cannot be read as the default: rules
/// and artifacts are referred to by their position.
fn each_in_place<T: DeserializeOwned + Default>(items: Vec<Value>, what: &str, report: &mut ReportBuilder) -> Vec<T> {
    let mut read = Vec::with_capacity(items.len());
    for (at, item) in items.into_iter().enumerate() {
        read.push(serde_json::from_value(item).unwrap_or_else(|error| {
            report.warn(format!("{what} {} not read: {error}", at + 1));
            T::default()
        }));
    }
    read
}

pub(crate) fn sniff(head: &Head<'_>) -> bool {
    if !head.is_json() || !head.has_key("runs") {
        return false;
    }
    let text = head.text.to_ascii_lowercase();
    text.contains("sarif") || head.has_key("driver") || (head.has_key("results") && head.has_key("ruleId"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, parse};

    fn read(json: &str) -> crate::Report {
        parse(Format::Sarif, json.as_bytes()).unwrap()
    }

    /// Read as it streams, a log gives the same findings whatever order
    /// its keys come in: results before their tool, or before the
    /// artifacts they point into, wait for the end of the run.
    #[test]
    fn key_order_does_not_change_what_is_read() {
        let tool = r#""tool": {"driver": {"name": "CodeQL", "version": "2.15.0", "rules": [
            {"id": "js/sql-injection", "properties": {"security-severity": "8.8", "tags": ["external/cwe/cwe-089"]}}]}}"#;
        let artifacts = r#""artifacts": [{"location": {"uri": "src/db.js"}}]"#;
        let results = r#""results": [{"ruleId": "js/sql-injection", "ruleIndex": 0, "message": {"text": "Query built from input"},
            "locations": [{"physicalLocation": {"artifactLocation": {"index": 0}, "region": {"startLine": 7}}}]}]"#;
        let orders = [
            format!("{tool}, {artifacts}, {results}"),
            format!("{results}, {artifacts}, {tool}"),
            format!("{tool}, {results}, {artifacts}"),
        ];
        for order in orders {
            let report = read(&format!(r#"{{"runs": [{{{order}}}, 7], "version": "2.1.0"}}"#));
            assert_eq!(report.scanner.as_deref(), Some("CodeQL 2.15.0"), "{order}");
            assert_eq!(report.findings.len(), 1, "{order}");
            let finding = &report.findings[0];
            assert_eq!(finding.location.file.as_deref(), Some("src/db.js"), "{order}");
            assert_eq!((finding.location.line, finding.severity), (Some(7), Some(Severity::High)), "{order}");
            assert_eq!(finding.cwe_ids, vec![89], "{order}");
            assert_eq!(report.warnings, vec!["run 2 skipped: not an object"], "{order}");
        }
    }

    #[test]
    fn rules_in_extensions_security_severity_and_suppressions_are_read() {
        let report = read(
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"CodeQL","semanticVersion":"2.15.0"},
              "extensions":[{"name":"codeql/js-queries","rules":[{"id":"js/xss",
                "shortDescription":{"markdown":"Cross-site scripting"},
                "properties":{"security-severity":"6.1","tags":["security","external/cwe/cwe-079","external/cwe/cwe-116"]}}]}]},
              "results":[{"ruleId":"js/xss","rule":{"id":"js/xss","index":0,"toolComponent":{"index":0}},
                "message":{"text":"Cross-site scripting vulnerability due to a [user-provided value](1)."},
                "locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/my%20app.js"},"region":{"startLine":"12"}}}],
                "partialFingerprints":{"primaryLocationLineHash":"abc:1"},
                "suppressions":[{"kind":"inSource","justification":"sanitised upstream"}]},
               {"ruleId":"js/xss","kind":"pass","message":{"text":"fine"}}]}]}"#,
        );
        assert_eq!(report.scanner.as_deref(), Some("CodeQL 2.15.0"));
        assert_eq!(report.findings.len(), 1);
        let finding = &report.findings[0];
        assert_eq!(finding.severity, Some(Severity::Medium));
        assert_eq!(finding.cwe_ids, vec![79, 116]);
        assert_eq!(finding.location.file.as_deref(), Some("src/my app.js"));
        assert_eq!(finding.location.line, Some(12));
        assert_eq!(finding.dismissed.as_deref(), Some("sanitised upstream"));
        assert_eq!(finding.rule_id.as_deref(), Some("js/xss"));
    }

    #[test]
    fn deviations_real_tools_write_do_not_fail_the_report() {
        // runs: null (a tool that could not start), markdown-only strings,
        // a rule without id, an upper-case level, no version.
        assert!(read(r#"{"version":"2.1.0","runs":null}"#).findings.is_empty());
        let report = read(
            r#"{"runs":[{"tool":{"driver":{"rules":[{"name":"no id"},{"id":"R1","defaultConfiguration":{"level":"error"},
                "fullDescription":{"markdown":"**Bad** thing"}}]}},
              "results":[{"ruleId":"R1","level":"Error","message":{"markdown":"Found `x`"}},
                         {"ruleId":"R1","locations":"not a list"}]}]}"#,
        );
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].title, "Found `x`");
        assert_eq!(report.findings[0].severity, Some(Severity::High));
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    }

    #[test]
    fn a_secret_in_a_snippet_or_property_is_not_kept() {
        let report = read(
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"Gitleaks","semanticVersion":"v7.4.0"}},
              "results":[{"message":{"text":"AWS Access Key secret detected"},
                "properties":{"commit":"6d12","offender":"AKIAIOSFODNN7EXAMPLE"},
                "locations":[{"physicalLocation":{"artifactLocation":{"uri":"conf.json"},
                  "region":{"startLine":13,"snippet":{"text":"\"key\": \"AKIAIOSFODNN7EXAMPLE\","}}}}]}]},
              {"tool":{"driver":{"name":"lint"}},"results":[{"ruleId":"x","message":{"text":"token AKIAIOSFODNN7EXAMPLE"},
                "properties":{"secret":"AKIAIOSFODNN7EXAMPLE"}}]}]}"#,
        );
        assert_eq!(report.findings.len(), 2);
        for finding in &report.findings {
            assert!(!format!("{finding:?}").contains("AKIAIOSFODNN7EXAMPLE"), "{finding:?}");
        }
        assert_eq!(report.findings[1].title, "token [REDACTED]");
    }

    #[test]
    fn message_strings_fill_their_arguments() {
        assert_eq!(
            fill("Variable \"{0}\" at [{1}] {{x}} {2}", &["ptr".into(), "here".into()]),
            "Variable \"ptr\" at [here] {x} {2}"
        );
        assert_eq!(cve_in("CVE-2021-44228-log4j-core"), Some("CVE-2021-44228".to_owned()));
        assert_eq!(cve_in("GHSA-xxxx"), None);
        assert_eq!(clean_uri("file:///C:/code/a%2Fb.c"), "C:/code/a/b.c");
    }

    #[test]
    fn a_malformed_report_is_an_error_with_its_line() {
        let error = parse(Format::Sarif, b"{\n\"version\": \"2.1.0\",\n\"runs\": [\n").unwrap_err();
        assert!(error.line.is_some(), "{error}");
        assert!(parse(Format::Sarif, b"[]").unwrap().findings.is_empty());
    }
}
