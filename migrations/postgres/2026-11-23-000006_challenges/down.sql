DROP TABLE challenge_payments;
DROP TABLE milestone_progress;
DROP TABLE bid_scores;
DROP TABLE challenge_experts;
DROP TABLE bids;
DROP TABLE challenge_milestones;
DROP TABLE challenges;
