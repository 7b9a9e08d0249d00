//! Syntax errors in plain words, and recovery: the item that failed is blanked out
//! (newlines kept, so positions stay true) and the file parsed again.

use super::Rule;
use crate::catalogue::Code;
use crate::diagnostic::Diagnostic;
use pest::error::ErrorVariant;

const ITEM_STARTS: &[&str] = &[
    "step ",
    "end ",
    "limit ",
    "data ",
    "data{",
    "require ",
    "starts ",
    "started ",
    "description ",
];

fn starts_item(line: &str) -> bool {
    let t = line.trim_start();
    ITEM_STARTS.iter().any(|k| t.starts_with(k))
}

/// Replace the item around `pos` (from the line where it starts to the line where the
/// next item starts) with spaces. `None` when there is no such item to drop.
pub(super) fn blank_item_at(text: &str, pos: usize) -> Option<String> {
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let line_of = |p: usize| line_starts.partition_point(|&s| s <= p) - 1;
    let err_line = line_of(pos.min(text.len()));
    let line_text = |i: usize| {
        let end = line_starts.get(i + 1).copied().unwrap_or(text.len());
        &text[line_starts[i]..end]
    };
    let start_line = (0..=err_line).rev().find(|&i| starts_item(line_text(i)))?;
    let end_line = (err_line + 1..line_starts.len())
        .find(|&i| starts_item(line_text(i)))
        .unwrap_or(line_starts.len());
    // With no later item, the broken item runs to the end of the process: keep the
    // closing brace on the last line that has one so the rest still parses.
    let from = line_starts[start_line];
    let mut to = line_starts.get(end_line).copied().unwrap_or(text.len());
    if end_line == line_starts.len() {
        to = text[from..].rfind('}').map_or(text.len(), |i| from + i);
    }
    if from >= to {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..from]);
    out.extend(
        text[from..to]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' }),
    );
    out.push_str(&text[to..]);
    Some(out)
}

pub(super) fn syntax_diagnostic(
    text: &str,
    pos: usize,
    variant: &ErrorVariant<Rule>,
) -> Diagnostic {
    let found = text[pos.min(text.len())..]
        .split(|c: char| c.is_whitespace())
        .next()
        .filter(|s| !s.is_empty());
    let found_desc = match found {
        Some(tok) => format!("`{}`", tok.chars().take(20).collect::<String>()),
        None => "the end of the file".to_string(),
    };
    let mut expected: Vec<String> = match variant {
        ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| describe(*r)).collect()
        }
        ErrorVariant::CustomError { message } => vec![message.clone()],
    };
    expected.sort();
    expected.dedup();
    let end = pos + found.map_or(0, |f| f.len());
    let expected = if expected.is_empty() {
        "something else".to_string()
    } else {
        one_of(&expected)
    };
    Diagnostic::new(Code::Syntax, pos..end, &[&expected, &found_desc]).label("not expected here")
}

fn one_of(items: &[String]) -> String {
    match items {
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => String::new(),
    }
}

/// Plain words for the rules pest says it expected.
fn describe(rule: Rule) -> Option<String> {
    // Looked for ahead of a `member`, never what is missing where it fails.
    if rule == Rule::dotted {
        return None;
    }
    let name = format!("{rule:?}");
    if rule == Rule::kw_arrow {
        return Some("`->`".into());
    }
    if let Some(kw) = name.strip_prefix("kw_") {
        return Some(format!("`{kw}`"));
    }
    Some(
        match rule {
            Rule::ident | Rule::name_ref => "a name",
            Rule::string | Rule::string_inner => "a quoted text",
            Rule::expr | Rule::or_expr | Rule::and_expr | Rule::not_expr | Rule::cmp_expr => {
                "an expression"
            }
            Rule::at_expr | Rule::sum | Rule::product | Rule::unary | Rule::call => "an expression",
            Rule::integer | Rule::decimal | Rule::signed_number => "a number",
            Rule::duration | Rule::short_unit | Rule::long_unit => "a duration such as `30m`",
            Rule::time_of_day => "a time of day such as `17:30`",
            Rule::date_lit => "a date such as `2026-01-31`",
            Rule::cmp_op => "a comparison",
            Rule::add_op | Rule::mul_op => "an operator",
            Rule::range_op => "`..` or `..<`",
            Rule::type_spec | Rule::base_type | Rule::range_type | Rule::choice_type => {
                "a type (text, integer, decimal, bool, date, datetime, duration, person, department, a range or choices)"
            }
            Rule::assignee | Rule::who_one => "who (a role, `starter`, `person NAME`, `supervisor of ...`, `head of ...`)",
            Rule::step | Rule::end_step | Rule::limit | Rule::data_block | Rule::require => {
                "a step, an end, a limit, a data block or a `require`"
            }
            Rule::weekday_name => "a weekday",
            Rule::ordinal => "a day of the month such as `1st`",
            Rule::catchup_policy => "`once`, `all` or `skip`",
            Rule::EOI => "the end of the file",
            Rule::action | Rule::act_goto | Rule::act_notify | Rule::act_escalate => {
                "`notify`, `escalate to` or `-> step`"
            }
            Rule::choice_arm => "a choice (`name \"label\" -> step`)",
            Rule::rule_arm => "a rule (`condition -> step`)",
            Rule::field => "a field (`name type`)",
            Rule::optional => "`?`",
            Rule::boolean => "`true` or `false`",
            _ => return Some(format!("`{}`", name.replace('_', " "))),
        }
        .to_string(),
    )
}
