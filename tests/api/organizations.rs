//! Organizations: creation, GB 32100 codes, review, visibility, members; the audit chain.

use serde_json::json;

use crate::helpers::{TestApp, credit_code, spawn_app, unique};

#[tokio::test]
async fn creating_an_organization_makes_the_caller_owner() {
    let app = spawn_app().await;
    let user = app.user().await;
    let org = app.post("/organizations", user.t(), &TestApp::org_body("university")).await.expect(201);
    assert_eq!(org["status"], "pending");
    assert_eq!(org["integrity"], "clear");
    let me = app.get("/me", user.t()).await.expect(200);
    assert_eq!(me["organization"]["id"], org["id"]);
    assert_eq!(me["organization"]["org_role"], "owner");
    assert_eq!(me["organization"]["status"], "pending");
    // One organization per user.
    app.post("/organizations", user.t(), &TestApp::org_body("institute")).await.problem(409, "already_in_organization");
    // Anonymous callers cannot create one.
    app.post("/organizations", None, &TestApp::org_body("institute")).await.problem(401, "unauthorized");
}

#[tokio::test]
async fn credit_codes_are_validated_and_unique() {
    let app = spawn_app().await;
    let code = credit_code(unique());
    let mut body = TestApp::org_body("enterprise");
    body["credit_code"] = code.clone().into();
    let first = app.user().await;
    app.post("/organizations", first.t(), &body).await.expect(201);
    let second = app.user().await;
    let mut dup = TestApp::org_body("enterprise");
    dup["credit_code"] = code.to_lowercase().into();
    app.post("/organizations", second.t(), &dup).await.problem(409, "credit_code_taken");

    let mut bad = TestApp::org_body("enterprise");
    let mut wrong = code.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    bad["credit_code"] = wrong.into();
    let res = app.post("/organizations", second.t(), &bad).await.problem(422, "validation_failed");
    assert!(res["errors"]["credit_code"].is_array());
    // Nothing was created: the user still has no organization.
    assert!(app.get("/me", second.t()).await.expect(200)["organization"].is_null());

    let mut bad_region = TestApp::org_body("enterprise");
    bad_region["region"] = "火星".into();
    assert!(
        app.post("/organizations", second.t(), &bad_region).await.problem(422, "validation_failed")["errors"]["region"]
            .is_array()
    );
    let mut scale_for_university = TestApp::org_body("university");
    scale_for_university["enterprise_scale"] = "small".into();
    app.post("/organizations", second.t(), &scale_for_university).await.problem(422, "validation_failed");
    let mut bad_kind = TestApp::org_body("enterprise");
    bad_kind["kind"] = "cartel".into();
    app.post("/organizations", second.t(), &bad_kind).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn pending_organizations_are_private_until_verified() {
    let app = spawn_app().await;
    let owner = app.pending_member("institute").await;
    let path = format!("/organizations/{}", owner.org());
    let stranger = app.user().await;
    let admin = app.admin().await;
    app.get(&path, None).await.problem(404, "not_found");
    app.get(&path, stranger.t()).await.problem(404, "not_found");
    let own = app.get(&path, owner.t()).await.expect(200);
    assert_eq!(own["contact"]["name"], "王工", "members see contact details");
    app.get(&path, admin.t()).await.expect(200);
    let public = app.get("/organizations", None).await.expect(200);
    assert!(public["items"].as_array().unwrap().iter().all(|o| o["id"] != owner.org()));
    let pending = app.get("/organizations?status=pending", admin.t()).await.expect(200);
    assert!(pending["items"].as_array().unwrap().iter().any(|o| o["id"] == owner.org()));
    assert_eq!(app.get("/organizations?status=pending", None).await.expect(200)["total"], 0);

    app.post(&format!("/admin/organizations/{}/verify", owner.org()), stranger.t(), &json!({}))
        .await
        .problem(403, "forbidden");
    let verified =
        app.post(&format!("/admin/organizations/{}/verify", owner.org()), admin.t(), &json!({})).await.expect(200);
    assert_eq!(verified["status"], "verified");
    let public_view = app.get(&path, None).await.expect(200);
    assert_eq!(public_view["status"], "verified");
    assert!(public_view["contact"].is_null(), "the public does not see contact details");
    let listed = app.get("/organizations?kind=institute", None).await.expect(200);
    assert!(listed["items"].as_array().unwrap().iter().any(|o| o["id"] == owner.org()));
    assert_eq!(listed["page"], 1);
    assert_eq!(listed["per_page"], 20);
    app.get("/organizations?per_page=101", None).await.problem(422, "validation_failed");
    app.get("/organizations?page=0", None).await.problem(422, "validation_failed");

    // Review happens once.
    app.post(&format!("/admin/organizations/{}/verify", owner.org()), admin.t(), &json!({}))
        .await
        .problem(409, "invalid_state_transition");
    app.post(&format!("/admin/organizations/{}/reject", owner.org()), admin.t(), &json!({"reason": "迟到的驳回"}))
        .await
        .problem(409, "invalid_state_transition");

    // The owner was told, in the app and by email.
    app.run_due_jobs().await;
    let mail =
        app.mails().into_iter().find(|m| m.to == owner.email && m.kind == "org_verified").expect("verified mail");
    assert!(mail.subject.contains("认证"));
    let notes = app.get("/me/notifications?unread=true", owner.t()).await.expect(200);
    let note =
        notes["items"].as_array().unwrap().iter().find(|n| n["kind"] == "organization_verified").unwrap().clone();
    let read =
        app.post(&format!("/me/notifications/{}/read", note["id"].as_str().unwrap()), owner.t(), &json!({})).await;
    assert_eq!(read.expect(200)["read"], true);
    assert_eq!(app.get("/me/notifications?unread=true", owner.t()).await.expect(200)["total"], 0);
    app.post(&format!("/me/notifications/{}/read", note["id"].as_str().unwrap()), stranger.t(), &json!({}))
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn rejection_needs_a_reason_and_is_mailed() {
    let app = spawn_app().await;
    let owner = app.pending_member("enterprise").await;
    let admin = app.admin().await;
    let path = format!("/admin/organizations/{}/reject", owner.org());
    app.post(&path, admin.t(), &json!({"reason": "  "})).await.problem(422, "validation_failed");
    let rejected = app.post(&path, admin.t(), &json!({"reason": "营业执照信息不一致"})).await.expect(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reject_reason"], "营业执照信息不一致");
    app.run_due_jobs().await;
    let mail = app.mails().into_iter().find(|m| m.to == owner.email && m.kind == "org_rejected").unwrap();
    assert!(mail.text.contains("营业执照信息不一致"));
}

#[tokio::test]
async fn membership_is_by_invitation_and_consent() {
    let app = spawn_app().await;
    let owner = app.member("enterprise").await;
    let newcomer = app.user().await;
    app.verify_email(&newcomer).await;
    let path = format!("/organizations/{}/invitations", owner.org());
    let invite = |email: &str, role: &str| json!({"email": email, "org_role": role});
    // Inviting changes nobody's membership.
    assert_eq!(app.post(&path, owner.t(), &invite(&newcomer.email, "member")).await.status, 202);
    assert!(app.get("/me", newcomer.t()).await.expect(200)["organization"].is_null());
    // The same answer whether the address has an account, an organization, or nothing.
    let admin = app.admin().await;
    let other_owner = app.member("university").await;
    for email in [admin.email.clone(), other_owner.email.clone(), format!("nobody{}@example.cn", unique())] {
        let res = app.post(&path, owner.t(), &invite(&email, "member")).await;
        assert_eq!((res.status, res.text.as_str()), (202, ""));
    }
    // The first round's path is an invitation too.
    let members = format!("/organizations/{}/members", owner.org());
    assert_eq!(app.post(&members, owner.t(), &invite(&newcomer.email, "member")).await.status, 202);
    assert!(app.get("/me", newcomer.t()).await.expect(200)["organization"].is_null());
    // Only an owner invites.
    let another = app.user().await;
    app.post(&path, newcomer.t(), &invite(&another.email, "member")).await.problem(403, "forbidden");
    app.post(&path, another.t(), &invite(&another.email, "owner")).await.problem(403, "forbidden");
    app.post(&path, owner.t(), &json!({"email": "not-an-email", "org_role": "member"}))
        .await
        .problem(422, "validation_failed");

    // The invitee sees the invitation (once, renewed) and the owner was notified only through it.
    let mine = app.get("/me/invitations", newcomer.t()).await.expect(200);
    let items = mine["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "pending");
    assert_eq!(items[0]["org_id"], owner.org());
    let id = items[0]["id"].as_str().unwrap().to_owned();
    app.run_due_jobs().await;
    assert!(app.mails().iter().any(|m| m.to == newcomer.email && m.kind == "notification"));
    // Nobody else can act on it.
    app.post(&format!("/invitations/{id}/accept"), another.t(), &json!({})).await.problem(404, "not_found");
    let joined = app.post(&format!("/invitations/{id}/accept"), newcomer.t(), &json!({})).await.expect(200);
    assert_eq!(joined["status"], "accepted");
    let me = app.get("/me", newcomer.t()).await.expect(200);
    assert_eq!(me["organization"]["id"], owner.org());
    assert_eq!(me["organization"]["org_role"], "member");
    app.post(&format!("/invitations/{id}/accept"), newcomer.t(), &json!({}))
        .await
        .problem(409, "invalid_state_transition");

    // Someone in another organization cannot accept until they leave it.
    let invited =
        app.get("/me/invitations", other_owner.t()).await.expect(200)["items"][0]["id"].as_str().unwrap().to_owned();
    app.verify_email(&other_owner).await;
    app.post(&format!("/invitations/{invited}/accept"), other_owner.t(), &json!({}))
        .await
        .problem(409, "already_in_organization");
    // The platform administrator cannot join an organization.
    let admin_invite = app.invitation_for(&admin).await;
    app.post(&format!("/invitations/{admin_invite}/accept"), admin.t(), &json!({})).await.problem(403, "forbidden");
    // An unverified address cannot accept; declining works.
    app.post(&path, owner.t(), &invite(&another.email, "member")).await;
    let another_invite = app.invitation_for(&another).await;
    app.post(&format!("/invitations/{another_invite}/accept"), another.t(), &json!({})).await.problem(403, "forbidden");
    let declined =
        app.post(&format!("/invitations/{another_invite}/decline"), another.t(), &json!({})).await.expect(200);
    assert_eq!(declined["status"], "declined");
    // Invitations expire.
    let late = app.user().await;
    app.verify_email(&late).await;
    app.post(&path, owner.t(), &invite(&late.email, "member")).await;
    let late_invite = app.invitation_for(&late).await;
    app.clock.advance(chrono::Duration::days(15));
    assert_eq!(app.get("/me/invitations", late.t()).await.expect(200)["items"][0]["status"], "expired");
    app.post(&format!("/invitations/{late_invite}/accept"), late.t(), &json!({}))
        .await
        .problem(409, "invalid_state_transition");
}

#[tokio::test]
async fn members_leave_or_are_removed_but_an_organization_keeps_an_owner() {
    let app = spawn_app().await;
    let owner = app.member("enterprise").await;
    let member = app.add_member(&owner).await;
    let second = app.add_member(&owner).await;
    app.post("/me/organization/leave", owner.t(), &json!({})).await.problem(409, "last_owner");
    let remove = |who: &crate::helpers::TestUser| format!("/organizations/{}/members/{}", owner.org(), who.id);
    app.delete(&remove(&owner), owner.t()).await.problem(409, "last_owner");
    // Members cannot remove anyone.
    app.delete(&remove(&second), member.t()).await.problem(403, "forbidden");
    let left = app.post("/me/organization/leave", member.t(), &json!({})).await.expect(200);
    assert!(left["organization"].is_null());
    app.post("/me/organization/leave", member.t(), &json!({})).await.problem(409, "conflict");
    assert_eq!(app.delete(&remove(&second), owner.t()).await.status, 204);
    assert!(app.get("/me", second.t()).await.expect(200)["organization"].is_null());
    app.delete(&remove(&second), owner.t()).await.problem(404, "not_found");
    // A co-owner lets the first owner leave.
    let co = app.user().await;
    app.verify_email(&co).await;
    app.post(
        &format!("/organizations/{}/invitations", owner.org()),
        owner.t(),
        &json!({"email": co.email, "org_role": "owner"}),
    )
    .await
    .expect(202);
    let id = app.invitation_for(&co).await;
    app.post(&format!("/invitations/{id}/accept"), co.t(), &json!({})).await.expect(200);
    app.post("/me/organization/leave", owner.t(), &json!({})).await.expect(200);
    app.post("/me/organization/leave", co.t(), &json!({})).await.problem(409, "last_owner");
}

#[tokio::test]
async fn audit_log_records_changes_and_detects_tampering() {
    let app = spawn_app().await;
    let owner = app.member("university").await;
    let admin = app.admin().await;
    let user = app.user().await;
    app.get("/admin/audit", user.t()).await.problem(403, "forbidden");
    app.get("/admin/audit/verify", user.t()).await.problem(403, "forbidden");

    let log = app
        .get(&format!("/admin/audit?entity_type=organization&entity_id={}", owner.org()), admin.t())
        .await
        .expect(200);
    let items = log["items"].as_array().unwrap();
    let verify = items.iter().find(|e| e["action"] == "organization.verify").expect("verify entry");
    assert_eq!(verify["from_status"], "pending");
    assert_eq!(verify["to_status"], "verified");
    assert!(verify["actor_id"].is_string());
    assert!(items.iter().any(|e| e["action"] == "organization.create" && e["to_status"] == "pending"));

    let check = app.get("/admin/audit/verify", admin.t()).await.expect(200);
    assert_eq!(check["ok"], true);
    assert!(check["entries"].as_i64().unwrap() >= 4);
    assert_eq!(check["pending"], 0, "verify sequences what is pending first");
    assert_eq!(check["checkpoint"]["size"], check["entries"]);

    // Someone edits a row behind the application's back.
    let id = verify["id"].as_str().unwrap().to_owned();
    let log = app.get("/admin/audit?entity_type=organization", admin.t()).await.expect(200);
    let seq =
        log["items"].as_array().unwrap().iter().find(|e| e["id"] == id.as_str()).unwrap()["seq"].as_i64().unwrap();
    app.with_conn(|c| {
        use diesel::prelude::*;
        use techtransfer::db::schema::audit_log;
        diesel::update(audit_log::table.find(&id)).set(audit_log::to_status.eq("rejected")).execute(c).unwrap();
    });
    let check = app.get("/admin/audit/verify", admin.t()).await.expect(200);
    assert_eq!(check["ok"], false);
    assert_eq!(check["broken_at_seq"], seq);
}

#[tokio::test]
async fn deleting_an_audit_entry_breaks_the_chain() {
    let app = spawn_app().await;
    let _owner = app.member("institute").await;
    let admin = app.admin().await;
    app.get("/admin/audit/verify", admin.t()).await.expect(200);
    app.with_conn(|c| {
        use diesel::prelude::*;
        use techtransfer::db::schema::audit_log;
        diesel::delete(audit_log::table.filter(audit_log::seq.eq(2_i64))).execute(c).unwrap();
    });
    let check = app.get("/admin/audit/verify", admin.t()).await.expect(200);
    assert_eq!(check["ok"], false);
    assert_eq!(check["broken_at_seq"], 2);
}

/// Removing the newest entries leaves a shorter chain whose hashes all check out; the signed
/// checkpoint still says how long it was.
#[tokio::test]
async fn truncating_the_newest_audit_entries_is_detected_by_the_checkpoint() {
    let app = spawn_app().await;
    let _owner = app.member("institute").await;
    let admin = app.admin().await;
    let before = app.get("/admin/audit/verify", admin.t()).await.expect(200);
    assert_eq!(before["ok"], true);
    let size = before["checkpoint"]["size"].as_i64().unwrap();
    assert!(size >= 3);
    app.with_conn(|c| {
        use diesel::prelude::*;
        use techtransfer::db::schema::audit_log;
        diesel::delete(audit_log::table.filter(audit_log::seq.ge(size - 1))).execute(c).unwrap();
    });
    let after = app.get("/admin/audit/verify", admin.t()).await.expect(200);
    assert_eq!(after["ok"], false, "{after}");
    assert_eq!(after["broken_at_seq"], size - 1);

    // Rewriting the newest entry and re-hashing it consistently is caught the same way: the
    // head no longer matches the signed one.
    let app = spawn_app().await;
    let _owner = app.member("institute").await;
    let admin = app.admin().await;
    let before = app.get("/admin/audit/verify", admin.t()).await.expect(200);
    let size = before["checkpoint"]["size"].as_i64().unwrap();
    app.with_conn(|c| {
        use diesel::prelude::*;
        use techtransfer::db::schema::audit_log;
        use techtransfer::domain::audit::{EntryContent, entry_hash};
        let (prev, action, entity_type, entity_id, at): (
            Option<String>,
            String,
            String,
            String,
            chrono::NaiveDateTime,
        ) = audit_log::table
            .filter(audit_log::seq.eq(size))
            .select((
                audit_log::prev_hash,
                audit_log::action,
                audit_log::entity_type,
                audit_log::entity_id,
                audit_log::at,
            ))
            .first(c)
            .unwrap();
        let at_text = techtransfer::db::audit::at_text(at);
        let forged = entry_hash(
            prev.as_deref().unwrap(),
            &EntryContent {
                seq: size,
                actor_id: None,
                action: &action,
                entity_type: &entity_type,
                entity_id: &entity_id,
                from_status: None,
                to_status: Some("forged"),
                detail: None,
                at: &at_text,
            },
        );
        diesel::update(audit_log::table.filter(audit_log::seq.eq(size)))
            .set((
                audit_log::actor_id.eq(None::<String>),
                audit_log::from_status.eq(None::<String>),
                audit_log::to_status.eq("forged"),
                audit_log::detail.eq(None::<String>),
                audit_log::hash.eq(&forged),
            ))
            .execute(c)
            .unwrap();
    });
    let after = app.get("/admin/audit/verify", admin.t()).await.expect(200);
    assert_eq!(after["ok"], false, "{after}");
}
