//! Email templates: one directory per kind under `src/mail/templates/` with a subject, a
//! plain-text and an HTML part, rendered by minijinja from the `Email` value itself (its fields
//! are the template's variables). Values are HTML-escaped in the `.html` parts only.

use std::sync::LazyLock;

use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

/// `subject.txt`, `body.txt` and `body.html` of one kind, compiled into the binary.
macro_rules! parts {
    ($kind:literal) => {
        [
            (concat!($kind, "/subject.txt"), include_str!(concat!("templates/", $kind, "/subject.txt"))),
            (concat!($kind, "/body.txt"), include_str!(concat!("templates/", $kind, "/body.txt"))),
            (concat!($kind, "/body.html"), include_str!(concat!("templates/", $kind, "/body.html"))),
        ]
    };
}

/// The templates, compiled once. A template that does not compile is a bug the tests catch.
static TEMPLATES: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // A variable the template names but the email lacks is an error, not an empty string.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(minijinja::syntax::SyntaxConfig::builder().keep_trailing_newline(true).build()?);
    env.set_formatter(five_character_escaping);
    let all = [
        parts!("verify_email"),
        parts!("password_reset"),
        parts!("org_verified"),
        parts!("org_rejected"),
        parts!("notification"),
        parts!("digest"),
    ];
    for (name, source) in all.into_iter().flatten() {
        env.add_template(name, source)?;
    }
    Ok(env)
});

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

    /// Renders the subject (one line) and both bodies.
    pub fn render(&self) -> Result<Rendered, minijinja::Error> {
        let env = TEMPLATES.as_ref().map_err(|e| minijinja::Error::new(e.kind(), e.to_string()))?;
        let kind = self.kind();
        let part = |name: &str| env.get_template(&format!("{kind}/{name}"))?.render(Serde(self));
        let subject = part("subject.txt")?.replace(['\r', '\n'], " ");
        Ok(Rendered { subject: subject.trim().to_owned(), text: part("body.txt")?, html: part("body.html")? })
    }
}

/// minijinja formatter escaping HTML with the five characters of [`escape_html`]: minijinja's
/// own also turns `/` into `&#x2f;`, which makes links and API paths unreadable in the source
/// of an email or a page. Shared by the mail templates and the link pages.
pub fn five_character_escaping(
    out: &mut minijinja::Output<'_>,
    state: &mut minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() {
        out.write_str(&escape_html(&value.to_string())).map_err(minijinja::Error::from)
    } else {
        minijinja::escape_formatter(out, state, value)
    }
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
            Email::Digest {
                items: vec![
                    DigestItem { title: "钙钛矿电池".into(), link: "http://x/a/1".into() },
                    DigestItem { title: "A&B <x>".into(), link: "http://x/a/2?q=1&r=2".into() },
                ],
            },
        ]
    }

    #[test]
    fn every_placeholder_is_filled_in_every_part() {
        for email in samples() {
            let r = email.render().unwrap();
            for part in [&r.subject, &r.text, &r.html] {
                assert!(!part.contains("{{"), "{} left a placeholder: {part}", email.kind());
                assert!(!part.is_empty());
            }
        }
    }

    #[test]
    fn token_links_appear_in_both_parts_and_html_is_escaped() {
        let r = samples()[0].render().unwrap();
        assert!(r.text.contains("token=abc") && r.html.contains("token=abc"));
        assert!(r.html.contains("<a href=\"http://x/verify-email?token=abc\">"), "{}", r.html);
        let rejected = samples()[3].render().unwrap();
        assert!(rejected.html.contains("&lt;营业执照&gt;"));
        assert!(rejected.text.contains("<营业执照>"));
    }

    #[test]
    fn digest_lists_one_line_per_item() {
        let r = samples()[5].render().unwrap();
        assert_eq!(r.subject, "您订阅的新发布信息（2 条）");
        assert!(
            r.text.ends_with(
                "信息：\n\n· 钙钛矿电池  http://x/a/1\n· A&B <x>  http://x/a/2?q=1&r=2\n\n科技成果转化平台\n"
            ),
            "{}",
            r.text
        );
        assert!(r.html.contains(
            "<ul><li><a href=\"http://x/a/1\">钙钛矿电池</a></li><li><a href=\"http://x/a/2?q=1&amp;r=2\">A&amp;B &lt;x&gt;</a></li></ul>"
        ));
    }
}
