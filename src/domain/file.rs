//! Files and attachments: what each purpose accepts, how content is recognised from its first
//! bytes (never from the name), who may read an attachment, and the download headers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a document is uploaded. The purpose picks the allowed content types and size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    PatentCertificate,
    FinancialStatement,
    CommitmentLetter,
    CreditReport,
    Proposal,
    TestReport,
    SignedContract,
    PaymentProof,
    MilestoneReport,
    Evidence,
    Other,
}

impl Purpose {
    pub const ALL: [Purpose; 11] = [
        Purpose::PatentCertificate,
        Purpose::FinancialStatement,
        Purpose::CommitmentLetter,
        Purpose::CreditReport,
        Purpose::Proposal,
        Purpose::TestReport,
        Purpose::SignedContract,
        Purpose::PaymentProof,
        Purpose::MilestoneReport,
        Purpose::Evidence,
        Purpose::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::PatentCertificate => "patent_certificate",
            Purpose::FinancialStatement => "financial_statement",
            Purpose::CommitmentLetter => "commitment_letter",
            Purpose::CreditReport => "credit_report",
            Purpose::Proposal => "proposal",
            Purpose::TestReport => "test_report",
            Purpose::SignedContract => "signed_contract",
            Purpose::PaymentProof => "payment_proof",
            Purpose::MilestoneReport => "milestone_report",
            Purpose::Evidence => "evidence",
            Purpose::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The content types accepted for this purpose.
    pub fn allowed(self) -> &'static [ContentKind] {
        use ContentKind::*;
        match self {
            Purpose::PatentCertificate
            | Purpose::CommitmentLetter
            | Purpose::SignedContract
            | Purpose::PaymentProof => &[Pdf, Jpeg, Png],
            Purpose::CreditReport => &[Pdf],
            Purpose::FinancialStatement => &[Pdf, Xlsx, Xls, Jpeg, Png],
            Purpose::Proposal => &[Pdf, Docx, Doc, Pptx, Ppt, Zip],
            Purpose::TestReport => &[Pdf, Jpeg, Png, Zip],
            Purpose::MilestoneReport => &[Pdf, Docx, Doc, Xlsx, Xls, Pptx, Ppt, Zip],
            Purpose::Evidence | Purpose::Other => &[Pdf, Jpeg, Png, Docx, Doc, Xlsx, Xls, Pptx, Ppt, Zip],
        }
    }
}

/// A content type the platform stores, recognised from magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Pdf,
    Jpeg,
    Png,
    Docx,
    Xlsx,
    Pptx,
    Doc,
    Xls,
    Ppt,
    Zip,
}

impl ContentKind {
    const ALL: [ContentKind; 10] = [
        ContentKind::Pdf,
        ContentKind::Jpeg,
        ContentKind::Png,
        ContentKind::Docx,
        ContentKind::Xlsx,
        ContentKind::Pptx,
        ContentKind::Doc,
        ContentKind::Xls,
        ContentKind::Ppt,
        ContentKind::Zip,
    ];

    pub fn mime(self) -> &'static str {
        match self {
            ContentKind::Pdf => "application/pdf",
            ContentKind::Jpeg => "image/jpeg",
            ContentKind::Png => "image/png",
            ContentKind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ContentKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ContentKind::Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ContentKind::Doc => "application/msword",
            ContentKind::Xls => "application/vnd.ms-excel",
            ContentKind::Ppt => "application/vnd.ms-powerpoint",
            ContentKind::Zip => "application/zip",
        }
    }

    fn from_mime(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.mime() == mime)
    }
}

/// How many leading bytes [`sniff`] looks at (an OOXML package names its parts in the first
/// few local headers of the ZIP).
pub const SNIFF_BYTES: usize = 64 * 1024;

/// The content type of a file from its first bytes, or the detected type that is not stored
/// (`Err(Some(mime))`), or nothing recognisable (`Err(None)`).
pub fn sniff(head: &[u8]) -> Result<ContentKind, Option<String>> {
    match infer::get(head) {
        Some(t) => ContentKind::from_mime(t.mime_type()).ok_or_else(|| Some(t.mime_type().to_owned())),
        None => Err(None),
    }
}

/// Who may read an attachment, derived from the record it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Whoever may see the record (a published listing: everyone).
    Public,
    /// The organizations party to the record, and administrators.
    Parties,
    /// The parties plus the reviewers: experts assigned to the challenge, and administrators.
    Reviewers,
    /// The owner, administrators and organizations holding an accepted NDA.
    NdaHolders,
}

/// The kinds of records files are attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    Achievement,
    AchievementConfidential,
    Demand,
    VoucherApplication,
    VoucherRedemption,
    Bid,
    MilestoneDelivery,
    Contract,
    IntegrityRecord,
    /// A contract's registration (认定登记): the signed contract and supplements.
    Registration,
}

impl RecordType {
    pub const ALL: [RecordType; 10] = [
        RecordType::Achievement,
        RecordType::AchievementConfidential,
        RecordType::Demand,
        RecordType::VoucherApplication,
        RecordType::VoucherRedemption,
        RecordType::Bid,
        RecordType::MilestoneDelivery,
        RecordType::Contract,
        RecordType::IntegrityRecord,
        RecordType::Registration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Achievement => "achievement",
            RecordType::AchievementConfidential => "achievement_confidential",
            RecordType::Demand => "demand",
            RecordType::VoucherApplication => "voucher_application",
            RecordType::VoucherRedemption => "voucher_redemption",
            RecordType::Bid => "bid",
            RecordType::MilestoneDelivery => "milestone_delivery",
            RecordType::Contract => "contract",
            RecordType::IntegrityRecord => "integrity_record",
            RecordType::Registration => "registration",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn visibility(self) -> Visibility {
        match self {
            RecordType::Achievement | RecordType::Demand => Visibility::Public,
            RecordType::AchievementConfidential => Visibility::NdaHolders,
            RecordType::VoucherApplication
            | RecordType::VoucherRedemption
            | RecordType::Contract
            | RecordType::Registration => Visibility::Parties,
            RecordType::Bid | RecordType::MilestoneDelivery | RecordType::IntegrityRecord => Visibility::Reviewers,
        }
    }
}

/// Purposes required by a program or challenge that `present` does not cover, in order.
pub fn missing_purposes(required: &[Purpose], present: &[Purpose]) -> Vec<Purpose> {
    let mut missing: Vec<Purpose> = required.iter().copied().filter(|p| !present.contains(p)).collect();
    missing.sort();
    missing.dedup();
    missing
}

/// A file name as stored: the last path component, control characters removed, at most 255
/// characters; empty names become `file`.
pub fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(255).collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." { "file".to_owned() } else { trimmed.to_owned() }
}

/// `Content-Disposition: attachment` with an ASCII fallback name and the exact name in RFC 5987
/// form (`filename*=UTF-8''…`), so Chinese names survive every browser.
pub fn content_disposition(name: &str) -> String {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// A single `Range: bytes=…` request resolved against a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// No (usable) range: the whole file.
    Full,
    /// Bytes `start..=end`.
    Partial { start: u64, end: u64 },
    /// Outside the file: 416.
    Unsatisfiable,
}

/// Parses one `bytes=a-b`, `bytes=a-` or `bytes=-n` range. Several ranges or another unit are
/// answered with the whole file, as RFC 9110 allows.
pub fn parse_range(header: Option<&str>, size: u64) -> ByteRange {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return ByteRange::Full };
    if spec.contains(',') {
        return ByteRange::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return ByteRange::Full };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let Ok(n) = b.parse::<u64>() else { return ByteRange::Full };
        if n == 0 || size == 0 {
            return ByteRange::Unsatisfiable;
        }
        return ByteRange::Partial { start: size.saturating_sub(n), end: size - 1 };
    }
    let Ok(start) = a.parse::<u64>() else { return ByteRange::Full };
    if start >= size {
        return ByteRange::Unsatisfiable;
    }
    let end = if b.is_empty() {
        size - 1
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e.min(size - 1),
            _ => return ByteRange::Full,
        }
    };
    ByteRange::Partial { start, end }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_from_content_not_name() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), Ok(ContentKind::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Ok(ContentKind::Png));
        // A Windows executable is recognised and refused, whatever it is called.
        let exe = sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0");
        assert!(matches!(exe, Err(Some(ref m)) if m.contains("msdownload") || m.contains("exe")), "{exe:?}");
        assert_eq!(sniff(b"just some text"), Err(None));
    }

    #[test]
    fn purposes_limit_types() {
        assert!(Purpose::CreditReport.allowed().contains(&ContentKind::Pdf));
        assert!(!Purpose::CreditReport.allowed().contains(&ContentKind::Zip));
        assert!(Purpose::Proposal.allowed().contains(&ContentKind::Docx));
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
    }

    #[test]
    fn disposition_encodes_chinese_names() {
        let h = content_disposition("专利证书 2026.pdf");
        assert!(h.starts_with("attachment; filename=\"____ 2026.pdf\""), "{h}");
        assert!(h.ends_with("filename*=UTF-8''%E4%B8%93%E5%88%A9%E8%AF%81%E4%B9%A6%202026.pdf"), "{h}");
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range(Some("bytes=0-99"), 1000), ByteRange::Partial { start: 0, end: 99 });
        assert_eq!(parse_range(Some("bytes=900-"), 1000), ByteRange::Partial { start: 900, end: 999 });
        assert_eq!(parse_range(Some("bytes=-10"), 1000), ByteRange::Partial { start: 990, end: 999 });
        assert_eq!(parse_range(Some("bytes=990-5000"), 1000), ByteRange::Partial { start: 990, end: 999 });
        assert_eq!(parse_range(Some("bytes=1000-"), 1000), ByteRange::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 1000), ByteRange::Full);
        assert_eq!(parse_range(None, 1000), ByteRange::Full);
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("C:\\Users\\a\\报告.pdf"), "报告.pdf");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name(""), "file");
        assert_eq!(
            missing_purposes(&[Purpose::CreditReport, Purpose::Proposal], &[Purpose::Proposal]),
            vec![Purpose::CreditReport]
        );
    }
}
