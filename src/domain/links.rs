//! Where the links in emails lead. A notification about a record links to the record's page
//! on this server (`/<collection>/<id>`), which either forwards to the web frontend or tells
//! the reader where the record is in the API. One table serves both sides, so every emailed
//! link names a page that exists.

/// A kind of record that emails link to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordKind {
    /// `entity_type` as notifications store it (`voucher_redemption`).
    pub entity_type: &'static str,
    /// The path segment of its pages (`voucher-redemptions`).
    pub collection: &'static str,
    /// What a reader calls it (`创新券兑付`).
    pub label: &'static str,
    /// Where the API shows it, `{id}` standing for the record's id.
    pub api_path: &'static str,
}

/// Every record kind a notification can be about.
pub const RECORD_KINDS: &[RecordKind] = &[
    kind("achievement", "achievements", "科技成果", "/api/v1/achievements/{id}"),
    kind("demand", "demands", "技术需求", "/api/v1/demands/{id}"),
    kind("challenge", "challenges", "揭榜挂帅榜单", "/api/v1/challenges/{id}"),
    kind("connection", "connections", "供需对接", "/api/v1/connections/{id}"),
    kind("contract", "contracts", "技术合同", "/api/v1/contracts/{id}"),
    kind("organization", "organizations", "机构", "/api/v1/organizations/{id}"),
    kind("voucher", "vouchers", "创新券", "/api/v1/vouchers/{id}"),
    // Applications and integrity records have no single-record endpoint; their lists do.
    kind("voucher_application", "voucher-applications", "创新券申请", "/api/v1/voucher-applications"),
    kind("voucher_redemption", "voucher-redemptions", "创新券兑付", "/api/v1/voucher-redemptions/{id}"),
    kind("integrity_record", "integrity-records", "科研诚信记录", "/api/v1/me/notifications"),
    kind("invitation", "invitations", "机构邀请", "/api/v1/me/invitations"),
];

const fn kind(
    entity_type: &'static str,
    collection: &'static str,
    label: &'static str,
    api_path: &'static str,
) -> RecordKind {
    RecordKind { entity_type, collection, label, api_path }
}

/// Where a notification without a record (or about an unknown kind) links to.
pub const NOTIFICATIONS_PATH: &str = "/me/notifications";

impl RecordKind {
    pub fn by_entity_type(entity_type: &str) -> Option<&'static RecordKind> {
        RECORD_KINDS.iter().find(|k| k.entity_type == entity_type)
    }

    pub fn by_collection(collection: &str) -> Option<&'static RecordKind> {
        RECORD_KINDS.iter().find(|k| k.collection == collection)
    }

    /// The path of the record's page on this server.
    pub fn page_path(&self, id: &str) -> String {
        format!("/{}/{id}", self.collection)
    }

    /// The API path that shows the record (or the list holding it).
    pub fn api_path(&self, id: &str) -> String {
        self.api_path.replace("{id}", id)
    }
}

/// The path an email links to for a record: its page, or the notifications page when the
/// kind has none.
pub fn record_path(entity_type: &str, id: &str) -> String {
    RecordKind::by_entity_type(entity_type).map_or_else(|| NOTIFICATIONS_PATH.to_owned(), |k| k.page_path(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_paths_use_the_collection_not_the_entity_type() {
        assert_eq!(record_path("achievement", "a1"), "/achievements/a1");
        assert_eq!(record_path("voucher_redemption", "r1"), "/voucher-redemptions/r1");
        assert_eq!(record_path("integrity_record", "i1"), "/integrity-records/i1");
        assert_eq!(record_path("something_new", "x"), NOTIFICATIONS_PATH);
    }

    #[test]
    fn the_table_is_consistent() {
        for k in RECORD_KINDS {
            assert_eq!(RecordKind::by_collection(k.collection), Some(k));
            assert_eq!(RecordKind::by_entity_type(k.entity_type), Some(k));
            assert!(k.api_path.starts_with("/api/v1/"), "{}", k.api_path);
            assert!(!k.collection.contains('_'), "{}", k.collection);
        }
    }
}
