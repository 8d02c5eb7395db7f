//! Business failure vocabulary shared by every layer.
//!
//! `ErrorCode` is the stable machine code clients see in problem+json `code`. Each code has
//! a default HTTP status (a plain number: the domain does not know HTTP); `docs/api-design.md`
//! lists every code and a test keeps the two in step.

use std::collections::BTreeMap;
use std::fmt;

macro_rules! error_codes {
    ($($variant:ident = $code:literal, $status:literal, $title:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// Default HTTP status for this code.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status),* }
            }

            /// Short human title (problem+json `title`).
            pub fn title(self) -> &'static str {
                match self { $(ErrorCode::$variant => $title),* }
            }

            /// The stable snake_case code (same as the serde form).
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),* }
            }
        }
    };
}

error_codes! {
    MalformedJson = "malformed_json", 400, "Malformed JSON";
    BadRequest = "bad_request", 400, "Bad request";
    Unauthorized = "unauthorized", 401, "Authentication required";
    InvalidCredentials = "invalid_credentials", 401, "Invalid email or password";
    InvalidToken = "invalid_token", 401, "Invalid or expired token";
    Forbidden = "forbidden", 403, "Not allowed";
    OrganizationNotVerified = "organization_not_verified", 403, "Organization not verified";
    IntegrityVeto = "integrity_veto", 403, "Barred by a research-integrity veto";
    NotFound = "not_found", 404, "Not found";
    MethodNotAllowed = "method_not_allowed", 405, "Method not allowed";
    Conflict = "conflict", 409, "Conflict";
    EmailTaken = "email_taken", 409, "Email already registered";
    CreditCodeTaken = "credit_code_taken", 409, "Credit code already registered";
    AlreadyInOrganization = "already_in_organization", 409, "User already belongs to an organization";
    LastOwner = "last_owner", 409, "The organization's last owner cannot leave";
    InvalidStateTransition = "invalid_state_transition", 409, "Transition not allowed from the current state";
    DuplicateConnection = "duplicate_connection", 409, "A live connection request already exists";
    DuplicateBid = "duplicate_bid", 409, "The organization already has a live bid";
    BiddingClosed = "bidding_closed", 409, "Bidding is closed";
    ConflictOfInterest = "conflict_of_interest", 409, "Conflict of interest";
    ScoresIncomplete = "scores_incomplete", 409, "Not every assigned expert has scored every bid";
    VoucherBudgetExceeded = "voucher_budget_exceeded", 409, "Voucher program budget exceeded";
    EnterpriseCapExceeded = "enterprise_cap_exceeded", 409, "Per-enterprise cap exceeded";
    ApplicationsClosed = "applications_closed", 409, "Applications are closed";
    SettlementClosed = "settlement_closed", 409, "Settlement period is over";
    VoucherNotActive = "voucher_not_active", 409, "Voucher is not active";
    IdempotencyKeyReused = "idempotency_key_reused", 409, "Idempotency key reused with a different request";
    DuplicateAccessRequest = "duplicate_access_request", 409, "The organization already has a live access request";
    NdaVersionMismatch = "nda_version_mismatch", 409, "The NDA accepted is not the one offered";
    SlotTaken = "slot_taken", 409, "The instrument is already booked for that time";
    NothingToSettle = "nothing_to_settle", 409, "No confirmed redemption to settle up to the cut-off";
    BookingSuspended = "booking_suspended", 403, "Booking rights suspended after repeated no-shows";
    PayloadTooLarge = "payload_too_large", 413, "Payload too large";
    FileTooLarge = "file_too_large", 413, "File larger than its purpose allows";
    UnsupportedMediaType = "unsupported_media_type", 415, "Unsupported media type";
    ValidationFailed = "validation_failed", 422, "Validation failed";
    InventorShareTooLow = "inventor_share_too_low", 422, "Inventor share below the legal minimum";
    UnsupportedFileType = "unsupported_file_type", 422, "File content not allowed for its purpose";
    MissingAttachments = "missing_attachments", 422, "Required attachments are missing";
    RateLimited = "rate_limited", 429, "Too many requests";
    Internal = "internal", 500, "Internal server error";
    ServiceUnavailable = "service_unavailable", 503, "Service unavailable";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! rules {
    ($($variant:ident = $key:literal;)*) => {
        /// A sentence the catalogues (`src/i18n/*.ftl`) hold in every language, by key. Field
        /// messages and the details the edge renders itself are rules; arguments fill them in.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rule { $($variant),* }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The catalogue key.
            pub fn key(self) -> &'static str {
                match self { $(Rule::$variant => $key),* }
            }
        }
    };
}

rules! {
    Required = "required";
    Empty = "empty";
    TooLong = "too-long";
    TooShort = "too-short";
    TooMany = "too-many";
    TooFew = "too-few";
    Choice = "choice";
    Type = "type";
    DateTime = "datetime";
    Date = "date";
    Id = "id";
    Invalid = "invalid";
    Nul = "nul";
    FenRange = "fen-range";
    Positive = "positive";
    NonNegative = "non-negative";
    Between = "between";
    AtMost = "at-most";
    AtLeast = "at-least";
    Email = "email";
    Future = "future";
    Region = "region";
    Sum = "sum";
    NotFound = "not-found";
    Transition = "transition";
    MalformedJson = "malformed-json";
    JsonContentType = "json-content-type";
    BodyTooLarge = "body-too-large";
    NoRoute = "no-route";
    MethodNotAllowed = "method-not-allowed";
    Unexpected = "unexpected";
    Unavailable = "unavailable";
    Collided = "collided";
    IdempotentReplay = "idempotent-replay";
    Fields = "fields";
    InventorShare = "inventor-share";
    MissingAttachment = "missing-attachment";
    FileType = "file-type";
    FileContent = "file-content";
    LoginRequired = "login-required";
    TokenInvalid = "token-invalid";
    AdminsOnly = "admins-only";
    // common
    ExactlyOne = "exactly-one";
    VerifiedOrganization = "verified-organization";
    KeywordTooLong = "keyword-too-long";
    NotBefore = "not-before";
    IdempotencyKeyFormat = "idempotency-key-format";
    IdempotencyKeyDifferent = "idempotency-key-different";
    BodyUnreadable = "body-unreadable";
    // accounts
    WrongPassword = "wrong-password";
    LoginLocked = "login-locked";
    AddressRateLimited = "address-rate-limited";
    RefreshTokenInvalid = "refresh-token-invalid";
    RefreshTokenReused = "refresh-token-reused";
    LinkTokenInvalid = "link-token-invalid";
    AccountGone = "account-gone";
    PasswordChecksBusy = "password-checks-busy";
    EmailRegistered = "email-registered";
    LastAdmin = "last-admin";
    MineNeedsToken = "mine-needs-token";
    DemoNotEmpty = "demo-not-empty";
    // organizations
    NoOrganization = "no-organization";
    JoinVerifiedOrganization = "join-verified-organization";
    OrganizationStatus = "organization-status";
    AlreadyMember = "already-member";
    LeaveOrganizationFirst = "leave-organization-first";
    OwnersOnly = "owners-only";
    InvitationDecided = "invitation-decided";
    AdminCannotJoin = "admin-cannot-join";
    VerifyEmailFirst = "verify-email-first";
    LastOwnerLeaves = "last-owner-leaves";
    CreditCodeRegistered = "credit-code-registered";
    ScaleEnterprisesOnly = "scale-enterprises-only";
    CategoriesProvidersOnly = "categories-providers-only";
    CreditCodeLength = "credit-code-length";
    CreditCodeChars = "credit-code-chars";
    CreditCodeRegion = "credit-code-region";
    CreditCodeCheck = "credit-code-check";
    // listings
    AchievementPosters = "achievement-posters";
    DemandPosters = "demand-posters";
    ListingOwnerOnly = "listing-owner-only";
    TransferModesRequired = "transfer-modes-required";
    PatentShape = "patent-shape";
    PatentDigits = "patent-digits";
    PatentType = "patent-type";
    PatentCheck = "patent-check";
    // matching
    MatchesOwnerOnly = "matches-owner-only";
    // connections
    OwnListingConnection = "own-listing-connection";
    ListingNotPublished = "listing-not-published";
    LiveConnection = "live-connection";
    ConnectionAnswerer = "connection-answerer";
    ThreadWriters = "thread-writers";
    // challenges
    IndicatorsRequired = "indicators-required";
    IndicatorIncomplete = "indicator-incomplete";
    EligibleKindsRequired = "eligible-kinds-required";
    MilestoneTitles = "milestone-titles";
    TeamRequired = "team-required";
    TeamNames = "team-names";
    ExpertCount = "expert-count";
    ChallengeIssuers = "challenge-issuers";
    DirectedNeedsOrg = "directed-needs-org";
    DirectedSelf = "directed-self";
    DirectedOnly = "directed-only";
    IssuerOnly = "issuer-only";
    IssuerCannotBid = "issuer-cannot-bid";
    ChallengeBiddingClosed = "challenge-bidding-closed";
    KindNotEligible = "kind-not-eligible";
    ConsortiumSize = "consortium-size";
    PartnerTwice = "partner-twice";
    LeadNotPartner = "lead-not-partner";
    IssuerNotPartner = "issuer-not-partner";
    PartnerNotVerified = "partner-not-verified";
    PartnerVetoed = "partner-vetoed";
    LiveBid = "live-bid";
    WithdrawBeforeDeadline = "withdraw-before-deadline";
    BidsAfterDeadline = "bids-after-deadline";
    NotExpert = "not-expert";
    ExpertVetoed = "expert-vetoed";
    ExpertConflicted = "expert-conflicted";
    AssignedExpertsScore = "assigned-experts-score";
    RankingReaders = "ranking-readers";
    FeedbackAfterAward = "feedback-after-award";
    NotSubmittedBid = "not-submitted-bid";
    WinnerDelivers = "winner-delivers";
    MilestoneNotDelivered = "milestone-not-delivered";
    RewardExceeded = "reward-exceeded";
    MilestonePaid = "milestone-paid";
    HorseRaceOnly = "horse-race-only";
    LastWinner = "last-winner";
    ChallengeCancellers = "challenge-cancellers";
    BidTwice = "bid-twice";
    HorseRaceAwards = "horse-race-awards";
    OneAward = "one-award";
    MilestonesRequired = "milestones-required";
    PaymentsNegative = "payments-negative";
    MilestonesSum = "milestones-sum";
    SingleWinner = "single-winner";
    HorseRaceWinners = "horse-race-winners";
    ScoresMissing = "scores-missing";
    // vouchers
    ServiceCategoriesRequired = "service-categories-required";
    ScalesRequired = "scales-required";
    VouchersForEnterprises = "vouchers-for-enterprises";
    ProgramScales = "program-scales";
    ProgramCategory = "program-category";
    PerEnterpriseCap = "per-enterprise-cap";
    RequestedAmount = "requested-amount";
    ProgramRemaining = "program-remaining";
    EnterpriseHolds = "enterprise-holds";
    ProvidersRedeem = "providers-redeem";
    ServiceNotOffered = "service-not-offered";
    FeeTooSmall = "fee-too-small";
    VoucherBusy = "voucher-busy";
    HolderConfirms = "holder-confirms";
    VoucherChanged = "voucher-changed";
    ApplicationWindow = "application-window";
    SettlementEnded = "settlement-ended";
    VoucherStatus = "voucher-status";
    // contracts
    InstalmentsRequired = "instalments-required";
    InstalmentsPositive = "instalments-positive";
    InstalmentsSum = "instalments-sum";
    BeneficiariesRequired = "beneficiaries-required";
    BeneficiaryNames = "beneficiary-names";
    SharesPositive = "shares-positive";
    SharesSum = "shares-sum";
    ContractPartiesOnly = "contract-parties-only";
    SellerAchievement = "seller-achievement";
    BuyerDemand = "buyer-demand";
    PartiesConnection = "parties-connection";
    BuyerChallenge = "buyer-challenge";
    DraftAsParty = "draft-as-party";
    DistinctParties = "distinct-parties";
    OtherPartyVetoed = "other-party-vetoed";
    AlreadySigned = "already-signed";
    RegisteredAmount = "registered-amount";
    SellerRecordsPayments = "seller-records-payments";
    Overpaid = "overpaid";
    StagesForward = "stages-forward";
    SellerDistributes = "seller-distributes";
    DistributionInstitutions = "distribution-institutions";
    // files
    FileLimit = "file-limit";
    MultipartRequired = "multipart-required";
    MultipartUnreadable = "multipart-unreadable";
    PurposePart = "purpose-part";
    PurposeFirst = "purpose-first";
    UnknownPurpose = "unknown-purpose";
    FilePart = "file-part";
    FileAfterPurpose = "file-after-purpose";
    RangeUnsatisfiable = "range-unsatisfiable";
    ConfidentialAchievementsOnly = "confidential-achievements-only";
    FileNotYours = "file-not-yours";
    UploadedAs = "uploaded-as";
    FileDeleted = "file-deleted";
    // integrity
    IntegrityVetoed = "integrity-vetoed";
    // access requests
    OwnerReadsDetail = "owner-reads-detail";
    NoConfidentialDetail = "no-confidential-detail";
    LiveAccessRequest = "live-access-request";
    AccessListers = "access-listers";
    AccessRequesterOnly = "access-requester-only";
    AccessOwnerOnly = "access-owner-only";
    NdaMismatch = "nda-mismatch";
    // brokers (技术经理人)
    BrokerServiceProvider = "broker-service-provider";
    BrokerFieldsRequired = "broker-fields-required";
    BrokerUnknown = "broker-unknown";
    BrokerProfileBusy = "broker-profile-busy";
    BrokerInviters = "broker-inviters";
    BrokerIsParty = "broker-is-party";
    CommissionOneOf = "commission-one-of";
    CommissionWithinAmount = "commission-within-amount";
    CommissionNeedsBroker = "commission-needs-broker";
    CommissionExceedsIncome = "commission-exceeds-income";
    // shared instruments
    InstrumentListers = "instrument-listers";
    InstrumentFee = "instrument-fee";
    InstrumentOwnerOnly = "instrument-owner-only";
    InstrumentInactive = "instrument-inactive";
    OwnInstrument = "own-instrument";
    BookingInFuture = "booking-in-future";
    BookingEndsAfterStart = "booking-ends-after-start";
    BookingTooLong = "booking-too-long";
    BookingTooFar = "booking-too-far";
    BookingTiming = "booking-timing";
    BookingFeeBasis = "booking-fee-basis";
    BookingRightsSuspended = "booking-rights-suspended";
    BookingParties = "booking-parties";
    SlotOverlap = "slot-overlap";
    VoucherHolderBooks = "voucher-holder-books";
    VoucherForInstruments = "voucher-for-instruments";
    InvoiceForVoucher = "invoice-for-voucher";
    UsagePeriod = "usage-period";
    YearRange = "year-range";
    // registration (技术合同认定登记)
    SellerFilesRegistration = "seller-files-registration";
    RegistrationOpen = "registration-open";
    RegistrarsOnly = "registrars-only";
    RegistrationNumber = "registration-number";
    RegistrationNumberTaken = "registration-number-taken";
    RegistrationAmendNothing = "registration-amend-nothing";
    VerifiedGovernment = "verified-government";
    OfficeExists = "office-exists";
    // listing freshness and insights
    InsightsOwnerOnly = "insights-owner-only";
    // settlement batches
    CutOffFuture = "cut-off-future";
    CutOffPeriod = "cut-off-period";
    NothingToSettle = "nothing-to-settle";
}

/// A value that fills a rule's placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Int(i64),
    Text(String),
    /// A word the catalogues translate (`noun-<word>`, `word-<word>`), shown as is when they
    /// have none.
    Word(String),
    /// Accepted values, joined the way the language lists things.
    List(Vec<String>),
    /// Words the catalogues translate one by one, joined the way the language lists things.
    Words(Vec<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<usize> for Arg {
    fn from(v: usize) -> Self {
        Self::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<u64> for Arg {
    fn from(v: u64) -> Self {
        Self::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Arg {
    fn from(v: u32) -> Self {
        Self::Int(i64::from(v))
    }
}

impl From<i32> for Arg {
    fn from(v: i32) -> Self {
        Self::Int(i64::from(v))
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

/// A message for people, rendered in the caller's language at the edge: a catalogued rule with
/// its arguments, or a sentence the catalogues do not hold yet (shown after the code's
/// translated title).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Rule { rule: Rule, args: Vec<(&'static str, Arg)> },
    Text(String),
}

impl Message {
    pub fn rule(rule: Rule) -> Self {
        Self::Rule { rule, args: Vec::new() }
    }

    /// Adds the argument `name` (builder style).
    pub fn arg(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        if let Self::Rule { args, .. } = &mut self {
            args.push((name, value.into()));
        }
        self
    }

    /// `{what}` as a word the catalogues translate.
    pub fn word(self, name: &'static str, word: &str) -> Self {
        self.arg(name, Arg::Word(word.to_owned()))
    }

    /// `{name}` as a list of words the catalogues translate.
    pub fn words(self, name: &'static str, words: &[String]) -> Self {
        self.arg(name, Arg::Words(words.to_vec()))
    }

    /// Exactly one of two fields must be given.
    pub fn exactly_one(first: &str, second: &str) -> Self {
        Self::rule(Rule::ExactlyOne).arg("first", first).arg("second", second)
    }

    pub fn empty() -> Self {
        Self::rule(Rule::Empty)
    }

    pub fn too_long(max: usize) -> Self {
        Self::rule(Rule::TooLong).arg("max", max)
    }

    pub fn too_many(max: usize) -> Self {
        Self::rule(Rule::TooMany).arg("max", max)
    }

    pub fn positive() -> Self {
        Self::rule(Rule::Positive)
    }

    pub fn non_negative() -> Self {
        Self::rule(Rule::NonNegative)
    }

    pub fn between(min: i64, max: i64) -> Self {
        Self::rule(Rule::Between).arg("min", min).arg("max", max)
    }

    /// The English sentence, for logs and `Display` (the edge renders the caller's language).
    pub fn english(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Rule { rule, args } => {
                let args = args.iter().map(|(name, value)| format!("{name}={value:?}")).collect::<Vec<_>>();
                if args.is_empty() { rule.key().to_owned() } else { format!("{} ({})", rule.key(), args.join(", ")) }
            }
        }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<Rule> for Message {
    fn from(rule: Rule) -> Self {
        Self::rule(rule)
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

/// Field path (`milestones[2].title`, or a query parameter) → messages, as rendered in
/// problem+json `errors`.
pub type FieldErrors = BTreeMap<String, Vec<Message>>;

/// A business outcome that is not success: a code, a message for people and optional field
/// errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainError {
    pub code: ErrorCode,
    /// The detail; for validation failures the edge lists the field messages instead.
    pub detail: Message,
    pub errors: FieldErrors,
    /// Overrides the code's default status where the contract says so
    /// (e.g. `integrity_veto` is 409 when assigning an expert).
    pub status: Option<u16>,
}

impl DomainError {
    pub fn new(code: ErrorCode, detail: impl Into<Message>) -> Self {
        Self { code, detail: detail.into(), errors: FieldErrors::new(), status: None }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// A 422 naming one field.
    pub fn field(field: &str, message: impl Into<Message>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![message.into()]);
        Self::fields(errors)
    }

    /// A 422 naming every failing field.
    pub fn fields(errors: FieldErrors) -> Self {
        Self { code: ErrorCode::ValidationFailed, detail: Message::rule(Rule::Fields), errors, status: None }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, Message::rule(Rule::NotFound).word("what", what))
    }

    pub fn forbidden(detail: impl Into<Message>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    pub fn transition(entity: &str, from: &str, action: &str) -> Self {
        Self::new(
            ErrorCode::InvalidStateTransition,
            Message::rule(Rule::Transition).word("entity", entity).word("from", from).word("action", action),
        )
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)?;
        for (field, messages) in &self.errors {
            let messages = messages.iter().map(Message::english).collect::<Vec<_>>();
            write!(f, "; {field}: {}", messages.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for DomainError {}

/// Collects per-field validation messages and turns them into one 422.
#[derive(Debug, Default)]
pub struct Validator {
    errors: FieldErrors,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` for `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<Message>) -> &mut Self {
        if !ok {
            self.add(field, message);
        }
        self
    }

    pub fn add(&mut self, field: &str, message: impl Into<Message>) -> &mut Self {
        self.errors.entry(field.to_owned()).or_default().push(message.into());
        self
    }

    /// Checks a required, trimmed, non-empty text of at most `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> &mut Self {
        let len = value.trim().chars().count();
        if len == 0 {
            self.add(field, Message::empty());
        } else if len > max {
            self.add(field, Message::too_long(max));
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), DomainError> {
        if self.errors.is_empty() {
            return Ok(());
        }
        Err(DomainError::fields(self.errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/api-design.md lists every code with its status, and nothing else.
    #[test]
    fn every_code_is_documented_with_its_status() {
        let doc = include_str!("../../docs/api-design.md");
        for code in ErrorCode::ALL {
            let row = format!("| `{}` | {} |", code.as_str(), code.status());
            assert!(doc.contains(&row), "docs/api-design.md lacks the row {row}");
        }
        let documented = doc.lines().filter(|l| l.starts_with("| `")).count();
        assert_eq!(documented, ErrorCode::ALL.len(), "docs/api-design.md documents codes that no longer exist");
    }

    #[test]
    fn code_strings_match_serde() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap_or_default();
            assert_eq!(json, code.as_str());
        }
    }

    #[test]
    fn validator_collects_fields() {
        let mut v = Validator::new();
        v.text("title", "  ", 10).text("summary", "ok", 10).check(false, "trl", Message::between(1, 9));
        let err = v.finish().err().unwrap_or_else(|| DomainError::new(ErrorCode::Internal, Rule::Unexpected));
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert_eq!(err.errors.keys().collect::<Vec<_>>(), vec!["title", "trl"]);
    }
}
