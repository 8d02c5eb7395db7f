# English messages (on `Accept-Language: en`). Keys match zh-CN.ftl one to one; `code-*` are
# the titles of error codes, the rest field rules and the details the API gives itself.

## Error code titles

code-malformed-json = Malformed JSON
code-bad-request = Bad request
code-unauthorized = Authentication required
code-invalid-credentials = Invalid email or password
code-invalid-token = Invalid or expired token
code-forbidden = Not allowed
code-organization-not-verified = Organization not verified
code-integrity-veto = Barred by a research-integrity veto
code-not-found = Not found
code-method-not-allowed = Method not allowed
code-conflict = Conflict
code-email-taken = Email already registered
code-credit-code-taken = Credit code already registered
code-already-in-organization = User already belongs to an organization
code-last-owner = The organization's last owner cannot leave
code-invalid-state-transition = Transition not allowed from the current state
code-duplicate-connection = A live connection request already exists
code-duplicate-bid = The organization already has a live bid
code-bidding-closed = Bidding is closed
code-conflict-of-interest = Conflict of interest
code-scores-incomplete = Not every assigned expert has scored every bid
code-voucher-budget-exceeded = Voucher program budget exceeded
code-enterprise-cap-exceeded = Per-enterprise cap exceeded
code-applications-closed = Applications are closed
code-settlement-closed = Settlement period is over
code-voucher-not-active = Voucher is not active
code-idempotency-key-reused = Idempotency key reused with a different request
code-duplicate-access-request = The organization already has a live access request
code-nda-version-mismatch = The NDA accepted is not the one offered
code-slot-taken = The instrument is already booked for that time
code-booking-suspended = Booking rights suspended after repeated no-shows
code-payload-too-large = Payload too large
code-file-too-large = File larger than its purpose allows
code-unsupported-media-type = Unsupported media type
code-validation-failed = Validation failed
code-inventor-share-too-low = Inventor share below the legal minimum
code-unsupported-file-type = File content not allowed for its purpose
code-missing-attachments = Required attachments are missing
code-rate-limited = Too many requests
code-internal = Internal server error
code-service-unavailable = Service unavailable

## Field rules

required = is required
empty = must not be empty
too-long = must be at most { $max } characters
too-short = must be at least { $min } characters
too-many = at most { $max } items
too-few = at least { $min } items
choice = must be one of { $allowed }
type = must be { $expected }
datetime = must be a date or date-time, e.g. 2026-12-31 or 2026-12-31T09:00:00+08:00
date = must be a date, e.g. 2026-12-31
id = must be an id (UUID)
invalid = is not a valid value
nul = must not contain the NUL character
fen-range = must be a whole number of fen between -{ $max } and { $max }
positive = must be positive
non-negative = must not be negative
between = must be between { $min } and { $max }
at-most = must be at most { $max }
at-least = must be at least { $min }
email = must be a valid email address
future = must be in the future
region = must be a province-level region name, e.g. 江苏省
sum = must add up to { $total }
fields = { $count } invalid field(s): { $fields }

## Details the API gives itself

not-found = { $what } not found
transition = { $entity } in status `{ $from }` does not allow `{ $action }`
malformed-json = malformed JSON (line { $line }, column { $column })
json-content-type = expected Content-Type: application/json
body-too-large = the body exceeds { $limit } bytes
no-route = no route for { $method } { $path }
method-not-allowed = { $method } is not allowed on { $path }
unexpected = an unexpected error occurred
unavailable = the service is temporarily unavailable
collided = the request collided with others too often; retry shortly
idempotent-replay = a concurrent request with this idempotency key was processed
inventor-share = { $kind } income must give inventors at least { $min } bp (Law on Promoting the Transformation of Scientific and Technological Achievements, art. 45)
missing-attachment = missing { $purpose }
file-type = { $purpose } accepts { $allowed }; the content is { $found }
file-content = content is { $found }
login-required = authentication required: send Authorization: Bearer <access_token>
token-invalid = the access token is missing, invalid or expired
admins-only = administrators only

## Details of each area

# common
exactly-one = give exactly one of { $first } and { $second }
verified-organization = must be a verified organization
keyword-too-long = each keyword at most { $max } characters
not-before = must not be before { $other }
idempotency-key-format = must be 1 to 255 visible ASCII characters
idempotency-key-different = this Idempotency-Key was used with a different request
body-unreadable = could not read the body: { $error }

# accounts
wrong-password = wrong email or password
login-locked = too many failed logins for this account; logins are locked for a while
address-rate-limited = too many requests from this address; try again later
refresh-token-invalid = the refresh token is invalid or expired
refresh-token-reused = this refresh token was already used; every token of its session has been revoked
link-token-invalid = invalid, expired or already used
account-gone = the account no longer exists or is disabled
password-checks-busy = too many password checks are in progress; retry in a moment
email-registered = this email is already registered
last-admin = the platform must keep at least one administrator
mine-needs-token = mine=true needs a token
demo-not-empty = seed-demo only fills an empty database; this one already has users

# organizations
no-organization = you do not belong to an organization
join-verified-organization = you do not belong to an organization; create or join a verified one first
organization-status = your organization is { $status }; only verified organizations may do this
already-member = you already belong to an organization
leave-organization-first = you already belong to an organization; leave it first
owners-only = only an owner of the organization may do this
invitation-decided = the invitation is { $from }; it cannot become { $to }
admin-cannot-join = the platform administrator's account cannot join an organization
verify-email-first = verify your email address before accepting an invitation
last-owner-leaves = the organization's last owner cannot leave; make another member an owner first
credit-code-registered = an organization with this credit code exists
scale-enterprises-only = only enterprises have a scale
categories-providers-only = only service providers offer service categories
credit-code-length = must be 18 characters
credit-code-chars = contains a character outside GB 32100 (0-9, A-Y without I O S V Z)
credit-code-region = characters 3-8 must be an administrative division code
credit-code-check = check character does not match (GB 32100)

# listings
achievement-posters = only members of universities and research institutes may post achievements
demand-posters = only members of enterprises and government bodies may post demands
listing-owner-only = only the owning organization may change this { $what }
transfer-modes-required = give at least one transfer mode
patent-shape = { $number }: must look like CN202310123456.6 (number, dot, check digit)
patent-digits = { $number }: must have 12 digits (or 8 for applications before 2004) before the check digit
patent-type = { $number }: the fifth digit must be a patent type (1, 2, 3, 8 or 9)
patent-check = { $number }: check digit does not match

# matching
matches-owner-only = only the owning organization and administrators see matches

# connections
own-listing-connection = you cannot request a connection to your own organization's listing
listing-not-published = the { $what } is not published
live-connection = your organization already has a live request for this listing
connection-answerer = only the listing's organization answers a connection request
thread-writers = only the two organizations write in the thread

# challenges
indicators-required = give at least one target indicator
indicator-incomplete = every indicator has a name and a target
eligible-kinds-required = name at least one organization kind
milestone-titles = every milestone has a title
team-required = name at least one team member
team-names = every member has a name
expert-count = give between { $min } and { $max } experts
challenge-issuers = only enterprises and government bodies publish challenges
directed-needs-org = a directed commission names the organization it commissions
directed-self = cannot commission your own organization
directed-only = only directed commissions name an organization
issuer-only = only the issuing organization may do this
issuer-cannot-bid = the issuing organization cannot bid on its own challenge
challenge-bidding-closed = bidding is closed for this challenge
kind-not-eligible = { $kind } organizations are not eligible for this challenge
consortium-size = a consortium has at most four partners
partner-twice = a partner is listed twice
lead-not-partner = the bidding organization leads; it is not its own partner
issuer-not-partner = the issuing organization cannot be a partner
partner-not-verified = { $id } is not a verified organization
partner-vetoed = { $id } is barred by a research-integrity veto
live-bid = your organization already has a live bid on this challenge
withdraw-before-deadline = bids can be withdrawn only before the deadline
bids-after-deadline = the issuer sees the bids after the bid deadline
not-expert = { $id } is not a user with the expert role
expert-vetoed = expert { $id } is barred by a research-integrity veto
expert-conflicted = expert { $id } belongs to the issuer or a bidding organization
assigned-experts-score = only experts assigned to this challenge score its bids
ranking-readers = the ranking is for the issuer, the assigned experts and administrators
feedback-after-award = feedback is available after the award
not-submitted-bid = { $id } is not a submitted bid of this challenge
winner-delivers = only the winning team delivers its milestones
milestone-not-delivered = the milestone is { $status } for this bid, not delivered
reward-exceeded = this payment would exceed the challenge's reward
milestone-paid = this milestone was already paid for this bid
horse-race-only = only horse races eliminate winners
last-winner = at least one winner must remain in the race
challenge-cancellers = only the issuer or an administrator cancels a challenge
bid-twice = a bid is listed twice
horse-race-awards = a horse race awards 2 to { $max } bids
one-award = exactly one bid is awarded
milestones-required = give at least one milestone
payments-negative = payments must not be negative
milestones-sum = milestone payments must add up to reward_fen
single-winner = single and directed challenges have max_winners = 1
horse-race-winners = a horse race has 2 to 5 winners
scores-missing = { $count } expert scores are still missing

# vouchers
service-categories-required = name at least one service category
scales-required = name at least one enterprise scale
vouchers-for-enterprises = innovation vouchers are for enterprises
program-scales = this program is for enterprises of scale { $scales }
program-category = this program does not cover that service category
per-enterprise-cap = must not exceed the per-enterprise cap of { $cap } fen
requested-amount = must not exceed the requested { $requested } fen
program-remaining = the program has { $left } fen left
enterprise-holds = the enterprise already holds { $held } fen of a { $cap } fen cap
providers-redeem = only registered service providers redeem vouchers
service-not-offered = your organization does not offer { $service }, the voucher's service
fee-too-small = the fee is too small to be covered
voucher-busy = the voucher is busy; try again
holder-confirms = only the voucher's holder confirms the service
voucher-changed = the voucher changed meanwhile; try again
application-window = applications are accepted from { $open } to { $close } (Asia/Shanghai); today is { $today }
settlement-ended = the settlement period ended on { $date }
voucher-status = the voucher is { $status }

# contracts
instalments-required = give at least one instalment
instalments-positive = every instalment must be positive
instalments-sum = instalments must add up to amount_fen
beneficiaries-required = name at least one beneficiary
beneficiary-names = every beneficiary has a name
shares-positive = every share must be positive
shares-sum = shares must add up to 10000 basis points
contract-parties-only = only the contract's parties may do this
seller-achievement = must be an achievement of the seller
buyer-demand = must be a demand of the buyer
parties-connection = must be an accepted connection between the two parties
buyer-challenge = must be a challenge issued by the buyer with a winning bid of the seller
draft-as-party = you can only draft contracts your organization is a party to
distinct-parties = seller and buyer must differ
other-party-vetoed = the other party is barred by a research-integrity veto
already-signed = your organization has already signed this contract
registered-amount = cannot exceed the contract amount
seller-records-payments = the seller records the payments it receives
overpaid = the contract would be overpaid: { $paid } of { $amount } fen is paid
stages-forward = commercialization stages only move forward
seller-distributes = the seller records how its income is distributed
distribution-institutions = income distribution applies to universities and research institutes

# files
file-limit = this purpose accepts files of at most { $limit } bytes
multipart-required = send multipart/form-data with `purpose` then `file`
multipart-unreadable = { $error }
purpose-part = send a `purpose` part
purpose-first = the `purpose` part must come before `file`
unknown-purpose = unknown purpose
file-part = send a `file` part
file-after-purpose = expected the `file` part after `purpose`
range-unsatisfiable = the file has { $size } bytes
confidential-achievements-only = only achievements carry confidential detail
file-not-yours = no such file uploaded by you
uploaded-as = the file was uploaded as { $purpose }
file-deleted = a file was deleted meanwhile; upload it again

# integrity
integrity-vetoed = a research-integrity veto (一票否决) in force bars you or your organization from this action

# access requests
owner-reads-detail = the owner already reads its own confidential detail
no-confidential-detail = this achievement has no confidential detail
live-access-request = your organization already has a live request for this achievement
access-listers = only the owning organization lists access requests
access-requester-only = only the requesting organization may accept_nda this request
access-owner-only = only the owning organization may { $action } this request
nda-mismatch = the NDA accepted is not the text offered; read the request again and accept its nda_sha256

# shared instruments
instrument-listers = Only members of a verified service provider list shared instruments
instrument-fee = Give at least one of the fee per hour and the fee per sample
instrument-owner-only = Only the instrument's organization may { $action } this booking
instrument-inactive = The instrument is not open for bookings
own-instrument = An organization does not book its own instrument
booking-in-future = The booking must start in the future
booking-ends-after-start = The booking must end after it starts
booking-too-long = A booking lasts at most { $hours } hours
booking-too-far = Slots can be booked at most { $days } days ahead
booking-timing = This booking cannot { $action } now: cancel before it starts, complete or mark a no-show after it starts
booking-fee-basis = The instrument does not charge that way: send samples for a per-sample fee, leave them out for an hourly fee
booking-rights-suspended = Your organization missed { $count } bookings in the last { $days } days; booking is suspended
booking-parties = Only the booking organization or the instrument's organization may cancel a booking
slot-overlap = The instrument is already booked from { $from } to { $to }
voucher-holder-books = The voucher belongs to another organization; only its holder may use it
voucher-for-instruments = The voucher pays for { $service }, not instrument sharing
invoice-for-voucher = A booking paid by voucher needs an invoice number on completion
usage-period = The period spans at most { $days } days
year-range = The year must be between { $min } and { $max }
## Type names

word-integer = an integer
word-non-negative-integer = a non-negative integer
word-number = a number
word-string = a string
word-boolean = a boolean (true or false)
word-array = an array
word-object = an object
word-null = null

## Nouns

noun-resource = resource
noun-achievement = achievement
noun-demand = demand
noun-listing = listing
noun-challenge = challenge
noun-bid = bid
noun-user = user
noun-invitation = invitation
noun-contract = contract
noun-connection = connection
noun-access-request = access request
noun-voucher = voucher
noun-voucher-program = voucher program
noun-application = application
noun-redemption = redemption
noun-integrity-record = integrity record
noun-file = file
noun-organization = organization
noun-milestone = milestone
noun-member = member
noun-subscription = subscription
noun-notification = notification
noun-message = message
noun-instrument = instrument
noun-booking = booking

## States and actions

word-draft = draft
word-submitted = submitted
word-pending = pending
word-published = published
word-rejected = rejected
word-withdrawn = withdrawn
word-archived = archived
word-closed = closed
word-requested = requested
word-accepted = accepted
word-declined = declined
word-revoked = revoked
word-expired = expired
word-active = active
word-approved = approved
word-signed = signed
word-registered = registered
word-completed = completed
word-cancelled = cancelled
word-lifted = lifted
word-submit = submit
word-approve = approve
word-reject = reject
word-withdraw = withdraw
word-archive = archive
word-publish = publish
word-accept = accept
word-decline = decline
word-revoke = revoke
word-cancel = cancel
word-sign = sign
word-register = register
word-lift = lift

## More states, actions and kinds
word-pending-review = pending_review
word-open = open
word-bidding-closed = bidding_closed
word-under-review = under_review
word-publicizing = publicizing
word-in-progress = in_progress
word-awarded = awarded
word-not-selected = not_selected
word-eliminated = eliminated
word-delivered = delivered
word-contracted = contracted
word-performing = performing
word-terminated = terminated
word-transferred = transferred
word-verified = verified
word-suspended = suspended
word-exhausted = exhausted
word-edit = edit
word-score = score
word-award = award
word-eliminate = eliminate
word-deliver = deliver
word-accept-milestone = accept_milestone
word-reject-milestone = reject_milestone
word-record-payment = record_payment
word-report-commercialization = report_commercialization
word-request-access = request_access
word-grant = grant
word-enterprise = enterprise
word-university = university
word-institute = institute
word-service-provider = service_provider
word-government = government
word-large = large
word-medium = medium
word-small = small
word-micro = micro
word-inspection-testing = inspection_testing
word-rd-design = rd_design
word-technology-consulting = technology_consulting
word-technology-transfer = technology_transfer
word-pilot-production = pilot_production
word-ip-services = ip_services
word-instrument-sharing = instrument_sharing

## Brokers (技术经理人)

broker-service-provider = only members of a verified service-provider organization can keep a broker profile
broker-fields-required = choose at least one field of expertise
broker-unknown = no such broker, or the profile is no longer active
broker-profile-busy = another request is saving your broker profile; try again
broker-inviters = only members of the connection's two organizations can invite a broker
broker-is-party = the broker cannot be a member of either organization of the connection
commission-one-of = give at most one of commission_fen and commission_bp
commission-within-amount = the commission cannot exceed the contract amount
commission-needs-broker = only a contract from a connection with an invited broker can carry a commission
commission-exceeds-income = the net income does not cover the broker's commission of { $commission } fen
noun-broker = broker
word-invite-broker = invite a broker
word-no-show = no-show
word-complete = complete
word-inactive = inactive
## registration (技术合同认定登记)
seller-files-registration = only members of the seller organization may file a registration or supplement it
registration-open = this contract already has a registration in progress or approved
registrars-only = only a registration office of the region or an administrator may decide a registration
registration-number = must look like year-sequence, e.g. 2026-000123 (at least 6 digits, year not after this year)
registration-number-taken = this registration number is already in use
registration-amend-nothing = change registered_amount_fen, registration_no or both
verified-government = must be a verified government organization
office-exists = this organization is already a registration office for the region
noun-registration = registration
word-filed = filed
word-supplement-requested = supplement requested
word-refused = refused
word-file-registration = file a registration
word-request-supplement = request a supplement
word-supplement = supplement
word-refuse = refuse
word-amend = amend
word-cancel-registration = cancel the registration


## Listing freshness and insights
insights-owner-only = only the owning organization and administrators see a listing's insights
word-expire = expire
word-extend = extend
word-confirm = confirm

## Settlement batches (结算批次)
code-nothing-to-settle = No confirmed redemption to settle up to the cut-off
cut-off-future = must not be after today ({ $today })
cut-off-period = must lie within the program's settlement period, { $from } to { $to }
nothing-to-settle = no confirmed redemption of this program was confirmed up to { $date } and is still unsettled
