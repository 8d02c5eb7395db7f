//! The request-body examples of the OpenAPI document are real requests: every operation with
//! a JSON body must publish an example (the body schema's `example`, `$ref`s resolved against
//! `components.schemas`), and replaying that example, as a caller allowed to make the request
//! and against records that exist, must succeed (2xx).
//!
//! The replay is one story on one app, in an order where each step leaves the state the next
//! needs. Records the examples cannot know (ids, voucher codes, tokens from emails, the NDA
//! hash) are substituted into a copy of the example at the JSON pointers each step names;
//! everything else is sent exactly as documented. Multipart uploads (`POST /files`) have no
//! JSON body and are not replayed here (tests/api/files.rs covers them).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, achievement_body, spawn_app};

/// JSON bodies whose example cannot be replayed as-is, each with its reason. Keep it empty
/// unless a body truly cannot be sent again (e.g. it depends on state no test can create).
const SKIPPED: &[(&str, &str)] = &[];

/// No path ids.
const NONE: &[&str] = &[];

const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

/// `"POST /api/v1/demands"` → the example of its JSON request body (`None`: no example).
fn body_examples(doc: &Value) -> BTreeMap<String, Option<Value>> {
    let mut out = BTreeMap::new();
    let paths = doc["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for method in METHODS {
            let Some(media) = item.get(method).and_then(|op| op.pointer("/requestBody/content/application~1json"))
            else {
                continue;
            };
            let mut schema = &media["schema"];
            if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
                let name = reference.strip_prefix("#/components/schemas/").expect("a schema reference");
                schema = &doc["components"]["schemas"][name];
            }
            let example = media.get("example").or_else(|| schema.get("example")).filter(|e| !e.is_null()).cloned();
            out.insert(format!("{} {path}", method.to_uppercase()), example);
        }
    }
    out
}

/// Replays examples and remembers which operations it replayed.
struct Replay<'a> {
    app: &'a TestApp,
    examples: BTreeMap<String, Value>,
    replayed: BTreeSet<String>,
}

impl Replay<'_> {
    /// Sends the example of `METHOD template` to the template filled with `ids` (in order),
    /// with `subs` (JSON pointer → value) written into the example first; expects a 2xx.
    async fn send(
        &mut self,
        method: &str,
        template: &str,
        ids: &[impl AsRef<str>],
        who: Option<&TestUser>,
        subs: &[(&str, Value)],
    ) -> Value {
        let key = format!("{method} {template}");
        let mut body = self.examples.get(&key).unwrap_or_else(|| panic!("{key}: no example in the document")).clone();
        for (pointer, value) in subs {
            *body.pointer_mut(pointer).unwrap_or_else(|| panic!("{key}: the example has no {pointer}")) = value.clone();
        }
        let mut path = String::new();
        let mut ids = ids.iter();
        for segment in template.split('/').filter(|s| !s.is_empty()) {
            path.push('/');
            if segment.starts_with('{') {
                path.push_str(ids.next().unwrap_or_else(|| panic!("{key}: give an id for {segment}")).as_ref());
            } else {
                path.push_str(segment);
            }
        }
        let method_name = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let res = self.app.send(method_name, &path, who.map(|u| u.token.as_str()), Some(&body)).await;
        assert!(
            (200..300).contains(&res.status),
            "{key}: the documented example was refused with {}: {}\nexample sent: {body}",
            res.status,
            res.text
        );
        self.replayed.insert(key);
        if res.text.trim().is_empty() { Value::Null } else { res.json() }
    }

    fn example(&self, key: &str) -> Value {
        self.examples.get(key).unwrap_or_else(|| panic!("{key}: no example in the document")).clone()
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("an id in {v}")).to_owned()
}

#[tokio::test]
async fn every_json_request_body_has_an_example_the_server_accepts() {
    let app = spawn_app().await;
    let doc = app.get("/api/v1/openapi.json", None).await.expect(200);
    let undescribed: Vec<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| METHODS.iter().filter_map(move |m| item.get(*m).map(|op| (m, path, op))))
        .filter(|(_, _, op)| op["description"].as_str().is_none_or(|d| d.trim().is_empty()))
        .map(|(m, path, _)| format!("{} {path}", m.to_uppercase()))
        .collect();
    assert!(undescribed.is_empty(), "operations without a description: {undescribed:#?}");
    let all = body_examples(&doc);
    let skipped: BTreeSet<&str> = SKIPPED.iter().map(|(key, _)| *key).collect();
    let missing: Vec<&String> =
        all.iter().filter(|(k, e)| e.is_none() && !skipped.contains(k.as_str())).map(|(k, _)| k).collect();
    assert!(missing.is_empty(), "JSON request bodies without an example: {missing:#?}");
    assert!(all.len() > 40, "the walk finds the request bodies ({} found)", all.len());
    let examples = all.iter().filter_map(|(k, e)| e.clone().map(|e| (k.clone(), e))).collect();
    let mut r = Replay { app: &app, examples, replayed: BTreeSet::new() };
    let admin = app.admin().await;

    // Accounts: the example address registers, verifies, logs in, refreshes, logs out and
    // resets its password; the one-time tokens come from the emails sent.
    let email = r.example("POST /api/v1/auth/register")["email"].as_str().expect("email").to_owned();
    r.send("POST", "/api/v1/auth/register", NONE, None, &[]).await;
    let token = app.mailed_token(&email, "verify_email").await;
    r.send("POST", "/api/v1/auth/verify-email", NONE, None, &[("/token", json!(token))]).await;
    let tokens = r.send("POST", "/api/v1/auth/login", NONE, None, &[]).await;
    let tokens = r
        .send("POST", "/api/v1/auth/refresh", NONE, None, &[("/refresh_token", tokens["refresh_token"].clone())])
        .await;
    let li_ming = TestUser {
        id: String::new(),
        email: email.clone(),
        password: String::new(),
        token: tokens["access_token"].as_str().expect("access token").to_owned(),
        refresh: String::new(),
        org_id: None,
    };
    r.send("POST", "/api/v1/auth/logout", NONE, Some(&li_ming), &[("/refresh_token", tokens["refresh_token"].clone())])
        .await;
    r.send("POST", "/api/v1/auth/password-reset", NONE, None, &[]).await;
    let token = app.mailed_token(&email, "password_reset").await;
    r.send("POST", "/api/v1/auth/password-reset/confirm", NONE, None, &[("/token", json!(token))]).await;

    // Organizations and roles.
    let founder = app.user().await;
    let institute = r.send("POST", "/api/v1/organizations", NONE, Some(&founder), &[]).await;
    r.send("POST", "/api/v1/admin/organizations/{id}/reject", &[&id(&institute)], Some(&admin), &[]).await;
    let university = app.member("university").await;
    let enterprise = app.member("enterprise").await;
    r.send("POST", "/api/v1/organizations/{id}/invitations", &[university.org()], Some(&university), &[]).await;
    r.send("POST", "/api/v1/organizations/{id}/members", &[enterprise.org()], Some(&enterprise), &[]).await;
    let someone = app.user().await;
    r.send("POST", "/api/v1/admin/users/{id}/role", &[&someone.id], Some(&admin), &[]).await;
    r.send("POST", "/api/v1/me/subscriptions", NONE, Some(&enterprise), &[]).await;

    // Achievements and demands: create, edit, submit, reject as documented.
    let draft = r.send("POST", "/api/v1/achievements", NONE, Some(&university), &[]).await;
    r.send("PATCH", "/api/v1/achievements/{id}", &[&id(&draft)], Some(&university), &[]).await;
    app.post(&format!("/achievements/{}/submit", id(&draft)), university.t(), &json!({})).await.expect(200);
    r.send("POST", "/api/v1/admin/achievements/{id}/reject", &[&id(&draft)], Some(&admin), &[]).await;
    let demand = r.send("POST", "/api/v1/demands", NONE, Some(&enterprise), &[]).await;
    r.send("PATCH", "/api/v1/demands/{id}", &[&id(&demand)], Some(&enterprise), &[]).await;
    app.post(&format!("/demands/{}/submit", id(&demand)), enterprise.t(), &json!({})).await.expect(200);
    r.send("POST", "/api/v1/admin/demands/{id}/reject", &[&id(&demand)], Some(&admin), &[]).await;

    // A published achievement with confidential detail: access requests (NDA flow).
    let mut body = achievement_body("硫化物固态电解质", "高离子电导率硫化物固态电解质及其制备方法。");
    body["confidential"] = json!({"text": "烧结温度曲线与掺杂比例。"});
    let achievement = app.publish(&university, &admin, "achievement", &body).await;
    let request =
        r.send("POST", "/api/v1/achievements/{id}/access-requests", &[&achievement], Some(&enterprise), &[]).await;
    let granted = r.send("POST", "/api/v1/access-requests/{id}/grant", &[&id(&request)], Some(&university), &[]).await;
    let sha = granted["nda_sha256"].clone();
    r.send(
        "POST",
        "/api/v1/access-requests/{id}/accept-nda",
        &[&id(&request)],
        Some(&enterprise),
        &[("/nda_sha256", sha)],
    )
    .await;
    r.send("POST", "/api/v1/access-requests/{id}/revoke", &[&id(&request)], Some(&university), &[]).await;
    let other = app.member("enterprise").await;
    let request = app
        .post(&format!("/achievements/{achievement}/access-requests"), other.t(), &json!({"message": "希望了解"}))
        .await
        .expect(201);
    r.send("POST", "/api/v1/access-requests/{id}/decline", &[&id(&request)], Some(&university), &[]).await;

    // Freshness: a published demand's deadline moves.
    let open_demand = app
        .publish(&enterprise, &admin, "demand", &crate::helpers::demand_body("风电叶片检测", "叶片无损检测。"))
        .await;
    r.send("POST", "/api/v1/demands/{id}/extend", &[&open_demand], Some(&enterprise), &[]).await;

    // Connections (供需对接).
    let connection = r
        .send("POST", "/api/v1/connections", NONE, Some(&enterprise), &[("/achievement_id", json!(achievement))])
        .await;
    app.post(&format!("/connections/{}/accept", id(&connection)), university.t(), &json!({})).await.expect(200);
    r.send("POST", "/api/v1/connections/{id}/messages", &[&id(&connection)], Some(&enterprise), &[]).await;
    let declined = app
        .post("/connections", other.t(), &json!({"achievement_id": achievement, "message": "希望对接"}))
        .await
        .expect(201);
    r.send("POST", "/api/v1/connections/{id}/decline", &[&id(&declined)], Some(&university), &[]).await;

    // Brokers (技术经理人): a service provider's member keeps a profile and is invited.
    let provider = app.member("service_provider").await;
    let broker = r.send("POST", "/api/v1/me/broker-profile", NONE, Some(&provider), &[]).await;
    r.send(
        "POST",
        "/api/v1/connections/{id}/broker",
        &[&id(&connection)],
        Some(&enterprise),
        &[("/broker_id", json!(id(&broker)))],
    )
    .await;

    // Technology contracts: draft, sign, register, pay, report, distribute; terminate another.
    let parties = [
        ("/seller_org_id", json!(university.org())),
        ("/buyer_org_id", json!(enterprise.org())),
        ("/achievement_id", json!(achievement)),
    ];
    let contract = r.send("POST", "/api/v1/contracts", NONE, Some(&university), &parties).await;
    let contract = id(&contract);
    for party in [&university, &enterprise] {
        app.post(&format!("/contracts/{contract}/sign"), party.t(), &json!({})).await.expect(200);
    }
    r.send("POST", "/api/v1/admin/contracts/{id}/register", &[&contract], Some(&admin), &[]).await;
    r.send("POST", "/api/v1/contracts/{id}/payments", &[&contract], Some(&university), &[]).await;
    r.send("POST", "/api/v1/contracts/{id}/commercialization", &[&contract], Some(&enterprise), &[]).await;
    r.send("POST", "/api/v1/contracts/{id}/revenue-distribution", &[&contract], Some(&university), &[]).await;
    let mut body = r.example("POST /api/v1/contracts");
    body["seller_org_id"] = json!(university.org());
    body["buyer_org_id"] = json!(enterprise.org());
    body.as_object_mut().expect("object").remove("achievement_id");
    let second = app.post("/contracts", university.t(), &body).await.expect(201);
    r.send("POST", "/api/v1/contracts/{id}/terminate", &[&id(&second)], Some(&university), &[]).await;

    // 认定登记: an office for the seller's region; a filing asked for a supplement, supplemented,
    // accepted, approved, amended and cancelled; filed again and refused.
    let government = app.member("government").await;
    let office_org = [("/org_id", json!(government.org()))];
    r.send("POST", "/api/v1/admin/registration-offices", NONE, Some(&admin), &office_org).await;
    let third = id(&app.post("/contracts", university.t(), &body).await.expect(201));
    for party in [&university, &enterprise] {
        app.post(&format!("/contracts/{third}/sign"), party.t(), &json!({})).await.expect(200);
    }
    let signed_copy = app.file(&university, "signed_contract", &crate::files::pdf(1_000)).await;
    let filing = [("/attachments/0/file_id", json!(signed_copy))];
    r.send("POST", "/api/v1/contracts/{id}/registration", &[&third], Some(&university), &filing).await;
    let registrar = Some(&government);
    r.send("POST", "/api/v1/contracts/{id}/registration/request-supplement", &[&third], registrar, &[]).await;
    let evidence = app.file(&university, "evidence", &crate::files::pdf(1_000)).await;
    let answer = [("/attachments/0/file_id", json!(evidence))];
    r.send("POST", "/api/v1/contracts/{id}/registration/supplement", &[&third], Some(&university), &answer).await;
    app.post(&format!("/contracts/{third}/registration/accept"), government.t(), &json!({})).await.expect(200);
    for action in ["approve", "amend", "cancel"] {
        let template = format!("/api/v1/contracts/{{id}}/registration/{action}");
        r.send("POST", &template, &[&third], registrar, &[]).await;
    }
    let mut again = r.example("POST /api/v1/contracts/{id}/registration");
    again["attachments"][0]["file_id"] = json!(app.file(&university, "signed_contract", &crate::files::pdf(900)).await);
    app.post(&format!("/contracts/{third}/registration"), university.t(), &again).await.expect(201);
    r.send("POST", "/api/v1/contracts/{id}/registration/refuse", &[&third], registrar, &[]).await;

    // 揭榜挂帅: the documented challenge, reviewed and rejected; another cancelled; and the
    // same challenge with a near deadline taken through bids, review, award and milestones.
    let challenge = r.send("POST", "/api/v1/challenges", NONE, Some(&enterprise), &[]).await;
    app.post(&format!("/challenges/{}/submit", id(&challenge)), enterprise.t(), &json!({})).await.expect(200);
    r.send("POST", "/api/v1/admin/challenges/{id}/reject", &[&id(&challenge)], Some(&admin), &[]).await;
    let documented = r.example("POST /api/v1/challenges");
    let open = |mode: &str, winners: i32| {
        let mut body = documented.clone();
        body["bid_deadline"] = json!((app.clock.now() + chrono::Duration::days(10)).to_rfc3339());
        body["publicity_days"] = json!(0);
        body["mode"] = json!(mode);
        body["max_winners"] = json!(winners);
        body
    };
    let cancelled = app.post("/challenges", enterprise.t(), &open("single", 1)).await.expect(201);
    r.send("POST", "/api/v1/challenges/{id}/cancel", &[&id(&cancelled)], Some(&enterprise), &[]).await;

    let publish = |body: Value| {
        let (app, enterprise, admin) = (&app, &enterprise, &admin);
        async move {
            let created = app.post("/challenges", enterprise.t(), &body).await.expect(201);
            let cid = id(&created);
            app.post(&format!("/challenges/{cid}/submit"), enterprise.t(), &json!({})).await.expect(200);
            app.post(&format!("/admin/challenges/{cid}/approve"), admin.t(), &json!({})).await.expect(200);
            cid
        }
    };
    let single = publish(open("single", 1)).await;
    let race = publish(open("horse_race", 2)).await;
    let institute_member = app.member("institute").await;
    let bid = r.send("POST", "/api/v1/challenges/{id}/bids", &[&single], Some(&university), &[]).await;
    let bid = id(&bid);
    let mut race_bids = Vec::new();
    for bidder in [&university, &institute_member] {
        race_bids.push(id(&r.send("POST", "/api/v1/challenges/{id}/bids", &[&race], Some(bidder), &[]).await));
    }
    app.clock.advance(chrono::Duration::days(11));
    let experts = [app.expert().await, app.expert().await];
    let expert_ids = json!([experts[0].id, experts[1].id]);
    for cid in [&single, &race] {
        r.send(
            "POST",
            "/api/v1/admin/challenges/{id}/experts",
            &[cid],
            Some(&admin),
            &[("/user_ids", expert_ids.clone())],
        )
        .await;
    }
    for expert in &experts {
        r.send("PUT", "/api/v1/challenges/{id}/bids/{bid_id}/score", &[&single, &bid], Some(expert), &[]).await;
        for b in &race_bids {
            r.send("PUT", "/api/v1/challenges/{id}/bids/{bid_id}/score", &[&race, b], Some(expert), &[]).await;
        }
    }
    let awarded = r
        .send("POST", "/api/v1/challenges/{id}/award", &[&single], Some(&enterprise), &[("/bid_ids", json!([bid]))])
        .await;
    let milestone = awarded["milestones"][0]["id"].as_str().expect("a milestone").to_owned();
    let on_bid = [("/bid_id", json!(bid))];
    let deliver = "/api/v1/challenges/{id}/milestones/{mid}/deliver";
    r.send("POST", deliver, &[&single, &milestone], Some(&university), &on_bid).await;
    r.send(
        "POST",
        "/api/v1/challenges/{id}/milestones/{mid}/reject",
        &[&single, &milestone],
        Some(&enterprise),
        &on_bid,
    )
    .await;
    r.send("POST", deliver, &[&single, &milestone], Some(&university), &on_bid).await;
    r.send(
        "POST",
        "/api/v1/challenges/{id}/milestones/{mid}/accept",
        &[&single, &milestone],
        Some(&enterprise),
        &on_bid,
    )
    .await;
    r.send("POST", "/api/v1/challenges/{id}/award", &[&race], Some(&enterprise), &[("/bid_ids", json!(race_bids))])
        .await;
    r.send(
        "POST",
        "/api/v1/challenges/{id}/eliminate",
        &[&race],
        Some(&enterprise),
        &[("/bid_id", json!(race_bids[1]))],
    )
    .await;

    // 科技创新券: the documented program is created; a program open today (the example with
    // today's dates) takes the documented application, approval and redemption.
    r.send("POST", "/api/v1/admin/voucher-programs", NONE, Some(&admin), &[]).await;
    let today = techtransfer::domain::voucher::shanghai_date(app.clock.now());
    let mut program = r.example("POST /api/v1/admin/voucher-programs");
    program["year"] = json!(chrono::Datelike::year(&today));
    program["applications_open"] = json!(today.to_string());
    program["applications_close"] = json!((today + chrono::Duration::days(30)).to_string());
    program["settle_by"] = json!((today + chrono::Duration::days(120)).to_string());
    let program = id(&app.post("/admin/voucher-programs", admin.t(), &program).await.expect(201));
    let application =
        r.send("POST", "/api/v1/voucher-programs/{id}/applications", &[&program], Some(&enterprise), &[]).await;
    let voucher = r
        .send("POST", "/api/v1/admin/voucher-applications/{id}/approve", &[&id(&application)], Some(&admin), &[])
        .await;
    let code = [("/voucher_code", voucher["code"].clone())];
    let provider = app.member("service_provider").await;
    let redemption = r.send("POST", "/api/v1/voucher-redemptions", NONE, Some(&provider), &code).await;
    app.post(&format!("/voucher-redemptions/{}/confirm", id(&redemption)), enterprise.t(), &json!({}))
        .await
        .expect(200);
    // The confirmed redemption is settled by a batch closed today (the example's cut-off is a
    // date of the documented program, not of this one).
    let batch = r
        .send(
            "POST",
            "/api/v1/admin/voucher-programs/{id}/settlement-batches",
            &[&program],
            Some(&admin),
            &[("/cut_off", json!(today.to_string()))],
        )
        .await;
    assert_eq!(batch["count"], 1);
    let mut second = r.example("POST /api/v1/voucher-redemptions");
    second["voucher_code"] = voucher["code"].clone();
    second["invoice_no"] = json!("25322000000012345679");
    let second = app.post("/voucher-redemptions", provider.t(), &second).await.expect(201);
    r.send("POST", "/api/v1/admin/voucher-redemptions/{id}/reject", &[&id(&second)], Some(&admin), &[]).await;
    r.send("POST", "/api/v1/admin/vouchers/{id}/revoke", &[&id(&voucher)], Some(&admin), &[]).await;
    let small = app.member("enterprise").await;
    let body = r.example("POST /api/v1/voucher-programs/{id}/applications");
    let refused = app.post(&format!("/voucher-programs/{program}/applications"), small.t(), &body).await.expect(201);
    r.send("POST", "/api/v1/admin/voucher-applications/{id}/reject", &[&id(&refused)], Some(&admin), &[]).await;

    // Research integrity: a warning on an organization, then lifted.
    let record =
        r.send("POST", "/api/v1/admin/integrity-records", NONE, Some(&admin), &[("/org_id", json!(other.org()))]).await;
    r.send("POST", "/api/v1/admin/integrity-records/{id}/lift", &[&id(&record)], Some(&admin), &[]).await;

    // Shared instruments: the documented instrument, edited; the documented booking and its
    // steps, on slots beside it; completion and the no-show once the slots have begun.
    let instrument = id(&r.send("POST", "/api/v1/instruments", NONE, Some(&provider), &[]).await);
    // Slots are booked at most a year ahead: the clock moves to the month of the example.
    let before: chrono::DateTime<chrono::Utc> = "2031-03-01T00:00:00Z".parse().expect("instant");
    app.clock.advance(before - app.clock.now());
    r.send("PATCH", "/api/v1/instruments/{id}", &[&instrument], Some(&provider), &[]).await;
    let booking = r.send("POST", "/api/v1/instruments/{id}/bookings", &[&instrument], Some(&enterprise), &[]).await;
    let on_day = |day: u32| {
        let mut body = r.example("POST /api/v1/instruments/{id}/bookings");
        body["starts_at"] = json!(format!("2031-03-{day}T01:00:00Z"));
        body["ends_at"] = json!(format!("2031-03-{day}T02:00:00Z"));
        body
    };
    let path = format!("/instruments/{instrument}/bookings");
    let [refused, cancelled, missed] = [11, 12, 13].map(on_day);
    let refused = id(&app.post(&path, enterprise.t(), &refused).await.expect(201));
    let cancelled = id(&app.post(&path, enterprise.t(), &cancelled).await.expect(201));
    let missed = id(&app.post(&path, enterprise.t(), &missed).await.expect(201));
    r.send("POST", "/api/v1/bookings/{id}/reject", &[&refused], Some(&provider), &[]).await;
    for approved in [&id(&booking), &cancelled, &missed] {
        app.post(&format!("/bookings/{approved}/approve"), provider.t(), &json!({})).await.expect(200);
    }
    r.send("POST", "/api/v1/bookings/{id}/cancel", &[&cancelled], Some(&enterprise), &[]).await;
    let after: chrono::DateTime<chrono::Utc> = "2031-03-14T00:00:00Z".parse().expect("instant");
    app.clock.advance(after - app.clock.now());
    r.send("POST", "/api/v1/bookings/{id}/complete", &[&id(&booking)], Some(&provider), &[]).await;
    r.send("POST", "/api/v1/bookings/{id}/no-show", &[&missed], Some(&provider), &[]).await;

    let not_replayed: Vec<&String> =
        r.examples.keys().filter(|k| !r.replayed.contains(k.as_str()) && !skipped.contains(k.as_str())).collect();
    assert!(not_replayed.is_empty(), "examples this test does not replay yet (add a step): {not_replayed:#?}");
}

/// Query structs are documented as query parameters (`in: query`), never as path parameters
/// the path does not have (which fails OpenAPI validation).
#[tokio::test]
async fn every_parameter_is_where_the_path_says() {
    let app = spawn_app().await;
    let doc = app.get("/api/v1/openapi.json", None).await.expect(200);
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            for param in operation["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap_or_default();
                if param["in"] == "path" {
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: path parameter {name} not in the path"
                    );
                }
            }
        }
    }
}
