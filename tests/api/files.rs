//! Files: uploads (sniffed types, per-purpose limits, oversize refused early), downloads by
//! role and range, attachments on records (frozen after submission, required purposes), the
//! NDA flow to confidential detail, and orphan clean-up. Every test runs on the local
//! directory and, when `TT_TEST_S3_ENDPOINT` is set, on an S3-compatible server.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{
    StorageChoice, TestApp, TestResponse, TestUser, achievement_body, hex, spawn_app_on, storage_choices,
};

const BOUNDARY: &str = "tt-boundary-7MA4YWxkTrZu0gW";

/// A multipart/form-data body with `purpose` first, then `file`.
fn form(purpose: &str, name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(form_head(purpose, name).as_bytes());
    body.extend_from_slice(bytes);
    body.extend_from_slice(form_tail().as_bytes());
    body
}

fn form_head(purpose: &str, name: &str) -> String {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
}

fn form_tail() -> String {
    format!("\r\n--{BOUNDARY}--\r\n")
}

/// A PDF-looking file of `len` bytes (the header is what counts).
pub fn pdf(len: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut x: u32 = 12345;
    while out.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        out.push((x >> 16) as u8);
    }
    out.truncate(len.max(16));
    out
}

fn png() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    out.extend_from_slice(&[0u8; 64]);
    out
}

fn exe() -> Vec<u8> {
    let mut out = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0@\0".to_vec();
    out.extend_from_slice(&[0u8; 200]);
    out
}

/// A ZIP of stored (uncompressed) entries, written the way office suites lay out their packages.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&20u16.to_le_bytes()); // version
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&0u16.to_le_bytes()); // stored
        out.extend_from_slice(&[0, 0, 0x21, 0]); // time, date
        out.extend_from_slice(&0u32.to_le_bytes()); // crc (not checked by sniffing)
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
    }
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0u8; 18]);
    out
}

fn docx() -> Vec<u8> {
    zip(&[
        ("[Content_Types].xml", b"<?xml version=\"1.0\"?><Types/>"),
        ("_rels/.rels", b"<?xml version=\"1.0\"?><Relationships/>"),
        ("word/_rels/document.xml.rels", b"<?xml version=\"1.0\"?><Relationships/>"),
        ("word/document.xml", b"<?xml version=\"1.0\"?><w:document/>"),
    ])
}

fn sha(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

impl TestApp {
    pub async fn upload(&self, user: &TestUser, purpose: &str, name: &str, bytes: &[u8]) -> TestResponse {
        let req = self
            .client
            .post(self.url("/files"))
            .bearer_auth(&user.token)
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(form(purpose, name, bytes));
        self.raw(req).await
    }

    /// Uploads and returns the file id.
    pub async fn file(&self, user: &TestUser, purpose: &str, bytes: &[u8]) -> String {
        self.upload(user, purpose, "文件.pdf", bytes).await.expect(201)["id"].as_str().unwrap().to_owned()
    }

    pub async fn download(&self, id: &str, user: Option<&TestUser>, range: Option<&str>) -> (TestResponse, Vec<u8>) {
        let mut req = self.client.get(self.url(&format!("/files/{id}")));
        if let Some(u) = user {
            req = req.bearer_auth(&u.token);
        }
        if let Some(r) = range {
            req = req.header("range", r);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap_or_default().to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        (TestResponse { status, headers, text }, bytes)
    }

    fn storage_key(&self, id: &str) -> String {
        self.with_conn(|c| techtransfer::db::files::find_file(c, id)).unwrap().expect("file row").storage_key
    }
}

fn header(res: &TestResponse, name: &str) -> String {
    res.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn upload_and_download_with_ranges() {
    for choice in storage_choices() {
        let app = spawn_app_on(choice, |_| {}).await;
        let owner = app.member("university").await;
        let bytes = pdf(700 * 1024);
        let res = app.upload(&owner, "patent_certificate", "专利证书 2026.pdf", &bytes).await;
        let file = res.expect(201);
        assert_eq!(file["content_type"], "application/pdf", "{choice:?}");
        assert_eq!(file["size"], bytes.len());
        assert_eq!(file["sha256"], sha(&bytes));
        assert_eq!(file["name"], "专利证书 2026.pdf");
        assert_eq!(file["purpose"], "patent_certificate");
        assert_eq!(file["status"], "stored");
        let id = file["id"].as_str().unwrap();
        assert!(app.state.storage.exists(&app.storage_key(id)).await.unwrap());

        let (res, body) = app.download(id, Some(&owner), None).await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(body, bytes);
        assert_eq!(header(&res, "content-type"), "application/pdf");
        assert_eq!(header(&res, "content-length"), bytes.len().to_string());
        assert_eq!(header(&res, "accept-ranges"), "bytes");
        let disposition = header(&res, "content-disposition");
        assert!(
            disposition.contains("filename*=UTF-8''%E4%B8%93%E5%88%A9%E8%AF%81%E4%B9%A6%202026.pdf"),
            "{disposition}"
        );

        let (res, body) = app.download(id, Some(&owner), Some("bytes=1000-1999")).await;
        assert_eq!(res.status, 206);
        assert_eq!(body, &bytes[1000..2000]);
        assert_eq!(header(&res, "content-range"), format!("bytes 1000-1999/{}", bytes.len()));
        let (res, body) = app.download(id, Some(&owner), Some("bytes=-100")).await;
        assert_eq!(res.status, 206);
        assert_eq!(body, &bytes[bytes.len() - 100..]);
        let (res, _) = app.download(id, Some(&owner), Some(&format!("bytes={}-", bytes.len()))).await;
        assert_eq!(res.status, 416);
        assert_eq!(header(&res, "content-range"), format!("bytes */{}", bytes.len()));

        // Nobody else reads a file attached to nothing.
        let other = app.member("institute").await;
        assert_eq!(app.download(id, Some(&other), None).await.0.status, 404);
        assert_eq!(app.download(id, None, None).await.0.status, 404);
    }
}

#[tokio::test]
async fn content_is_sniffed_not_named() {
    for choice in storage_choices() {
        let app = spawn_app_on(choice, |_| {}).await;
        let user = app.member("enterprise").await;
        // An executable named .pdf.
        let res = app.upload(&user, "financial_statement", "财务报表.pdf", &exe()).await;
        res.problem(422, "unsupported_file_type");
        // An image where only PDF is allowed.
        app.upload(&user, "credit_report", "信用报告.pdf", &png()).await.problem(422, "unsupported_file_type");
        // Unrecognisable content.
        app.upload(&user, "other", "a.pdf", b"plain text, not a document").await.problem(422, "unsupported_file_type");
        // A Word document is told apart from a plain ZIP.
        let doc = app.upload(&user, "proposal", "方案.docx", &docx()).await.expect(201);
        assert_eq!(doc["content_type"], "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
        let bundle = zip(&[("a.pdf", &pdf(100))]);
        assert_eq!(
            app.upload(&user, "proposal", "材料.zip", &bundle).await.expect(201)["content_type"],
            "application/zip"
        );
        app.upload(&user, "credit_report", "材料.zip", &bundle).await.problem(422, "unsupported_file_type");
        assert_eq!(
            app.upload(&user, "payment_proof", "凭证.png", &png()).await.expect(201)["content_type"],
            "image/png"
        );
        // Refused uploads leave nothing behind.
        let rows: i64 = app.with_conn(|c| {
            use diesel::prelude::*;
            techtransfer::db::schema::files::table.count().get_result(c).unwrap()
        });
        assert_eq!(rows, 3);
        // The purpose part must come first, and name a purpose.
        let body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7\r\n--{BOUNDARY}--\r\n"
        );
        let req = app
            .client
            .post(app.url("/files"))
            .bearer_auth(&user.token)
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(body);
        app.raw(req).await.problem(422, "validation_failed");
        app.upload(&user, "selfie", "a.pdf", &pdf(100)).await.problem(422, "validation_failed");
        // Not multipart at all.
        app.post("/files", user.t(), &json!({})).await.problem(415, "unsupported_media_type");
    }
}

/// Sends `head` and then `chunk` repeatedly until the server answers or `max` bytes went out;
/// returns the status line and how many body bytes were sent.
async fn send_until_answered(
    addr: &str,
    head: String,
    body_start: Vec<u8>,
    chunked: bool,
    max: usize,
) -> (String, usize) {
    let host = addr.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut sent = 0usize;
    let write = move |data: &[u8]| {
        if chunked {
            let mut framed = format!("{:x}\r\n", data.len()).into_bytes();
            framed.extend_from_slice(data);
            framed.extend_from_slice(b"\r\n");
            framed
        } else {
            data.to_vec()
        }
    };
    stream.write_all(&write(&body_start)).await.unwrap();
    sent += body_start.len();
    let filler = vec![0x41u8; 64 * 1024];
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        let mut sent = sent;
        while sent < max {
            if writer.write_all(&write(&filler)).await.is_err() {
                break;
            }
            sent += filler.len();
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        sent
    });
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(30), reader.read(&mut buf))
        .await
        .expect("the server answers before the body ends")
        .unwrap();
    sender.abort();
    let sent = sender.await.unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    (text.lines().next().unwrap_or_default().to_owned(), sent)
}

#[tokio::test]
async fn oversize_is_refused_without_reading_the_body() {
    for choice in storage_choices() {
        let app = spawn_app_on(choice, |s| {
            s.storage.max_bytes.insert("credit_report".to_owned(), 1024 * 1024);
        })
        .await;
        let user = app.member("enterprise").await;
        let start = form_head("credit_report", "big.pdf").into_bytes().into_iter().chain(pdf(1024)).collect::<Vec<_>>();
        // A declared length over the limit: refused after the purpose part.
        let declared = 200 * 1024 * 1024;
        let head = format!(
            "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {declared}\r\n\r\n",
            user.token
        );
        let (status, sent) = send_until_answered(&app.addr, head, start.clone(), false, declared).await;
        assert!(status.contains("413"), "{status}");
        assert!(sent < declared / 4, "sent {sent} of {declared} bytes before the answer");
        // No length (chunked): refused once the stream passes the limit.
        let head = format!(
            "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n",
            user.token
        );
        let max = 64 * 1024 * 1024;
        let (status, sent) = send_until_answered(&app.addr, head, start, true, max).await;
        assert!(status.contains("413"), "{status}");
        assert!(sent < max / 4, "sent {sent} bytes before the answer");
        // Within the limit the same purpose is accepted.
        app.upload(&user, "credit_report", "ok.pdf", &pdf(900 * 1024)).await.expect(201);
        let rows: i64 = app.with_conn(|c| {
            use diesel::prelude::*;
            techtransfer::db::schema::files::table.count().get_result(c).unwrap()
        });
        assert_eq!(rows, 1);
    }
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|a| a["file_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn downloads_follow_the_record_visibility() {
    for choice in storage_choices() {
        let app = spawn_app_on(choice, |_| {}).await;
        let admin = app.admin().await;
        let university = app.member("university").await;
        let enterprise = app.member("enterprise").await;
        let other = app.member("institute").await;
        let no_org = app.user().await;
        let expert = app.expert().await;

        // A published achievement's public certificate: everyone.
        let cert = app.file(&university, "patent_certificate", &pdf(2000)).await;
        let mut body = achievement_body("带证书的成果", "简介");
        body["attachments"] = json!([{"file_id": cert, "purpose": "patent_certificate"}]);
        let created = app.post("/achievements", university.t(), &body).await.expect(201);
        assert_eq!(ids(&created["attachments"]), vec![cert.clone()]);
        assert_eq!(created["attachments"][0]["visibility"], "public");
        let ach = created["id"].as_str().unwrap().to_owned();
        // Still a draft: only the owner and admins.
        assert_eq!(app.download(&cert, Some(&other), None).await.0.status, 404);
        assert_eq!(app.download(&cert, Some(&admin), None).await.0.status, 200);
        app.post(&format!("/achievements/{ach}/submit"), university.t(), &json!({})).await.expect(200);
        app.post(&format!("/admin/achievements/{ach}/approve"), admin.t(), &json!({})).await.expect(200);
        for who in [None, Some(&no_org), Some(&other), Some(&expert), Some(&enterprise)] {
            assert_eq!(app.download(&cert, who, None).await.0.status, 200);
        }
        let got = app.get(&format!("/achievements/{ach}"), None).await.expect(200);
        assert_eq!(ids(&got["attachments"]), vec![cert.clone()]);

        // A contract's annex: the parties and admins only.
        let annex = app.file(&university, "signed_contract", &pdf(3000)).await;
        let contract = json!({
            "kind": "license", "title": "许可合同", "seller_org_id": university.org(), "buyer_org_id": enterprise.org(),
            "amount_fen": 1000, "payment_plan": [{"due_date": "2027-01-01", "amount_fen": 1000}],
            "attachments": [{"file_id": annex, "purpose": "signed_contract"}],
        });
        let k = app.post("/contracts", university.t(), &contract).await.expect(201);
        assert_eq!(k["attachments"][0]["visibility"], "parties");
        let k_id = k["id"].as_str().unwrap();
        assert_eq!(
            ids(&app.get(&format!("/contracts/{k_id}"), enterprise.t()).await.expect(200)["attachments"]),
            vec![annex.clone()]
        );
        for (who, status) in [
            (None, 404),
            (Some(&no_org), 404),
            (Some(&other), 404),
            (Some(&expert), 404),
            (Some(&admin), 200),
            (Some(&enterprise), 200),
            (Some(&university), 200),
        ] {
            assert_eq!(app.download(&annex, who, None).await.0.status, status, "{who:?}");
        }

        // Someone else's file cannot be attached, nor a file under another purpose.
        let theirs = app.file(&other, "signed_contract", &pdf(100)).await;
        let mut c2 = contract.clone();
        c2["attachments"] = json!([{"file_id": theirs, "purpose": "signed_contract"}]);
        let err = app.post("/contracts", university.t(), &c2).await.problem(422, "validation_failed");
        assert!(err["errors"]["attachments[0].file_id"].is_array(), "{err}");
        let mine = app.file(&university, "signed_contract", &pdf(100)).await;
        c2["attachments"] = json!([{"file_id": mine, "purpose": "payment_proof"}]);
        let err = app.post("/contracts", university.t(), &c2).await.problem(422, "validation_failed");
        assert!(err["errors"]["attachments[0].purpose"].is_array(), "{err}");
        c2["attachments"] = json!([{"file_id": "not-a-uuid", "purpose": "signed_contract"}]);
        app.post("/contracts", university.t(), &c2).await.problem(422, "validation_failed");
        // The uploader may delete it while unattached; not once attached.
        assert_eq!(app.delete(&format!("/files/{mine}"), other.t()).await.status, 404);
        assert_eq!(app.delete(&format!("/files/{mine}"), university.t()).await.status, 204);
        assert_eq!(app.download(&mine, Some(&university), None).await.0.status, 404);
        app.delete(&format!("/files/{annex}"), university.t()).await.problem(409, "invalid_state_transition");

        // Integrity evidence: administrators only (not even the uploader's colleagues).
        let evidence = app.file(&admin, "evidence", &pdf(500)).await;
        let record = app
            .post(
                "/admin/integrity-records",
                admin.t(),
                &json!({"org_id": other.org(), "severity": "warning", "reason": "数据造假", "attachments": [{"file_id": evidence, "purpose": "evidence"}]}),
            )
            .await
            .expect(201);
        assert_eq!(record["attachments"][0]["visibility"], "reviewers");
        assert_eq!(app.download(&evidence, Some(&other), None).await.0.status, 404);
        let admin2 = app.admin().await;
        assert_eq!(app.download(&evidence, Some(&admin2), None).await.0.status, 200);
    }
}

#[tokio::test]
async fn attachments_freeze_when_submitted() {
    for choice in storage_choices() {
        let app = spawn_app_on(choice, |_| {}).await;
        let university = app.member("university").await;
        let first = app.file(&university, "test_report", &pdf(100)).await;
        let mut body = achievement_body("检测报告成果", "简介");
        body["attachments"] =
            json!([{"file_id": first, "purpose": "test_report"}, {"file_id": first, "purpose": "test_report"}]);
        let created = app.post("/achievements", university.t(), &body).await.expect(201);
        assert_eq!(ids(&created["attachments"]), vec![first.clone()], "the same file twice is attached once");
        let id = created["id"].as_str().unwrap().to_owned();
        // While a draft, a new version is added beside the old one.
        let second = app.file(&university, "test_report", &pdf(200)).await;
        let edited = app
            .patch(
                &format!("/achievements/{id}"),
                university.t(),
                &json!({"attachments": [{"file_id": second, "purpose": "test_report"}]}),
            )
            .await
            .expect(200);
        assert_eq!(ids(&edited["attachments"]), vec![first.clone(), second.clone()]);
        app.post(&format!("/achievements/{id}/submit"), university.t(), &json!({})).await.expect(200);
        let third = app.file(&university, "test_report", &pdf(300)).await;
        app.patch(
            &format!("/achievements/{id}"),
            university.t(),
            &json!({"attachments": [{"file_id": third, "purpose": "test_report"}]}),
        )
        .await
        .problem(409, "invalid_state_transition");
        let got = app.get(&format!("/achievements/{id}"), university.t()).await.expect(200);
        assert_eq!(ids(&got["attachments"]), vec![first, second]);
        // The refused edit attached nothing.
        assert_eq!(app.with_conn(|c| techtransfer::db::files::find_file(c, &third)).unwrap().unwrap().status, "stored");
    }
}

#[tokio::test]
async fn required_purposes_are_enforced() {
    for choice in storage_choices() {
        let app = spawn_app_on(choice, |_| {}).await;
        let admin = app.admin().await;
        let enterprise = app.member("enterprise").await;
        let today = techtransfer::domain::voucher::shanghai_date(app.clock.now());
        let program = json!({
            "name": "创新券", "year": 2026, "total_budget_fen": 10_000_000, "per_enterprise_cap_fen": 1_000_000,
            "coverage_ratio_bp": 5000, "service_categories": ["inspection_testing"], "eligible_scales": ["small"], "valid_days": 90,
            "applications_open": today.to_string(), "applications_close": (today + chrono::Duration::days(30)).to_string(),
            "settle_by": (today + chrono::Duration::days(120)).to_string(),
            "required_purposes": ["financial_statement", "credit_report", "commitment_letter"],
        });
        let created = app.post("/admin/voucher-programs", admin.t(), &program).await.expect(201);
        assert_eq!(created["required_purposes"], json!(["financial_statement", "commitment_letter", "credit_report"]));
        let prog = created["id"].as_str().unwrap().to_owned();
        assert_eq!(
            app.get(&format!("/voucher-programs/{prog}"), None).await.expect(200)["required_purposes"],
            created["required_purposes"]
        );
        let path = format!("/voucher-programs/{prog}/applications");
        let mut apply = json!({"requested_fen": 100_000, "purpose": "检测", "service_category": "inspection_testing"});
        let err = app.post(&path, enterprise.t(), &apply).await.problem(422, "missing_attachments");
        let detail = err["detail"].as_str().unwrap();
        for p in ["financial_statement", "credit_report", "commitment_letter"] {
            assert!(detail.contains(p), "{detail}");
        }
        let statement = app.file(&enterprise, "financial_statement", &pdf(100)).await;
        let report = app.file(&enterprise, "credit_report", &pdf(100)).await;
        apply["attachments"] = json!([{"file_id": statement, "purpose": "financial_statement"}, {"file_id": report, "purpose": "credit_report"}]);
        let err = app.post(&path, enterprise.t(), &apply).await.problem(422, "missing_attachments");
        assert_eq!(err["errors"]["attachments"], json!(["缺少附件：commitment_letter"]));
        let letter = app.file(&enterprise, "commitment_letter", &png()).await;
        apply["attachments"].as_array_mut().unwrap().push(json!({"file_id": letter, "purpose": "commitment_letter"}));
        let application = app.post(&path, enterprise.t(), &apply).await.expect(201);
        assert_eq!(application["attachments"].as_array().unwrap().len(), 3);
        assert_eq!(application["attachments"][0]["visibility"], "parties");
        // The applicant's statements are private to it and the administrators.
        let other = app.member("enterprise").await;
        assert_eq!(app.download(&statement, Some(&other), None).await.0.status, 404);
        assert_eq!(app.download(&statement, Some(&admin), None).await.0.status, 200);

        // A challenge requiring a stamped proposal.
        let issuer = app.member("enterprise").await;
        let challenge = json!({
            "title": "需方案的榜单", "description": "描述", "field": "new_materials",
            "indicators": [{"name": "指标", "target": "目标"}], "reward_fen": 100, "mode": "single", "max_winners": 1,
            "bid_deadline": (app.clock.now() + chrono::Duration::days(30)).to_rfc3339(),
            "eligible_kinds": ["institute", "university"],
            "milestones": [{"title": "交付", "due_date": "2027-12-31", "payment_fen": 100}],
            "required_purposes": ["proposal"],
        });
        let ch = app.post("/challenges", issuer.t(), &challenge).await.expect(201);
        assert_eq!(ch["required_purposes"], json!(["proposal"]));
        let ch = ch["id"].as_str().unwrap().to_owned();
        app.post(&format!("/challenges/{ch}/submit"), issuer.t(), &json!({})).await.expect(200);
        app.post(&format!("/admin/challenges/{ch}/approve"), admin.t(), &json!({})).await.expect(200);
        let team = app.member("institute").await;
        let mut bid =
            json!({"proposal": "方案", "budget_fen": 100, "plan": "计划", "team": [{"name": "张三", "title": "教授"}]});
        let err = app.post(&format!("/challenges/{ch}/bids"), team.t(), &bid).await.problem(422, "missing_attachments");
        assert!(err["detail"].as_str().unwrap().contains("proposal"));
        let proposal = app.file(&team, "proposal", &docx()).await;
        bid["attachments"] = json!([{"file_id": proposal, "purpose": "proposal"}]);
        let made = app.post(&format!("/challenges/{ch}/bids"), team.t(), &bid).await.expect(201);
        assert_eq!(made["attachments"][0]["visibility"], "reviewers");
        // Reviewers: the issuer after the deadline, assigned experts, admins; not other bidders.
        assert_eq!(app.download(&proposal, Some(&team), None).await.0.status, 200);
        assert_eq!(app.download(&proposal, Some(&issuer), None).await.0.status, 404);
        let rival = app.member("university").await;
        bid["attachments"] = json!([]);
        app.post(&format!("/challenges/{ch}/bids"), rival.t(), &bid).await.problem(422, "missing_attachments");
        app.clock.advance(chrono::Duration::days(31));
        assert_eq!(app.download(&proposal, Some(&issuer), None).await.0.status, 200);
        let expert = app.expert().await;
        let stranger = app.expert().await;
        assert_eq!(app.download(&proposal, Some(&expert), None).await.0.status, 404);
        app.post(&format!("/admin/challenges/{ch}/experts"), admin.t(), &json!({"user_ids": [expert.id]}))
            .await
            .expect(200);
        assert_eq!(app.download(&proposal, Some(&expert), None).await.0.status, 200);
        assert_eq!(app.download(&proposal, Some(&rival), None).await.0.status, 404);
        assert_eq!(app.download(&proposal, Some(&stranger), None).await.0.status, 404);
        assert_eq!(app.download(&proposal, None, None).await.0.status, 404);
    }
}

#[tokio::test]
async fn nda_opens_confidential_detail() {
    for choice in storage_choices() {
        let app = spawn_app_on(choice, |_| {}).await;
        let admin = app.admin().await;
        let university = app.member("university").await;
        let enterprise = app.member("enterprise").await;
        let other = app.member("enterprise").await;
        let secret = app.file(&university, "test_report", &pdf(4000)).await;
        let mut body = achievement_body("保密成果", "公开简介");
        body["confidential"] = json!({"text": "核心工艺参数：退火温度 450℃", "attachments": [{"file_id": secret, "purpose": "test_report"}]});
        let created = app.post("/achievements", university.t(), &body).await.expect(201);
        assert_eq!(created["confidential"]["text"], "核心工艺参数：退火温度 450℃");
        assert_eq!(created["confidential"]["attachments"][0]["visibility"], "nda_holders");
        let ach = created["id"].as_str().unwrap().to_owned();
        app.post(&format!("/achievements/{ach}/submit"), university.t(), &json!({})).await.expect(200);
        app.post(&format!("/admin/achievements/{ach}/approve"), admin.t(), &json!({})).await.expect(200);

        let path = format!("/achievements/{ach}");
        for who in [None, enterprise.t(), other.t()] {
            let got = app.get(&path, who).await.expect(200);
            assert!(got.get("confidential").is_none(), "{got}");
        }
        assert_eq!(app.get(&path, admin.t()).await.expect(200)["confidential"]["text"], "核心工艺参数：退火温度 450℃");
        assert_eq!(app.download(&secret, Some(&enterprise), None).await.0.status, 404);

        // Ask, be granted, accept the NDA.
        let req = app
            .post(&format!("{path}/access-requests"), enterprise.t(), &json!({"message": "拟产业化，申请查阅"}))
            .await
            .expect(201);
        assert_eq!(req["status"], "requested");
        let rid = req["id"].as_str().unwrap().to_owned();
        app.post(&format!("{path}/access-requests"), enterprise.t(), &json!({}))
            .await
            .problem(409, "duplicate_access_request");
        app.post(&format!("{path}/access-requests"), university.t(), &json!({})).await.problem(403, "forbidden");
        app.get(&format!("{path}/access-requests"), enterprise.t()).await.problem(403, "forbidden");
        let listed = app.get(&format!("{path}/access-requests"), university.t()).await.expect(200);
        assert_eq!(listed["items"][0]["id"], rid);
        // Accepting before a grant, or granting as the requester, is refused.
        app.post(&format!("/access-requests/{rid}/accept-nda"), enterprise.t(), &json!({"nda_sha256": "00"}))
            .await
            .problem(409, "invalid_state_transition");
        app.post(&format!("/access-requests/{rid}/grant"), enterprise.t(), &json!({"nda_text": "x"}))
            .await
            .problem(403, "forbidden");
        app.post(&format!("/access-requests/{rid}/grant"), other.t(), &json!({"nda_text": "x"}))
            .await
            .problem(404, "not_found");
        let nda = "保密协议：甲方披露之技术信息，乙方不得向第三方泄露，期限五年。";
        let granted = app
            .post(
                &format!("/access-requests/{rid}/grant"),
                university.t(),
                &json!({"nda_text": nda, "nda_version": "2026-v1"}),
            )
            .await
            .expect(200);
        assert_eq!(granted["status"], "granted");
        assert_eq!(granted["nda_sha256"], sha(nda.as_bytes()));
        assert!(app.get(&path, enterprise.t()).await.expect(200).get("confidential").is_none());
        app.post(
            &format!("/access-requests/{rid}/accept-nda"),
            university.t(),
            &json!({"nda_sha256": sha(nda.as_bytes())}),
        )
        .await
        .problem(403, "forbidden");
        app.post(
            &format!("/access-requests/{rid}/accept-nda"),
            enterprise.t(),
            &json!({"nda_sha256": sha(b"another text")}),
        )
        .await
        .problem(409, "nda_version_mismatch");
        let active = app
            .post(
                &format!("/access-requests/{rid}/accept-nda"),
                enterprise.t(),
                &json!({"nda_sha256": sha(nda.as_bytes())}),
            )
            .await
            .expect(200);
        assert_eq!(active["status"], "active");
        assert_eq!(active["accepted_by"], enterprise.id);
        assert_eq!(active["nda_text"], nda);

        // The holder reads the detail and its files; nobody else does, and no list shows it.
        let got = app.get(&path, enterprise.t()).await.expect(200);
        assert_eq!(got["confidential"]["text"], "核心工艺参数：退火温度 450℃");
        assert_eq!(ids(&got["confidential"]["attachments"]), vec![secret.clone()]);
        assert_eq!(app.download(&secret, Some(&enterprise), None).await.0.status, 200);
        assert_eq!(app.download(&secret, Some(&other), None).await.0.status, 404);
        assert!(app.get(&path, other.t()).await.expect(200).get("confidential").is_none());
        let listing = app.get("/achievements?q=保密成果", enterprise.t()).await.expect(200);
        assert!(!listing.to_string().contains("退火温度"), "{listing}");
        let listing = app.get("/achievements", enterprise.t()).await.expect(200);
        assert!(!listing.to_string().contains("退火温度"), "{listing}");

        // The acceptance is in the audit chain: who, when, which text.
        let audit = app.get("/admin/audit?entity_type=access_request", admin.t()).await.expect(200);
        let entries = audit["items"].as_array().cloned().unwrap_or_default();
        let accepted = entries
            .iter()
            .find(|e| e["action"] == "access_request.accept_nda")
            .unwrap_or_else(|| panic!("no accept_nda entry in {audit}"));
        assert_eq!(accepted["actor_id"], enterprise.id);
        let detail = accepted["detail"].to_string();
        assert!(detail.contains(&sha(nda.as_bytes())) && detail.contains("2026-v1"), "{detail}");
        app.get("/admin/audit/verify", admin.t()).await.expect(200);

        // Revoked: the detail closes again.
        let revoked = app
            .post(&format!("/access-requests/{rid}/revoke"), university.t(), &json!({"reason": "合作终止"}))
            .await
            .expect(200);
        assert_eq!(revoked["status"], "revoked");
        assert!(app.get(&path, enterprise.t()).await.expect(200).get("confidential").is_none());
        assert_eq!(app.download(&secret, Some(&enterprise), None).await.0.status, 404);
        // A new request may follow; a decline ends it.
        let again = app.post(&format!("{path}/access-requests"), enterprise.t(), &json!({})).await.expect(201);
        let aid = again["id"].as_str().unwrap();
        let declined =
            app.post(&format!("/access-requests/{aid}/decline"), university.t(), &json!({})).await.expect(200);
        assert_eq!(declined["status"], "declined");
        app.post(&format!("/access-requests/{aid}/grant"), university.t(), &json!({"nda_text": nda}))
            .await
            .problem(409, "invalid_state_transition");
        // Achievements without confidential detail take no requests.
        let plain = app.publish(&university, &admin, "achievement", &achievement_body("普通成果", "简介")).await;
        app.post(&format!("/achievements/{plain}/access-requests"), enterprise.t(), &json!({}))
            .await
            .problem(409, "conflict");
    }
}

#[tokio::test]
async fn orphans_are_removed_after_a_day() {
    for choice in storage_choices() {
        let app = spawn_app_on(choice, |_| {}).await;
        let university = app.member("university").await;
        let orphan = app.file(&university, "other", &pdf(1000)).await;
        let kept = app.file(&university, "other", &pdf(1000)).await;
        let mut body = achievement_body("附件成果", "简介");
        body["attachments"] = json!([{"file_id": kept, "purpose": "other"}]);
        app.post("/achievements", university.t(), &body).await.expect(201);
        let (orphan_key, kept_key) = (app.storage_key(&orphan), app.storage_key(&kept));

        // Not yet: a day has not passed.
        app.clock.advance(chrono::Duration::hours(23));
        app.run_due_jobs().await;
        assert!(app.state.storage.exists(&orphan_key).await.unwrap());
        app.clock.advance(chrono::Duration::hours(2));
        app.run_due_jobs().await;
        assert!(!app.state.storage.exists(&orphan_key).await.unwrap(), "{choice:?}");
        assert_eq!(app.download(&orphan, Some(&university), None).await.0.status, 404);
        assert!(app.state.storage.exists(&kept_key).await.unwrap());
        assert_eq!(app.download(&kept, Some(&university), None).await.0.status, 200);
        // An orphan can no longer be attached.
        let mut late = achievement_body("迟到的附件", "简介");
        late["attachments"] = json!([{"file_id": orphan, "purpose": "other"}]);
        app.post("/achievements", university.t(), &late).await.problem(422, "validation_failed");
    }
}

#[tokio::test]
async fn openapi_documents_uploads_and_downloads() {
    let app = spawn_app_on(StorageChoice::Local, |_| {}).await;
    let doc = app.get("/api/v1/openapi.json", None).await.expect(200);
    let upload = &doc["paths"]["/api/v1/files"]["post"];
    assert!(upload["requestBody"]["content"]["multipart/form-data"].is_object(), "{upload}");
    let download = &doc["paths"]["/api/v1/files/{id}"]["get"];
    assert!(download["responses"]["200"]["content"]["application/octet-stream"].is_object(), "{download}");
    assert!(download["responses"]["206"].is_object());
    for path in [
        "/api/v1/achievements/{id}/access-requests",
        "/api/v1/access-requests/{id}/grant",
        "/api/v1/access-requests/{id}/decline",
        "/api/v1/access-requests/{id}/revoke",
        "/api/v1/access-requests/{id}/accept-nda",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} undocumented");
    }
}
