//! Email templates: one directory per kind under `src/mail/templates/` with a subject, a
//! plain-text and an HTML part; `{{name}}` placeholders are filled from a typed context.
//! Values are HTML-escaped in the HTML part, except variables whose name ends in `_html`,
//! which the context builds from escaped pieces.

use serde::{Deserialize, Serialize};

struct Template {
    subject: &'static str,
    text: &'static str,
    html: &'static str,
}

macro_rules! template {
    ($name:literal) => {
        Template {
            subject: include_str!(concat!("templates/", $name, "/subject.txt")),
            text: include_str!(concat!("templates/", $name, "/body.txt")),
            html: include_str!(concat!("templates/", $name, "/body.html")),
        }
    };
}

/// One digest line: what was published and where to see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestItem {
    pub title: String,
    pub link: String,
}

/// Every email the platform sends, with the data its template needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum Email {
    VerifyEmail { display_name: String, link: String, hours: i64 },
    PasswordReset { display_name: String, link: String, hours: i64 },
    OrgVerified { org_name: String },
    OrgRejected { org_name: String, reason: String },
    Notification { title: String, body: String, link: String },
    Digest { items: Vec<DigestItem> },
}

/// A rendered email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Email {
    pub fn kind(&self) -> &'static str {
        match self {
            Email::VerifyEmail { .. } => "verify_email",
            Email::PasswordReset { .. } => "password_reset",
            Email::OrgVerified { .. } => "org_verified",
            Email::OrgRejected { .. } => "org_rejected",
            Email::Notification { .. } => "notification",
            Email::Digest { .. } => "digest",
        }
    }

    fn template(&self) -> Template {
        match self {
            Email::VerifyEmail { .. } => template!("verify_email"),
            Email::PasswordReset { .. } => template!("password_reset"),
            Email::OrgVerified { .. } => template!("org_verified"),
            Email::OrgRejected { .. } => template!("org_rejected"),
            Email::Notification { .. } => template!("notification"),
            Email::Digest { .. } => template!("digest"),
        }
    }

    fn vars(&self) -> Vec<(&'static str, String)> {
        match self {
            Email::VerifyEmail { display_name, link, hours } | Email::PasswordReset { display_name, link, hours } => {
                vec![("display_name", display_name.clone()), ("link", link.clone()), ("hours", hours.to_string())]
            }
            Email::OrgVerified { org_name } => vec![("org_name", org_name.clone())],
            Email::OrgRejected { org_name, reason } => vec![("org_name", org_name.clone()), ("reason", reason.clone())],
            Email::Notification { title, body, link } => {
                vec![("title", title.clone()), ("body", body.clone()), ("link", link.clone())]
            }
            Email::Digest { items } => vec![
                ("count", items.len().to_string()),
                (
                    "items_text",
                    items.iter().map(|i| format!("· {}  {}", i.title, i.link)).collect::<Vec<_>>().join("\n"),
                ),
                (
                    "items_html",
                    items
                        .iter()
                        .map(|i| format!("<li><a href=\"{}\">{}</a></li>", escape_html(&i.link), escape_html(&i.title)))
                        .collect::<String>(),
                ),
            ],
        }
    }

    pub fn render(&self) -> Rendered {
        let template = self.template();
        let vars = self.vars();
        let subject = fill(template.subject, &vars, false).replace(['\r', '\n'], " ");
        Rendered {
            subject: subject.trim().to_owned(),
            text: fill(template.text, &vars, false),
            html: fill(template.html, &vars, true),
        }
    }
}

fn fill(template: &str, vars: &[(&'static str, String)], html: bool) -> String {
    let mut out = template.to_owned();
    for (name, value) in vars {
        let value = if html && !name.ends_with("_html") { escape_html(value) } else { value.clone() };
        out = out.replace(&format!("{{{{{name}}}}}"), &value);
    }
    out
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<Email> {
        vec![
            Email::VerifyEmail {
                display_name: "李明".into(),
                link: "http://x/verify-email?token=abc".into(),
                hours: 24,
            },
            Email::PasswordReset {
                display_name: "李明".into(),
                link: "http://x/reset-password?token=abc".into(),
                hours: 24,
            },
            Email::OrgVerified { org_name: "华东理工研究院".into() },
            Email::OrgRejected { org_name: "某公司".into(), reason: "<营业执照>不清晰".into() },
            Email::Notification {
                title: "新的对接请求".into(),
                body: "有机构请求对接".into(),
                link: "http://x/c/1".into(),
            },
            Email::Digest { items: vec![DigestItem { title: "钙钛矿电池".into(), link: "http://x/a/1".into() }] },
        ]
    }

    #[test]
    fn every_placeholder_is_filled_in_every_part() {
        for email in samples() {
            let r = email.render();
            for part in [&r.subject, &r.text, &r.html] {
                assert!(!part.contains("{{"), "{} left a placeholder: {part}", email.kind());
                assert!(!part.is_empty());
            }
        }
    }

    #[test]
    fn token_links_appear_in_both_parts_and_html_is_escaped() {
        let r = samples()[0].render();
        assert!(r.text.contains("token=abc") && r.html.contains("token=abc"));
        let rejected = samples()[3].render();
        assert!(rejected.html.contains("&lt;营业执照&gt;"));
        assert!(rejected.text.contains("<营业执照>"));
    }
}
