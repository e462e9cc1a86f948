//! FIRST's EPSS scores: CSV (`cve,epss,percentile`) after a first line
//! `#model_version:…,score_date:…`, read one row at a time.

use std::io::BufRead;

use chrono::NaiveDate;

use super::{Stop, Summary, cve_id, date};
use crate::{ParseError, formats::support::Columns};

const FORMAT: &str = "FIRST EPSS";

/// One CVE's score on the file's date.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssRecord {
    pub id: String,
    /// The probability of exploitation activity in the next 30 days, 0–1.
    pub score: f64,
    /// The share of scored CVEs at or below this score, 0–1.
    pub percentile: f64,
    /// The file's `score_date`.
    pub date: Option<NaiveDate>,
}

pub(super) fn read(
    mut reader: impl BufRead,
    summary: &mut Summary,
    each: &mut dyn FnMut(EpssRecord) -> Result<(), Stop>,
) -> Result<(), ParseError> {
    let unreadable = |e: std::io::Error| ParseError::new(format!("the file cannot be read: {e}"));
    let mut score_date = None;
    let mut lines_before = 0;
    if reader.fill_buf().map_err(unreadable)?.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    if reader.fill_buf().map_err(unreadable)?.first() == Some(&b'#') {
        let mut first = String::new();
        reader.read_line(&mut first).map_err(unreadable)?;
        lines_before = 1;
        for part in first.trim_start_matches('#').trim().split(',') {
            match part.split_once(':') {
                Some(("model_version", version)) => summary.version = Some(version.trim().to_owned()),
                Some(("score_date", when)) => score_date = date(when),
                _ => {}
            }
        }
    }
    let mut csv = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(reader);
    let located = |e: csv::Error| {
        let mut error = ParseError::csv(FORMAT, &e);
        error.line = error.line.map(|line| line + lines_before);
        error
    };
    let columns = Columns::new(csv.headers().map_err(located)?);
    if !(columns.has("cve") && columns.has("epss") && columns.has("percentile")) {
        return Err(ParseError::at(
            format!("not a valid {FORMAT} file: the header must name the columns cve, epss and percentile"),
            lines_before + 1,
            1,
        ));
    }
    let mut row = csv::StringRecord::new();
    while csv.read_record(&mut row).map_err(located)? {
        let line = row.position().map_or(0, |p| p.line() + lines_before);
        let cve = columns.get(&row, &["cve"]).unwrap_or_default();
        let number = |name: &str| columns.get(&row, &[name]).and_then(|v| v.parse::<f64>().ok());
        let record = cve_id(cve).and_then(|id| match (number("epss"), number("percentile")) {
            (Some(score), Some(percentile)) if (0.0..=1.0).contains(&score) && (0.0..=1.0).contains(&percentile) => {
                Ok(EpssRecord { id, score, percentile, date: score_date })
            }
            _ => Err(format!("{id}: epss and percentile must be numbers from 0 to 1")),
        });
        match record {
            Ok(record) => {
                summary.read += 1;
                each(record).map_err(|Stop| ParseError::new(format!("{FORMAT}: {}", super::STOPPED)))?;
            }
            Err(reason) => summary.skip(format!("line {line}: {reason}")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cve_feeds::{Entry, Feed};

    fn read_all(data: &str) -> Result<(Summary, Vec<EpssRecord>), ParseError> {
        let mut records = Vec::new();
        let summary = crate::cve_feeds::read(Feed::Epss, data.as_bytes(), |entry| {
            if let Entry::Epss(r) = entry {
                records.push(r);
            }
            Ok(())
        })?;
        Ok((summary, records))
    }

    #[test]
    fn scores_carry_the_files_date_and_model() {
        let file = "#model_version:v2023.03.01,score_date:2024-11-29T00:00:00+0000\ncve,epss,percentile\n\
                    CVE-2021-44228,0.97565,0.99996\nCVE-1999-0001,0.01,0.5\nCVE-2020-0001,1.5,0.9\n";
        let (summary, records) = read_all(file).expect("read");
        assert_eq!(summary.version.as_deref(), Some("v2023.03.01"));
        assert_eq!((summary.read, summary.skipped), (2, 1));
        assert!(summary.skipped_reasons[0].starts_with("line 5:"), "{:?}", summary.skipped_reasons);
        assert_eq!(records[0].id, "CVE-2021-44228");
        assert_eq!(records[0].score, 0.97565);
        assert_eq!(records[0].date, NaiveDate::from_ymd_opt(2024, 11, 29));
        let (_, bare) = read_all("cve,epss,percentile\nCVE-2021-44228,0.9,0.99\n").expect("no comment line");
        assert_eq!(bare[0].date, None);
    }

    #[test]
    fn a_file_without_the_columns_is_refused() {
        let error = read_all("#model_version:v1\nid,score\nCVE-2021-44228,0.9\n").expect_err("no cve column");
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("cve, epss and percentile"), "{error}");
    }
}
