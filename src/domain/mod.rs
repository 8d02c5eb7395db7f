//! Pure business rules: no database, no HTTP, no clock reads (time is passed in).

pub mod account;
pub mod audit;
pub mod broker;
pub mod challenge;
pub mod connection;
pub mod contract;
pub mod error;
pub mod instrument;
pub mod integrity;
pub mod labels;
pub mod links;
pub mod listing;
pub mod match_event;
pub mod money;
pub mod organization;
pub mod registration;
pub mod voucher;

/// Declares a status/kind enum stored as TEXT and serialized as its snake_case string.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        // Every text is the snake_case form of its variant; `rename_all` is what the
        // OpenAPI derive reads, the per-variant rename is what serde uses.
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub mod file;
pub mod freshness;
