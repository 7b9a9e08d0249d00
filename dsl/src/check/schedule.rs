//! Scheduled starts: readable phrases become cron expressions, and every cron
//! expression is parsed here so a bad one is caught by `baton check`, not at 3 a.m.

use super::StaffNames;
use crate::ast::{Schedule as AstSchedule, When};
use crate::catalogue::Code;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::model::{CatchUp, Schedule};
use std::str::FromStr;

pub fn lower(s: &AstSchedule, staff: Option<&StaffNames>, diags: &mut Vec<Diagnostic>) -> Schedule {
    let check_time =
        |(h, m): (u32, u32), diags: &mut Vec<Diagnostic>, span: &std::ops::Range<usize>| {
            if h > 23 || m > 59 {
                diags.push(Diagnostic::new(
                    Code::NoSuchTime,
                    span.clone(),
                    &[&h, &format!("{m:02}")],
                ));
            }
        };
    let (phrase, cron) = match &s.when {
        When::Cron(text) => {
            let fields = text.value.split_whitespace().count();
            // Accept the classic five fields by adding seconds; six or seven as they are.
            let expr = match fields {
                5 => {
                    let mut parts: Vec<String> =
                        text.value.split_whitespace().map(str::to_string).collect();
                    parts[4] = classic_weekdays(&parts[4]);
                    format!("0 {} *", parts.join(" "))
                }
                6 => format!("{} *", text.value.trim()),
                _ => text.value.trim().to_string(),
            };
            if cron::Schedule::from_str(&expr).is_err() {
                diags.push(Diagnostic::new(
                    Code::BadCron,
                    text.span.clone(),
                    &[&text.value],
                ));
            }
            (format!("cron \"{}\"", text.value), expr)
        }
        When::Daily { at, span } => {
            check_time(*at, diags, span);
            (
                format!("every day at {:02}:{:02}", at.0, at.1),
                format!("0 {} {} * * * *", at.1, at.0),
            )
        }
        When::Weekdays { at, span } => {
            check_time(*at, diags, span);
            (
                format!("every weekday at {:02}:{:02}", at.0, at.1),
                format!("0 {} {} * * Mon-Fri *", at.1, at.0),
            )
        }
        When::Weekly { weekday, at, span } => {
            check_time(*at, diags, span);
            let short = &weekday[..3];
            let mut cap = short.to_string();
            cap[..1].make_ascii_uppercase();
            (
                format!("every {weekday} at {:02}:{:02}", at.0, at.1),
                format!("0 {} {} * * {cap} *", at.1, at.0),
            )
        }
        When::Monthly { day, at, span } => {
            check_time(*at, diags, span);
            if !(1..=31).contains(day) {
                diags.push(Diagnostic::new(Code::NoSuchDay, span.clone(), &[day]));
            } else if *day > 28 {
                diags.push(Diagnostic::new(Code::SkippedMonths, span.clone(), &[day]));
            }
            (
                format!("on day {day} of every month at {:02}:{:02}", at.0, at.1),
                format!("0 {} {} {day} * * *", at.1, at.0),
            )
        }
    };
    if let Some(z) = &s.zone {
        if z.value.parse::<chrono_tz::Tz>().is_err() {
            let help = did_you_mean(&z.value, chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()));
            diags.push(
                Diagnostic::new(Code::UnknownTimeZone, z.span.clone(), &[&z.value]).help_opt(help),
            );
        }
    }
    if let (Some(role), Some(staff)) = (&s.for_each_role, staff) {
        if !staff.roles.contains(&role.text) {
            let help = did_you_mean(&role.text, staff.roles.iter().map(String::as_str));
            diags.push(
                Diagnostic::new(Code::UnknownRole, role.span.clone(), &[&role.text, &""])
                    .help_opt(help),
            );
        }
    }
    let catch_up = match s.catch_up.as_ref().map(|c| c.text.as_str()) {
        Some("all") => CatchUp::All,
        Some("skip") => CatchUp::Skip,
        _ => CatchUp::Once,
    };
    Schedule {
        phrase,
        cron,
        zone: s.zone.as_ref().map(|z| z.value.clone()),
        for_each_role: s.for_each_role.as_ref().map(|r| r.text.clone()),
        catch_up,
    }
}

/// Classic cron counts weekdays 0-6 from Sunday (7 is Sunday too); the `cron` crate
/// counts 1-7 from Sunday. Shift every number of the day-of-week field, leaving step
/// values (`*/2`) and names (`MON-FRI`) alone.
fn classic_weekdays(field: &str) -> String {
    field
        .split(',')
        .map(|part| {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (part, None),
            };
            let shifted: Vec<String> = range
                .split('-')
                .map(|x| match x.parse::<u32>() {
                    Ok(n) if n <= 7 => ((n % 7) + 1).to_string(),
                    _ => x.to_string(),
                })
                .collect();
            let mut out = shifted.join("-");
            if let Some(s) = step {
                out.push('/');
                out.push_str(s);
            }
            out
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::classic_weekdays;

    #[test]
    fn classic_weekday_numbers_become_the_crates() {
        assert_eq!(classic_weekdays("1-5"), "2-6");
        assert_eq!(classic_weekdays("0,7"), "1,1");
        assert_eq!(classic_weekdays("MON-FRI"), "MON-FRI");
        assert_eq!(classic_weekdays("*/2"), "*/2");
    }
}
