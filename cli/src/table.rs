//! Plain-text tables whose columns line up with Chinese text (display width, not
//! characters, decides the padding).

use unicode_width::UnicodeWidthStr;

pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.width());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(widths[i] - c.width() + 2));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(headers.to_vec());
    out.push('\n');
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn chinese_columns_line_up() {
        let t = super::render(
            &["ID", "TITLE", "DUE"],
            &[
                vec!["1-1".into(), "接受投訴".into(), "x".into()],
                vec!["12-3".into(), "ab".into(), "y".into()],
            ],
        );
        let lines: Vec<&str> = t.lines().collect();
        let col = |l: &str| {
            let idx = l.rfind(' ').map_or(0, |i| i + 1);
            unicode_width::UnicodeWidthStr::width(&l[..idx])
        };
        assert_eq!(col(lines[1]), col(lines[2]));
        assert_eq!(col(lines[0]), col(lines[1]));
    }
}
