//! The managers' overview, for the roles named in baton.ron's `web.managers` (and
//! admins): per process, this week and this month, how many instances started,
//! finished and were cancelled, the median and 90th-percentile time to finish and
//! the limits breached, with bar charts; for a process counted by a choice field
//! (`counted by`), how many instances fall in each of its choices; a line per day
//! over the last 30 days; the
//! open and overdue tasks per person and per role; filtered by process and by
//! department; and the same figures as CSV. The figures come from what the store
//! keeps as commands happen (`baton_engine::overview`), never from the histories.

use super::layout::{html, page, refusal, store_failure};
use super::{Lang, Signed};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use baton_engine::display::limit_title;
use baton_engine::overview::{self, Filter, Overview, Period};
use baton_engine::store::prelude::*;
use baton_engine::store::Open;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, Default, Deserialize)]
pub struct Asked {
    process: Option<String>,
    department: Option<String>,
}

impl Asked {
    /// An empty choice in the form means "all".
    fn filter(&self) -> Filter {
        let some = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(String::from);
        Filter {
            process: some(&self.process),
            department: some(&self.department),
        }
    }
}

/// What the page and the CSV show besides the figures: titles and names.
struct Shown {
    o: Overview,
    /// Process -> its title, and each limit's title.
    titles: BTreeMap<String, (String, BTreeMap<String, String>)>,
}

impl Shown {
    fn title<'a>(&'a self, process: &'a str) -> &'a str {
        self.titles.get(process).map_or(process, |t| t.0.as_str())
    }

    /// "處理時限 2" for each limit breached.
    fn breached(&self, process: &str, p: &Period) -> String {
        p.breached
            .iter()
            .map(|(limit, n)| {
                let t = self
                    .titles
                    .get(process)
                    .and_then(|t| t.1.get(limit))
                    .map_or(limit.as_str(), String::as_str);
                format!("{t} {n}")
            })
            .collect::<Vec<_>>()
            .join("、")
    }
}

fn load(state: &AppState, f: &Filter) -> Result<Shown, baton_engine::store::StoreError> {
    let store = &*state.engine.store;
    let o = overview::overview(store, state.engine.clock.now(), store.zone, f)?;
    let mut titles = BTreeMap::new();
    for p in &o.processes {
        let (_, def) = store.latest(&p.process)?;
        let limits = def
            .limits
            .iter()
            .map(|l| (l.name.clone(), limit_title(&def, &l.name)))
            .collect();
        titles.insert(
            p.process.clone(),
            (
                def.title.clone().unwrap_or_else(|| p.process.clone()),
                limits,
            ),
        );
    }
    Ok(Shown { o, titles })
}

/// A time to finish (whole minutes) as people say it: "不到 1 分鐘", "45 分鐘",
/// "3 小時 5 分", "2 天 4 小時".
fn span(lang: Lang, minutes: Option<u32>) -> String {
    let Some(m) = minutes.map(i64::from) else {
        return "—".into();
    };
    if m == 0 {
        lang.t("span.under")
    } else if m < 60 {
        lang.n("span.min", m)
    } else if m < 48 * 60 {
        lang.n("span.hour", m / 60)
            .replace("{m}", &(m % 60).to_string())
    } else {
        lang.n("span.day", m / (24 * 60))
            .replace("{h}", &((m / 60) % 24).to_string())
    }
}

pub async fn page_handler(
    State(state): State<AppState>,
    who: Signed,
    Query(asked): Query<Asked>,
) -> Response {
    let lang = who.lang;
    if !who.manager {
        return refusal(lang, StatusCode::FORBIDDEN, "error.403");
    }
    let f = asked.filter();
    let shown = match load(&state, &f) {
        Ok(s) => s,
        Err(e) => return store_failure(lang, &e),
    };
    let store = &state.engine.store;
    let dir = store.directory();
    let mut processes: Vec<(String, String)> = Vec::new();
    for (name, _) in store.process_names() {
        let title = store
            .latest(&name)
            .ok()
            .and_then(|(_, d)| d.title.clone())
            .unwrap_or_else(|| name.clone());
        processes.push((name, title));
    }
    processes.sort_by(|a, b| a.1.cmp(&b.1));
    let o = &shown.o;
    let person = |id: &str| {
        dir.person(id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    };
    let holders = |role: &str| {
        dir.with_role(role)
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .join("、")
    };
    let query = serde_urlencoded::to_string([
        ("process", f.process.clone().unwrap_or_default()),
        ("department", f.department.clone().unwrap_or_default()),
    ])
    .unwrap_or_default();
    let period_cells = |process: &str, p: &Period| {
        html! {
            td { (p.started) }
            td { (p.finished) }
            td { (p.cancelled) }
            td { (span(lang, p.median)) }
            td { (span(lang, p.p90)) }
            td { (shown.breached(process, p)) }
        }
    };
    let body = html! {
        h1 { (lang.t("overview.title")) }
        form.filter method="get" action="/overview" {
            div.field {
                label for="f-process" { (lang.t("overview.process")) }
                select id="f-process" name="process" {
                    option value="" { (lang.t("overview.all")) }
                    @for (name, title) in &processes {
                        option value=(name) selected[f.process.as_deref() == Some(name)] { (title) }
                    }
                }
            }
            div.field {
                label for="f-department" { (lang.t("overview.department")) }
                select id="f-department" name="department" {
                    option value="" { (lang.t("overview.all")) }
                    @for d in &dir.departments {
                        option value=(d.id) selected[f.department.as_deref() == Some(d.id.as_str())] { (d.name) }
                    }
                }
            }
            button type="submit" { (lang.t("overview.apply")) }
            " "
            a href=(format!("/overview.csv?{query}")) download { (lang.t("overview.csv")) }
        }
        h2 { (lang.t("overview.by_process")) }
        @for (period, from, pick) in [
            (lang.t("overview.week"), o.week_from, 0usize),
            (lang.t("overview.month"), o.month_from, 1usize),
        ] {
            div.scroll tabindex="0" {
                table.figures {
                    caption { (period) " " (from.format("%Y-%m-%d")) " – " (o.today.format("%Y-%m-%d")) }
                    thead {
                        tr {
                            th scope="col" { (lang.t("overview.process")) }
                            th scope="col" { (lang.t("overview.started")) }
                            th scope="col" { (lang.t("overview.finished")) }
                            th scope="col" { (lang.t("overview.cancelled")) }
                            th scope="col" { (lang.t("overview.median")) }
                            th scope="col" { (lang.t("overview.p90")) }
                            th scope="col" { (lang.t("overview.breached")) }
                        }
                    }
                    tbody {
                        @for p in &o.processes {
                            tr {
                                th scope="row" { (shown.title(&p.process)) }
                                (period_cells(&p.process, if pick == 0 { &p.week } else { &p.month }))
                            }
                        }
                    }
                }
            }
        }
        (bars(
            &lang.t("overview.chart_month"),
            &[lang.t("overview.started"), lang.t("overview.finished")],
            &o.processes
                .iter()
                .filter(|p| p.month.started + p.month.finished > 0)
                .map(|p| (shown.title(&p.process).to_string(), [p.month.started, p.month.finished]))
                .collect::<Vec<_>>(),
        ))
        (counted(lang, &shown))
        h2 { (lang.t("overview.daily")) }
        (line(lang, o))
        h2 { (lang.t("overview.people")) }
        (open_table(lang, &lang.t("overview.person"), &o.people, &person))
        (bars(
            &lang.t("overview.chart_people"),
            &[lang.t("overview.open"), lang.t("overview.overdue")],
            &o.people
                .iter()
                .map(|(id, n)| (person(id), [n.open, n.overdue]))
                .collect::<Vec<_>>(),
        ))
        h2 { (lang.t("overview.roles")) }
        (open_table(lang, &lang.t("overview.role"), &o.roles, &|r: &str| {
            let who = holders(r);
            let r = dir.role_title(r);
            if who.is_empty() { r.to_string() } else { format!("{r}（{who}）") }
        }))
    };
    html(
        StatusCode::OK,
        page(lang, &lang.t("overview.title"), Some(&who), body),
    )
}

/// Per process counted by a choice field (`counted by` in its definition), how many
/// of the instances started this week and this month hold each choice, by the
/// choices' labels, and how many hold none yet: a table per field, and its chart.
fn counted(lang: Lang, shown: &Shown) -> Markup {
    let o = &shown.o;
    let any = o.processes.iter().any(|p| !p.counted.is_empty());
    html! {
        @if any {
            h2 { (lang.t("overview.counted")) }
            @for p in o.processes.iter().filter(|p| !p.counted.is_empty()) {
                @for c in &p.counted {
                    @let caption = lang
                        .t("overview.counted_caption")
                        .replace("{process}", shown.title(&p.process))
                        .replace("{field}", &c.label);
                    div.scroll tabindex="0" {
                        table.figures.counted {
                            caption { (caption) }
                            thead {
                                tr {
                                    th scope="col" { (lang.t("overview.category")) }
                                    th scope="col" {
                                        (lang.t("overview.week")) " " (o.week_from.format("%m-%d")) " – " (o.today.format("%m-%d"))
                                    }
                                    th scope="col" {
                                        (lang.t("overview.month")) " " (o.month_from.format("%m-%d")) " – " (o.today.format("%m-%d"))
                                    }
                                }
                            }
                            tbody {
                                @for cat in &c.choices {
                                    tr {
                                        th scope="row" { (cat.label) }
                                        td { (cat.week) }
                                        td { (cat.month) }
                                    }
                                }
                                @if c.unclassified.week + c.unclassified.month > 0 {
                                    tr {
                                        th scope="row" { (lang.t("overview.unclassified")) }
                                        td { (c.unclassified.week) }
                                        td { (c.unclassified.month) }
                                    }
                                }
                            }
                        }
                    }
                    (bars(
                        &lang
                            .t("overview.chart_counted")
                            .replace("{process}", shown.title(&p.process))
                            .replace("{field}", &c.label),
                        &[lang.t("overview.week"), lang.t("overview.month")],
                        &c.choices
                            .iter()
                            .filter(|cat| cat.week + cat.month > 0)
                            .map(|cat| (cat.label.clone(), [cat.week, cat.month]))
                            .collect::<Vec<_>>(),
                    ))
                }
            }
        }
    }
}

fn open_table(
    lang: Lang,
    head: &str,
    rows: &[(String, Open)],
    name: &dyn Fn(&str) -> String,
) -> Markup {
    html! {
        @if rows.is_empty() {
            p { (lang.t("overview.no_open")) }
        } @else {
            div.scroll tabindex="0" {
                table.figures {
                    thead {
                        tr {
                            th scope="col" { (head) }
                            th scope="col" { (lang.t("overview.open")) }
                            th scope="col" { (lang.t("overview.overdue")) }
                        }
                    }
                    tbody {
                        @for (id, n) in rows {
                            tr {
                                th scope="row" { (name(id)) }
                                td { (n.open) }
                                td.overdue[n.overdue > 0] { (n.overdue) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Colours of the two series, dark enough on white for AA.
const SERIES: [&str; 2] = ["#1d3557", "#b45309"];

/// A horizontal bar chart: two bars per row, a legend above. The table beside it
/// holds the same figures for screen readers; the chart is labelled as an image.
fn bars(title: &str, series: &[String; 2], rows: &[(String, [u32; 2])]) -> Markup {
    if rows.is_empty() {
        return html! {};
    }
    let max = rows
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let (label_w, bar_w, row_h) = (170.0, 360.0, 30.0);
    let h = 30.0 + row_h * rows.len() as f64;
    let mut svg = chart(title, h);
    for (i, name) in series.iter().enumerate() {
        key(&mut svg, 10.0 + 150.0 * i as f64, i, name);
    }
    for (r, (name, values)) in rows.iter().enumerate() {
        let y = 30.0 + row_h * r as f64;
        let short: String = name.chars().take(12).collect();
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="13" text-anchor="end">{}</text>"#,
            label_w - 6.0,
            y + 17.0,
            esc(&short)
        );
        for (i, v) in values.iter().enumerate() {
            let w = bar_w * f64::from(*v) / f64::from(max);
            let by = y + 3.0 + 12.0 * i as f64;
            let _ = write!(
                svg,
                r#"<rect x="{label_w}" y="{by}" width="{w:.1}" height="11" fill="{}"/><text x="{:.1}" y="{}" font-size="11">{v}</text>"#,
                SERIES[i],
                label_w + w + 4.0,
                by + 10.0
            );
        }
    }
    svg.push_str("</svg>");
    html! { figure.chart { (maud::PreEscaped(svg)) } }
}

/// Started and finished per day over the last 30 days, as two lines.
fn line(lang: Lang, o: &Overview) -> Markup {
    let max = o
        .days
        .iter()
        .map(|d| d.started.max(d.finished))
        .max()
        .unwrap_or(0)
        .max(1);
    let (left, top, w, h) = (40.0, 30.0, 540.0, 140.0);
    let n = o.days.len().max(2) - 1;
    let x = |i: usize| left + w * i as f64 / n as f64;
    let y = |v: u32| top + h - h * f64::from(v) / f64::from(max);
    let title = lang.t("overview.daily");
    let mut svg = chart(&title, 210.0);
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#6b7280"/><line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="#6b7280"/><text x="{}" y="{}" font-size="11" text-anchor="end">{max}</text><text x="{}" y="{}" font-size="11" text-anchor="end">0</text>"##,
        top + h,
        left + w,
        top + h,
        top + h,
        left - 4.0,
        top + 4.0,
        left - 4.0,
        top + h
    );
    for (i, name) in [lang.t("overview.started"), lang.t("overview.finished")]
        .iter()
        .enumerate()
    {
        key(&mut svg, left + 150.0 * i as f64, i, name);
        let points: Vec<String> = o
            .days
            .iter()
            .enumerate()
            .map(|(d, day)| {
                let v = if i == 0 { day.started } else { day.finished };
                format!("{:.1},{:.1}", x(d), y(v))
            })
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            SERIES[i],
            points.join(" ")
        );
    }
    for (i, day) in o.days.iter().enumerate() {
        if (o.days.len() - 1 - i).is_multiple_of(7) {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle">{}</text>"#,
                x(i),
                top + h + 16.0,
                day.day.format("%m-%d")
            );
        }
    }
    svg.push_str("</svg>");
    html! {
        figure.chart { (maud::PreEscaped(svg)) }
        details {
            summary { (lang.t("overview.daily_table")) }
            div.scroll tabindex="0" {
                table.figures {
                    thead { tr {
                        th scope="col" { (lang.t("overview.day")) }
                        th scope="col" { (lang.t("overview.started")) }
                        th scope="col" { (lang.t("overview.finished")) }
                    } }
                    tbody {
                        @for d in &o.days {
                            tr { th scope="row" { (d.day.format("%Y-%m-%d")) } td { (d.started) } td { (d.finished) } }
                        }
                    }
                }
            }
        }
    }
}

/// `s` escaped for HTML (and SVG) text and attributes, by maud's own escaper.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let _ = maud::Escaper::new(&mut out).write_str(s);
    out
}

/// The opening of a chart 600 wide and `height` high, labelled as an image by its
/// title.
fn chart(title: &str, height: f64) -> String {
    let t = esc(title);
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 {height}" role="img" aria-label="{t}"><title>{t}</title>"#
    )
}

/// The legend's key of series `i`, at `x`.
fn key(svg: &mut String, x: f64, i: usize, name: &str) {
    let _ = write!(
        svg,
        r#"<rect x="{x}" y="6" width="12" height="12" fill="{}"/><text x="{}" y="17" font-size="13">{}</text>"#,
        SERIES[i],
        x + 18.0,
        esc(name)
    );
}

/// A CSV field, quoted when it must be (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The overview's figures as CSV: a row per process and period (this week, this
/// month), then a row per day, then a row per period and choice of each field a
/// process is counted by (`counted_by`, `category`: the field's and the choice's
/// labels; `count`). Times to finish in whole minutes; the limits breached as
/// `title n` pairs. UTF-8 with a byte-order mark, which spreadsheets need to read
/// Chinese.
pub async fn csv(
    State(state): State<AppState>,
    who: Signed,
    Query(asked): Query<Asked>,
) -> Response {
    let lang = who.lang;
    if !who.manager {
        return refusal(lang, StatusCode::FORBIDDEN, "error.403");
    }
    let shown = match load(&state, &asked.filter()) {
        Ok(s) => s,
        Err(e) => return store_failure(lang, &e),
    };
    let o = &shown.o;
    let mins = |m: Option<u32>| m.map_or(String::new(), |m| m.to_string());
    let mut out = String::from("\u{feff}process,title,period,from,to,started,finished,cancelled,median_minutes,p90_minutes,limits_breached,counted_by,category,count\r\n");
    for p in &o.processes {
        for (name, from, per) in [
            ("week", o.week_from, &p.week),
            ("month", o.month_from, &p.month),
        ] {
            let _ = write!(
                out,
                "{},{},{name},{from},{},{},{},{},{},{},{},,,\r\n",
                field(&p.process),
                field(shown.title(&p.process)),
                o.today,
                per.started,
                per.finished,
                per.cancelled,
                mins(per.median),
                mins(per.p90),
                field(&shown.breached(&p.process, per)),
            );
        }
    }
    for d in &o.days {
        let _ = write!(
            out,
            ",,day,{},{},{},{},,,,,,,\r\n",
            d.day, d.day, d.started, d.finished
        );
    }
    // Then, per process counted by a choice field, a row per period and choice (by
    // their labels), and the instances not classified yet.
    for p in &o.processes {
        for c in &p.counted {
            for (name, from, week) in [("week", o.week_from, true), ("month", o.month_from, false)]
            {
                let pick = |w: u32, m: u32| if week { w } else { m };
                let rows = c
                    .choices
                    .iter()
                    .map(|cat| (cat.label.clone(), pick(cat.week, cat.month)))
                    .chain((c.unclassified.week + c.unclassified.month > 0).then(|| {
                        (
                            lang.t("overview.unclassified"),
                            pick(c.unclassified.week, c.unclassified.month),
                        )
                    }));
                for (category, n) in rows {
                    let _ = write!(
                        out,
                        "{},{},{name},{from},{},,,,,,,{},{},{n}\r\n",
                        field(&p.process),
                        field(shown.title(&p.process)),
                        o.today,
                        field(&c.label),
                        field(&category),
                    );
                }
            }
        }
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"overview-{}.csv\"", o.today),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        out,
    )
        .into_response()
}
