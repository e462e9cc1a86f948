//! Cells that are safe to open in a spreadsheet (OWASP "CSV injection").
//! Spreadsheets run a cell as a formula when it starts with `=`, `+`, `-`
//! or `@` (or a tab or carriage return before one), and an import that
//! splits on another separator (`;`, `|`, a tab) starts new cells inside
//! ours: `;=8+8` in one CSV cell is a formula in a `;`-separated import.
//! So a cell is neutralised when a trigger opens it or follows any
//! separator-like character; a leading apostrophe makes it text.

const TRIGGERS: [char; 4] = ['=', '+', '-', '@'];
const SEPARATORS: [char; 6] = [',', ';', '|', '\t', '\r', '\n'];

fn dangerous(cell: &str) -> bool {
    let mut previous: Option<char> = None;
    for c in cell.chars() {
        let opens_a_cell = previous.is_none_or(|p| SEPARATORS.contains(&p));
        if opens_a_cell && (TRIGGERS.contains(&c) || c == '\t' || c == '\r') {
            return true;
        }
        previous = Some(c);
    }
    false
}

/// `cell`, prefixed with `'` if a spreadsheet could run it.
pub fn neutralise(cell: &str) -> String {
    if dangerous(cell) { format!("'{cell}") } else { cell.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_at_the_start_or_after_any_separator_are_neutralised() {
        for bad in
            ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "ok;=8+8", "a|@cmd", "x,+1", "line\n=1", "a\t-1"]
        {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        for fine in ["LOGIN", "a-b", "user@example.com", "1+1=2", "CVE-2024-1", ""] {
            assert_eq!(neutralise(fine), fine, "{fine:?}");
        }
    }
}
