//! 供需对接: a request from one organization to the owner of a listing.

use super::error::DomainError;
use crate::text_enum;

text_enum!(
    ConnectionStatus { Requested = "requested", Accepted = "accepted", Declined = "declined", Contracted = "contracted" }
);

text_enum!(
    /// Why a listing's owner declined: structured so the platform can learn from it.
    DeclineReason {
        TooEarly = "too_early",
        UnclearBenefit = "unclear_benefit",
        Price = "price",
        NotRelevant = "not_relevant",
        Capacity = "capacity",
        Other = "other",
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionAction {
    Accept,
    Decline,
    /// A contract was created from the connection.
    Contract,
    /// Post a message in the thread.
    Message,
    /// A party invites (or replaces) the connection's broker.
    InviteBroker,
}

impl ConnectionAction {
    pub const ALL: [ConnectionAction; 5] =
        [Self::Accept, Self::Decline, Self::Contract, Self::Message, Self::InviteBroker];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Contract => "contract",
            Self::Message => "message",
            Self::InviteBroker => "invite_broker",
        }
    }
}

impl ConnectionStatus {
    /// Live connections block a second request from the same organization.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Requested | Self::Accepted)
    }
}

/// The connection state machine.
pub fn apply(from: ConnectionStatus, action: ConnectionAction) -> Result<ConnectionStatus, DomainError> {
    use ConnectionAction as A;
    use ConnectionStatus as S;
    match (from, action) {
        (S::Requested, A::Accept) => Ok(S::Accepted),
        (S::Requested, A::Decline) => Ok(S::Declined),
        (S::Accepted, A::Contract) => Ok(S::Contracted),
        (S::Requested | S::Accepted, A::Message | A::InviteBroker) => Ok(from),
        _ => Err(DomainError::transition("connection", from.as_str(), action.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_action_pair() {
        use ConnectionAction as A;
        use ConnectionStatus as S;
        for &from in ConnectionStatus::ALL {
            for action in ConnectionAction::ALL {
                let expected = match (from, action) {
                    (S::Requested, A::Accept) => Some(S::Accepted),
                    (S::Requested, A::Decline) => Some(S::Declined),
                    (S::Accepted, A::Contract) => Some(S::Contracted),
                    (S::Requested, A::Message) => Some(S::Requested),
                    (S::Accepted, A::Message) => Some(S::Accepted),
                    (S::Requested, A::InviteBroker) => Some(S::Requested),
                    (S::Accepted, A::InviteBroker) => Some(S::Accepted),
                    _ => None,
                };
                assert_eq!(apply(from, action).ok(), expected, "{from} {action:?}");
            }
        }
        assert!(S::Requested.is_live() && S::Accepted.is_live());
        assert!(!S::Declined.is_live() && !S::Contracted.is_live());
    }
}
