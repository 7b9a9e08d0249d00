//! Who may read and do what, as one table: every person of processes/staff.ron (each
//! with their roles) against every read and write action on a complaint that 王芳, an
//! agent, started. The expected answers are written out below; a change in the rules
//! shows up as the cells that changed, all at once.
//!
//! Along the org chart, 王芳's supervisor 陳靜, the head of 客服部 李明 and the general
//! manager 趙國強 (who lead her) see her complaint and its task, find them in their
//! team's lists, and may hand the unclaimed task on; nobody else of another team does.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    /// `GET /tasks`: the task is in the person's own list.
    ListTasks,
    /// `GET /tasks?team=true`: the task is in their team's list.
    ListTeamTasks,
    /// `GET /instances`: the instance is in their own list.
    ListInstances,
    /// `GET /instances?team=true`: the instance is in their team's list.
    ListTeamInstances,
    /// `GET /instances/{id}`.
    Show,
    /// `GET /instances/{id}/history`.
    History,
    /// `POST /tasks/{id}/comment`.
    Comment,
    /// `POST /tasks/{id}/claim`.
    Claim,
    /// `POST /tasks/{id}/complete`.
    Complete,
    /// `POST /tasks/{id}/reassign` to 張偉, the task not claimed.
    Reassign,
    /// `POST /instances/{id}/cancel`.
    Cancel,
    /// `POST /instances`: start a complaint.
    Start,
}

use Action::*;

const ACTIONS: &[Action] = &[
    ListTasks,
    ListTeamTasks,
    ListInstances,
    ListTeamInstances,
    Show,
    History,
    Comment,
    Claim,
    Complete,
    Reassign,
    Cancel,
    Start,
];

/// Who leads 王芳: her supervisor, the head of her department, the general manager.
const HER_LEADS: &[&str] = &["chen_jing", "li_ming", "zhao_guoqiang"];
/// 江輝 holds the admin role.
const ADMIN_OF_STAFF: &str = "jiang_hui";

/// The table: for each action, who is allowed (or finds the item in the list).
fn expected(action: Action) -> Vec<&'static str> {
    let with = |extra: &[&'static str]| {
        let mut v: Vec<&str> = extra.to_vec();
        v.sort();
        v
    };
    let leads = |extra: &[&'static str]| {
        let mut v = HER_LEADS.to_vec();
        v.extend_from_slice(extra);
        with(&v)
    };
    match action {
        ListTasks => with(&["wang_fang"]),
        ListTeamTasks => leads(&[]),
        // An admin's own list is every instance.
        ListInstances => with(&["wang_fang", ADMIN_OF_STAFF]),
        ListTeamInstances => leads(&[]),
        Show | History | Comment => leads(&["wang_fang", ADMIN_OF_STAFF]),
        // Only a task's candidates work on it; an admin hands it on instead.
        Claim | Complete => with(&["wang_fang"]),
        Reassign => leads(&[ADMIN_OF_STAFF]),
        Cancel => with(&["wang_fang", ADMIN_OF_STAFF]),
        // `started by agent, scenic_agent, callback_agent, member_care_agent`, and an
        // admin anything.
        Start => with(&[
            "huang_min",
            "liu_yang",
            "ma_jun",
            "wang_fang",
            "xu_li",
            "zhang_wei",
            ADMIN_OF_STAFF,
        ]),
    }
}

fn complaint() -> Value {
    json!({"process": "complaint", "data": {"customer": "張三", "contact": "138", "channel": "hotline"}})
}

/// A fresh complaint of 王芳's; its first task, `accept`, is hers and unclaimed.
async fn her_complaint(api: &Api) -> (u64, String) {
    let o = api.post("/instances", "wang_fang", complaint()).await.ok();
    let id = o["instance"]["id"].as_u64().expect("id");
    (id, format!("{id}-1"))
}

/// 2xx is allowed and 403 refused; anything else is a mistake of the test.
#[track_caller]
fn allowed(a: &Answer, what: &str) -> bool {
    match a.status.as_u16() {
        200..=299 => true,
        403 => false,
        s => panic!("{what}: unexpected {s}: {}", a.text),
    }
}

fn lists(page: &Value, key: &str, id: &Value) -> bool {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|x| &x[key] == id)
}

async fn try_action(api: &Api, person: &str, action: Action, shared: &(u64, String)) -> bool {
    let what = format!("{person} {action:?}");
    let (id, task) = shared;
    match action {
        ListTasks | ListTeamTasks => {
            let path = if action == ListTasks {
                "/tasks?limit=500"
            } else {
                "/tasks?team=true&limit=500"
            };
            let page = api.get(path, person).await.ok();
            let (i, n) = task.split_once('-').expect("task id");
            let want = json!({"instance": i.parse::<u64>().expect("n"), "n": n.parse::<u32>().expect("n")});
            lists(&page, "id", &want)
        }
        ListInstances | ListTeamInstances => {
            let path = if action == ListInstances {
                "/instances?limit=500"
            } else {
                "/instances?team=true&limit=500"
            };
            let page = api.get(path, person).await.ok();
            lists(&page, "id", &json!(id))
        }
        Show => allowed(&api.get(&format!("/instances/{id}"), person).await, &what),
        History => allowed(
            &api.get(&format!("/instances/{id}/history"), person).await,
            &what,
        ),
        // Writes each act on a complaint of their own, so that no cell depends on
        // another (one who comments takes part, and is seen by those who lead them).
        Comment => {
            let (_, t) = her_complaint(api).await;
            let body = json!({"text": "請盡快處理"});
            allowed(
                &api.post(&format!("/tasks/{t}/comment"), person, body).await,
                &what,
            )
        }
        Claim => {
            let (_, t) = her_complaint(api).await;
            allowed(
                &api.post(&format!("/tasks/{t}/claim"), person, json!({}))
                    .await,
                &what,
            )
        }
        Complete => {
            let (_, t) = her_complaint(api).await;
            let body = json!({"data": {"summary": "門票退款", "severity": "general"}});
            allowed(
                &api.post(&format!("/tasks/{t}/complete"), person, body)
                    .await,
                &what,
            )
        }
        Reassign => {
            let (_, t) = her_complaint(api).await;
            let body = json!({"to": "zhang_wei"});
            allowed(
                &api.post(&format!("/tasks/{t}/reassign"), person, body)
                    .await,
                &what,
            )
        }
        Cancel => {
            let (i, _) = her_complaint(api).await;
            allowed(
                &api.post(&format!("/instances/{i}/cancel"), person, json!({}))
                    .await,
                &what,
            )
        }
        Start => allowed(&api.post("/instances", person, complaint()).await, &what),
    }
}

fn table(cells: &BTreeMap<(Action, String), bool>, people: &[String]) -> String {
    let mut out = String::new();
    for a in ACTIONS {
        let yes: Vec<&str> = people
            .iter()
            .filter(|p| cells[&(*a, (*p).clone())])
            .map(String::as_str)
            .collect();
        out += &format!("{a:?}: {yes:?}\n");
    }
    out
}

#[tokio::test]
async fn every_person_of_the_directory_against_every_action() {
    let api = Api::new();
    let staff = baton_engine::staff::Directory::from_ron(
        &std::fs::read_to_string(processes_dir().join("staff.ron")).expect("staff.ron"),
    )
    .expect("staff.ron parses");
    let mut people: Vec<String> = staff.people.iter().map(|p| p.id.clone()).collect();
    people.sort();
    assert!(people.len() >= 20, "{people:?}");

    let shared = her_complaint(&api).await;
    let mut cells = BTreeMap::new();
    for person in &people {
        for &action in ACTIONS {
            let yes = try_action(&api, person, action, &shared).await;
            cells.insert((action, person.clone()), yes);
        }
    }
    let mut wrong = Vec::new();
    for &action in ACTIONS {
        let want = expected(action);
        for p in &people {
            let should = want.contains(&p.as_str());
            if cells[&(action, p.clone())] != should {
                wrong.push(format!(
                    "{p} {action:?}: {} (expected {})",
                    if should { "refused" } else { "allowed" },
                    if should { "allowed" } else { "refused" },
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cell(s) differ from the table:\n{}\nwhat the server did:\n{}",
        wrong.len(),
        wrong.join("\n"),
        table(&cells, &people)
    );
}

/// The case that started it: a complaint past its limit, of someone two levels below
/// the head of 客服部. He opens it, finds it among his team's, and hands its task on.
#[tokio::test]
async fn the_cs_manager_opens_a_breached_complaint_of_his_department() {
    let api = Api::new();
    // 劉洋, a scenic agent under 林濤, under 李明.
    let o = api.post("/instances", "liu_yang", complaint()).await.ok();
    let id = o["instance"]["id"].as_u64().expect("id");
    // A general complaint is settled within 1h; two hours later it is breached.
    api.clock.advance(chrono::Duration::hours(2));
    api.engine.fire_due().expect("fire");
    let shown = api.get(&format!("/instances/{id}"), "li_ming").await.ok();
    assert_eq!(shown["id"], id, "{shown}");
    let team = api.get("/instances?team=true", "li_ming").await.ok();
    assert!(lists(&team, "id", &json!(id)), "{team}");
    // Not his own: his own list leaves it out.
    let own = api.get("/instances", "li_ming").await.ok();
    assert!(!lists(&own, "id", &json!(id)), "{own}");
    let tasks = api.get("/tasks?team=true", "li_ming").await.ok();
    assert_eq!(tasks["items"][0]["id"]["instance"], id, "{tasks}");
    api.post(
        &format!("/tasks/{id}-1/reassign"),
        "li_ming",
        json!({"to": "huang_min"}),
    )
    .await
    .ok();
    // 黃敏 has it now; 陳靜, who leads neither of them, sees none of it.
    let hers = api.get("/tasks", "huang_min").await.ok();
    assert!(
        lists(&hers, "id", &json!({"instance": id, "n": 1})),
        "{hers}"
    );
    api.get(&format!("/instances/{id}"), "chen_jing")
        .await
        .problem(403);
}
