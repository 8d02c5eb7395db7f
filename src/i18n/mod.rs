//! Message catalogues: what people read is Chinese by default and English when the request
//! prefers it (`Accept-Language: en`). The catalogues are Fluent files beside this module
//! (`zh-CN.ftl`, `en.ftl`); machine codes (`code`, field paths) never change with the language.
//!
//! The language of a request is negotiated once, by the [`negotiate`] middleware, and kept in
//! a task-local for the rest of the request, so the error renderer finds it without every
//! handler passing it along.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::LazyLock;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use crate::domain::error::{Arg, ErrorCode, FieldErrors, Message, Rule};

/// The languages the catalogues hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// The BCP 47 tag (`Content-Language`).
    pub fn tag(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }

    /// The language an `Accept-Language` header prefers: the range with the highest quality
    /// among Chinese and English (the earlier one on a tie); Chinese when the header is absent,
    /// names neither, or cannot be read.
    pub fn negotiate(accept_language: Option<&str>) -> Self {
        let Some(header) = accept_language else { return Self::Zh };
        let mut best: Option<(f32, Self)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let range = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q=").map(|q| q.trim().parse::<f32>().unwrap_or(0.0)))
                .unwrap_or(1.0);
            let primary = range.split('-').next().unwrap_or("");
            let lang = match primary {
                "zh" => Self::Zh,
                "en" => Self::En,
                _ => continue,
            };
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map_or(Self::Zh, |(_, lang)| lang)
    }
}

tokio::task_local! {
    static CURRENT: Lang;
}

/// The language of the request being served (Chinese outside a request).
pub fn current() -> Lang {
    CURRENT.try_with(|lang| *lang).unwrap_or(Lang::Zh)
}

/// Runs `f` with `lang` as the request's language.
pub async fn with_lang<F: Future>(lang: Lang, f: F) -> F::Output {
    CURRENT.scope(lang, f).await
}

/// Middleware: negotiates the request's language from `Accept-Language`.
pub async fn negotiate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let lang = Lang::negotiate(req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    with_lang(lang, next.call(req)).await
}

type Bundle = FluentBundle<FluentResource>;

fn load(tag: &str, source: &'static str) -> Bundle {
    let lang = tag.parse().unwrap_or_default();
    let mut bundle = Bundle::new_concurrent(vec![lang]);
    // Placeables are field names, numbers and codes: no bidi isolation marks around them.
    bundle.set_use_isolating(false);
    // A broken catalogue is a build defect; the catalogue tests fail on it before release.
    let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, errors)| {
        tracing::error!(?errors, tag, "message catalogue has syntax errors");
        partial
    });
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(?errors, tag, "message catalogue has duplicate entries");
    }
    bundle
}

static ZH: LazyLock<Bundle> = LazyLock::new(|| load("zh-CN", include_str!("zh-CN.ftl")));
static EN: LazyLock<Bundle> = LazyLock::new(|| load("en", include_str!("en.ftl")));

fn bundle(lang: Lang) -> &'static Bundle {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// The catalogue's text for `key`, if it has one.
pub fn lookup(lang: Lang, key: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
    let bundle = bundle(lang);
    let pattern = bundle.get_message(key)?.value()?;
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, args, &mut errors);
    if !errors.is_empty() {
        tracing::warn!(key, ?errors, "message could not be filled in");
    }
    Some(text.into_owned())
}

/// The translated word (`noun-…`, then `word-…`), or the word itself.
fn word(lang: Lang, word: &str) -> String {
    let key = word.replace([' ', '_'], "-");
    lookup(lang, &format!("noun-{key}"), None)
        .or_else(|| lookup(lang, &format!("word-{key}"), None))
        .unwrap_or_else(|| word.to_owned())
}

fn list(lang: Lang, items: &[String]) -> String {
    items.join(match lang {
        Lang::Zh => "、",
        Lang::En => ", ",
    })
}

/// `message` in `lang`.
pub fn render(lang: Lang, message: &Message) -> String {
    match message {
        Message::Text(text) => text.clone(),
        Message::Rule { rule, args } => {
            let mut fluent = FluentArgs::new();
            for (name, value) in args {
                let value = match value {
                    Arg::Int(n) => FluentValue::from(*n),
                    Arg::Text(text) => FluentValue::from(text.clone()),
                    Arg::Word(w) => FluentValue::from(word(lang, w)),
                    Arg::List(items) => FluentValue::from(list(lang, items)),
                    Arg::Words(words) => {
                        FluentValue::from(list(lang, &words.iter().map(|w| word(lang, w)).collect::<Vec<_>>()))
                    }
                };
                fluent.set(*name, value);
            }
            lookup(lang, rule.key(), Some(&fluent)).unwrap_or_else(|| rule.key().to_owned())
        }
    }
}

/// The short title of `code` in `lang` (problem+json `title`).
pub fn title(lang: Lang, code: ErrorCode) -> String {
    lookup(lang, &format!("code-{}", code.as_str().replace('_', "-")), None).unwrap_or_else(|| code.title().to_owned())
}

/// Every field's messages in `lang`.
pub fn field_errors(lang: Lang, errors: &FieldErrors) -> BTreeMap<String, Vec<String>> {
    errors.iter().map(|(field, messages)| (field.clone(), messages.iter().map(|m| render(lang, m)).collect())).collect()
}

/// The detail of a problem in `lang`: a validation failure lists its fields; a message the
/// catalogues do not hold yet follows the code's translated title, so a Chinese reader still
/// gets a Chinese sentence first.
pub fn detail(lang: Lang, code: ErrorCode, detail: &Message, errors: &FieldErrors) -> String {
    if matches!(detail, Message::Rule { rule: Rule::Fields, .. }) {
        let (colon, separator) = match lang {
            Lang::Zh => ("：", "；"),
            Lang::En => (": ", "; "),
        };
        let listed = errors
            .iter()
            .map(|(field, messages)| {
                let messages = messages.iter().map(|m| render(lang, m)).collect::<Vec<_>>();
                format!("{field}{colon}{}", messages.join(separator))
            })
            .collect::<Vec<_>>()
            .join(separator);
        let summary = Message::rule(Rule::Fields).arg("count", errors.len()).arg("fields", listed);
        return render(lang, &summary);
    }
    match detail {
        Message::Text(text) if lang == Lang::Zh && !has_chinese(text) => format!("{}：{text}", title(lang, code)),
        other => render(lang, other),
    }
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_and_rule_has_a_message_in_every_language() {
        for lang in Lang::ALL {
            for code in ErrorCode::ALL {
                let key = format!("code-{}", code.as_str().replace('_', "-"));
                assert!(lookup(lang, &key, None).is_some(), "{lang:?} catalogue lacks {key}");
            }
            for rule in Rule::ALL {
                assert!(lookup(lang, rule.key(), None).is_some(), "{lang:?} catalogue lacks {}", rule.key());
            }
        }
    }

    #[test]
    fn both_catalogues_hold_the_same_keys() {
        let keys = |source: &'static str| {
            source
                .lines()
                .filter(|l| !l.starts_with([' ', '#']) && l.contains(" ="))
                .map(|l| l.split(" =").next().unwrap_or("").to_owned())
                .collect::<std::collections::BTreeSet<_>>()
        };
        let (zh, en) = (keys(include_str!("zh-CN.ftl")), keys(include_str!("en.ftl")));
        assert_eq!(zh.difference(&en).collect::<Vec<_>>(), Vec::<&String>::new(), "only in zh-CN.ftl");
        assert_eq!(en.difference(&zh).collect::<Vec<_>>(), Vec::<&String>::new(), "only in en.ftl");
    }

    #[test]
    fn both_catalogues_fill_in_the_same_placeholders() {
        let placeholders = |source: &'static str| {
            source
                .lines()
                .filter(|l| !l.starts_with([' ', '#']) && l.contains(" ="))
                .map(|l| {
                    let (key, text) = l.split_once(" =").unwrap_or_default();
                    let names = text
                        .split("{ $")
                        .skip(1)
                        .map(|rest| rest.split(' ').next().unwrap_or("").to_owned())
                        .collect::<std::collections::BTreeSet<_>>();
                    (key.to_owned(), names)
                })
                .collect::<BTreeMap<_, _>>()
        };
        let (zh, en) = (placeholders(include_str!("zh-CN.ftl")), placeholders(include_str!("en.ftl")));
        for (key, names) in &zh {
            assert_eq!(Some(names), en.get(key), "{key} has different placeholders in zh-CN.ftl and en.ftl");
        }
    }

    #[test]
    fn catalogues_parse_without_errors() {
        for source in [include_str!("zh-CN.ftl"), include_str!("en.ftl")] {
            assert!(FluentResource::try_new(source.to_owned()).is_ok());
        }
    }

    #[test]
    fn the_header_picks_the_language() {
        assert_eq!(Lang::negotiate(None), Lang::Zh);
        assert_eq!(Lang::negotiate(Some("en")), Lang::En);
        assert_eq!(Lang::negotiate(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::negotiate(Some("zh-CN,zh;q=0.9,en;q=0.8")), Lang::Zh);
        assert_eq!(Lang::negotiate(Some("fr, en;q=0.5")), Lang::En);
        assert_eq!(Lang::negotiate(Some("de")), Lang::Zh);
        assert_eq!(Lang::negotiate(Some("en;q=0, zh;q=0.1")), Lang::Zh);
        assert_eq!(Lang::negotiate(Some("zh;q=0.4, en;q=0.6")), Lang::En);
    }

    #[test]
    fn rules_fill_in_their_arguments() {
        let long = Message::too_long(200);
        assert_eq!(render(Lang::Zh, &long), "最多 200 个字符");
        assert_eq!(render(Lang::En, &long), "must be at most 200 characters");
        let missing = crate::domain::error::DomainError::not_found("achievement");
        assert_eq!(detail(Lang::Zh, missing.code, &missing.detail, &missing.errors), "科技成果不存在");
        assert_eq!(detail(Lang::En, missing.code, &missing.detail, &missing.errors), "achievement not found");
        let exhausted = Message::rule(Rule::VoucherStatus).word("status", "exhausted");
        assert_eq!(render(Lang::Zh, &exhausted), "该创新券当前为「已用完」");
        assert_eq!(render(Lang::En, &exhausted), "the voucher is exhausted");
        let scales = Message::rule(Rule::ProgramScales).words("scales", &["small".to_owned(), "micro".to_owned()]);
        assert_eq!(render(Lang::Zh, &scales), "该创新券项目仅面向以下规模的企业：小型、微型");
        assert_eq!(render(Lang::En, &scales), "this program is for enterprises of scale small, micro");
        let legacy = Message::from("seller and buyer must differ");
        assert_eq!(
            detail(Lang::Zh, ErrorCode::Conflict, &legacy, &FieldErrors::new()),
            "冲突：seller and buyer must differ"
        );
    }
}
