//! Users: roles, statuses, and the rules on credentials.

use super::error::Validator;
use crate::domain::error::{Message, Rule};
use crate::text_enum;

text_enum!(
    /// Platform role of a user.
    Role { User = "user", Expert = "expert", Admin = "admin" }
);

text_enum!(
    /// Account status: `unverified` until the email link is followed.
    UserStatus { Unverified = "unverified", Active = "active", Disabled = "disabled" }
);

text_enum!(
    /// Role inside an organization.
    OrgRole { Owner = "owner", Member = "member" }
);

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Lower-cases and trims an email address; `None` when it is not plausibly an address.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && local.len() <= 64
        && email.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    plausible.then_some(email)
}

pub fn check_password(v: &mut Validator, field: &str, password: &str) {
    let n = password.chars().count();
    v.check(n >= PASSWORD_MIN_CHARS, field, Message::rule(Rule::TooShort).arg("min", PASSWORD_MIN_CHARS));
    v.check(n <= PASSWORD_MAX_CHARS, field, Message::too_long(PASSWORD_MAX_CHARS));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_or_refused() {
        assert_eq!(normalize_email("  Li.Ming@Example.CN "), Some("li.ming@example.cn".to_owned()));
        for bad in ["", "no-at", "a@b", "@x.cn", "a b@x.cn", "a@@x.cn", "a@.cn", "a@x.cn."] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn passwords_need_ten_characters() {
        let mut v = Validator::new();
        check_password(&mut v, "password", "短密码123");
        assert!(!v.is_empty());
        let mut v = Validator::new();
        check_password(&mut v, "password", "十个字符的中文密码好");
        assert!(v.is_empty());
    }
}
