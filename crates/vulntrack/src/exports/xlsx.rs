//! XLSX with `rust_xlsxwriter` in constant-memory mode: each row goes to
//! the worksheet's temporary file as it is written, so a million-row
//! register takes the memory of one row. The workbook is zipped at the end
//! (`finish`), straight into the response. A sheet holds at most Excel's
//! 1 048 576 rows; the register continues on the next sheet.
//!
//! Cells are typed (numbers, booleans, dates); text is always written as
//! a string cell, which Excel never evaluates, so no formula can run.

use std::io::Write;

use chrono::Utc;
use rust_xlsxwriter::{Format as CellFormat, XlsxError};
use vulntrack_store::vulnerabilities::Vulnerability;

use super::{
    People,
    register::{COLUMNS, Cell, Row},
};

const MAX_ROWS: u32 = 1_048_576;
/// Excel's limit on the characters of one cell.
const MAX_CELL_CHARS: usize = 32_767;

pub struct Workbook {
    book: rust_xlsxwriter::Workbook,
    people: People,
    sheets: usize,
    /// The next row of the current sheet.
    row: u32,
    heading: CellFormat,
    date: CellFormat,
}

impl std::fmt::Debug for Workbook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workbook").field("sheets", &self.sheets).field("row", &self.row).finish_non_exhaustive()
    }
}

impl Workbook {
    pub fn new(people: People) -> Result<Self, XlsxError> {
        let mut workbook = Self {
            book: rust_xlsxwriter::Workbook::new(),
            people,
            sheets: 0,
            row: 0,
            heading: CellFormat::new().set_bold(),
            date: CellFormat::new().set_num_format("yyyy-mm-dd hh:mm"),
        };
        workbook.new_sheet()?;
        Ok(workbook)
    }

    fn new_sheet(&mut self) -> Result<(), XlsxError> {
        let name = if self.sheets == 0 { "Register".to_owned() } else { format!("Register {}", self.sheets + 1) };
        let sheet = self.book.add_worksheet_with_constant_memory()?;
        sheet.set_name(name)?;
        sheet.set_freeze_panes(1, 0)?;
        for (col, (heading, _)) in COLUMNS.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            let width = match *heading {
                "Title" | "Description" | "Remediation" | "References" => 50.0,
                "Key" | "Severity" | "Status" | "CVSS score" | "Priority" | "EPSS" | "Kind" => 12.0,
                _ => 20.0,
            };
            sheet.set_column_width(col, width)?;
            sheet.write_string_with_format(0, col, *heading, &self.heading)?;
        }
        self.sheets += 1;
        self.row = 1;
        Ok(())
    }

    pub fn page(&mut self, records: &[Vulnerability]) -> Result<(), XlsxError> {
        let now = Utc::now();
        for record in records {
            if self.row >= MAX_ROWS {
                self.new_sheet()?;
            }
            let row = Row { record, people: &self.people, now };
            let sheet = self.book.worksheet_from_index(self.sheets - 1)?;
            for (col, (_, cell)) in COLUMNS.iter().enumerate() {
                let col = u16::try_from(col).unwrap_or(u16::MAX);
                match cell(&row) {
                    Cell::Text(text) if text.chars().count() > MAX_CELL_CHARS => {
                        sheet.write_string(self.row, col, text.chars().take(MAX_CELL_CHARS).collect::<String>())?
                    }
                    Cell::Text(text) => sheet.write_string(self.row, col, text)?,
                    Cell::Number(n) => sheet.write_number(self.row, col, n)?,
                    Cell::Bool(b) => sheet.write_boolean(self.row, col, b)?,
                    Cell::Time(at) => sheet.write_datetime_with_format(self.row, col, at.naive_utc(), &self.date)?,
                    Cell::Empty => sheet,
                };
            }
            self.row += 1;
        }
        Ok(())
    }

    /// Zips the workbook into `out`.
    pub fn finish(mut self, out: impl Write + Send) -> Result<(), XlsxError> {
        self.book.save_to_writer(out)
    }
}
