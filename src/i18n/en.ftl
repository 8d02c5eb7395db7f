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
