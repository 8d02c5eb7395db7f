-- 揭榜挂帅 challenges: a problem with target indicators and a reward, paid by milestones.
CREATE TABLE challenges (
    id TEXT PRIMARY KEY NOT NULL,
    issuer_org_id TEXT NOT NULL REFERENCES organizations (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    field TEXT NOT NULL,
    -- JSON [{name, target}]
    indicators TEXT NOT NULL,
    reward_fen BIGINT NOT NULL CHECK (reward_fen > 0),
    paid_fen BIGINT NOT NULL DEFAULT 0 CHECK (paid_fen >= 0 AND paid_fen <= reward_fen),
    mode TEXT NOT NULL CHECK (mode IN ('single', 'horse_race', 'directed')),
    directed_org_id TEXT REFERENCES organizations (id),
    max_winners INTEGER NOT NULL CHECK (max_winners BETWEEN 1 AND 5),
    bid_deadline TIMESTAMP NOT NULL,
    publicity_days INTEGER NOT NULL DEFAULT 0 CHECK (publicity_days BETWEEN 0 AND 15),
    -- JSON array of organization kinds allowed to bid.
    eligible_kinds TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'pending_review', 'rejected', 'open', 'bidding_closed', 'under_review',
                                           'publicizing', 'in_progress', 'completed', 'cancelled')),
    reject_reason TEXT,
    cancel_reason TEXT,
    submitted_at TIMESTAMP,
    opened_at TIMESTAMP,
    awarded_at TIMESTAMP,
    publicity_ends_at TIMESTAMP,
    completed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((mode = 'directed') = (directed_org_id IS NOT NULL))
);
CREATE INDEX challenges_status_idx ON challenges (status, bid_deadline);
CREATE INDEX challenges_issuer_idx ON challenges (issuer_org_id);
CREATE INDEX challenges_updated_idx ON challenges (updated_at);

CREATE TABLE challenge_milestones (
    id TEXT PRIMARY KEY NOT NULL,
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    seq INTEGER NOT NULL,
    title TEXT NOT NULL,
    due_date DATE NOT NULL,
    payment_fen BIGINT NOT NULL CHECK (payment_fen >= 0),
    UNIQUE (challenge_id, seq)
);

CREATE TABLE bids (
    id TEXT PRIMARY KEY NOT NULL,
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    proposal TEXT NOT NULL,
    budget_fen BIGINT NOT NULL CHECK (budget_fen >= 0),
    plan TEXT NOT NULL,
    -- JSON [{name, title}] and JSON [org id]
    team TEXT NOT NULL,
    partner_org_ids TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL CHECK (status IN ('submitted', 'withdrawn', 'awarded', 'not_selected', 'eliminated')),
    paid_fen BIGINT NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),
    eliminated_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- One live bid per organization and challenge, even under concurrent submissions.
CREATE UNIQUE INDEX bids_live_idx ON bids (challenge_id, org_id) WHERE status IN ('submitted', 'awarded');
CREATE INDEX bids_challenge_idx ON bids (challenge_id, status);

CREATE TABLE challenge_experts (
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    expert_id TEXT NOT NULL REFERENCES users (id),
    assigned_by TEXT NOT NULL REFERENCES users (id),
    assigned_at TIMESTAMP NOT NULL,
    PRIMARY KEY (challenge_id, expert_id)
);

CREATE TABLE bid_scores (
    bid_id TEXT NOT NULL REFERENCES bids (id),
    expert_id TEXT NOT NULL REFERENCES users (id),
    technical INTEGER NOT NULL CHECK (technical BETWEEN 0 AND 100),
    team INTEGER NOT NULL CHECK (team BETWEEN 0 AND 100),
    budget INTEGER NOT NULL CHECK (budget BETWEEN 0 AND 100),
    comment TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (bid_id, expert_id)
);

-- Delivery state of each milestone for each winning bid.
CREATE TABLE milestone_progress (
    id TEXT PRIMARY KEY NOT NULL,
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    milestone_id TEXT NOT NULL REFERENCES challenge_milestones (id),
    bid_id TEXT NOT NULL REFERENCES bids (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'accepted')),
    report TEXT,
    reject_reason TEXT,
    delivered_at TIMESTAMP,
    accepted_at TIMESTAMP,
    UNIQUE (milestone_id, bid_id)
);

-- Money paid out of a challenge's reward, one row per accepted milestone.
CREATE TABLE challenge_payments (
    id TEXT PRIMARY KEY NOT NULL,
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    bid_id TEXT NOT NULL REFERENCES bids (id),
    milestone_id TEXT NOT NULL REFERENCES challenge_milestones (id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
    paid_at TIMESTAMP NOT NULL,
    UNIQUE (milestone_id, bid_id)
);
