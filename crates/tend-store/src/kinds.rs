//! The enums stored as TEXT. Each maps to exactly the strings in the CHECK lists of the schema.

/// A string that names no variant of the enum `kind`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {kind}")]
pub struct UnknownVariant {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $( $(#[$vmeta])* $variant, )+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The text stored in the database and shown by the CLI.
            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $text => Ok($name::$variant), )+
                    _ => Err(UnknownVariant { kind: stringify!($name), value: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

text_enum! {
    /// What became of a slot. Every claimed slot has exactly one.
    pub enum SlotOutcome {
        Ran => "ran",
        Skipped => "skipped",
        Missed => "missed",
        Queued => "queued",
    }
}

text_enum! {
    /// What started a run.
    pub enum Trigger {
        Schedule => "schedule",
        Manual => "manual",
        Loop => "loop",
        OsTimer => "os-timer",
        Retry => "retry",
    }
}

text_enum! {
    /// Lifecycle of a run; see [`RunState::can_move_to`].
    pub enum RunState {
        Queued => "queued",
        Preparing => "preparing",
        Running => "running",
        WaitingApproval => "waiting_approval",
        Succeeded => "succeeded",
        Failed => "failed",
        TimedOut => "timed_out",
        Cancelled => "cancelled",
        Interrupted => "interrupted",
        Expired => "expired",
    }
}

text_enum! {
    /// The status a run's report gives.
    pub enum ReportStatus {
        Changed => "changed",
        NothingToDo => "nothing-to-do",
        NeedsHuman => "needs-human",
        Failed => "failed",
    }
}

text_enum! {
    /// What became of a run's proposal (the branch with its changes).
    pub enum ProposalState {
        Pending => "pending",
        Applied => "applied",
        Discarded => "discarded",
    }
}

text_enum! {
    pub enum ApprovalState {
        Pending => "pending",
        Approved => "approved",
        Denied => "denied",
        Expired => "expired",
    }
}

/// A human's answer to an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    Approve,
    /// Approve and add the allow rule to the task file (`tend approve --always`).
    ApproveAlways,
    Deny,
}

impl Decision {
    pub const fn state(self) -> ApprovalState {
        match self {
            Decision::Approve | Decision::ApproveAlways => ApprovalState::Approved,
            Decision::Deny => ApprovalState::Denied,
        }
    }
}

impl RunState {
    /// States of a run that has not ended (what `tend ps` shows).
    pub const ACTIVE: &'static [RunState] = &[
        RunState::Queued,
        RunState::Preparing,
        RunState::Running,
        RunState::WaitingApproval,
    ];

    /// States that hold a process working on the run; after a crash these are orphans.
    pub const OWNED: &'static [RunState] = &[RunState::Preparing, RunState::Running];

    pub const fn is_terminal(self) -> bool {
        match self {
            RunState::Queued
            | RunState::Preparing
            | RunState::Running
            | RunState::WaitingApproval => false,
            RunState::Succeeded
            | RunState::Failed
            | RunState::TimedOut
            | RunState::Cancelled
            | RunState::Interrupted
            | RunState::Expired => true,
        }
    }

    /// The run state machine:
    /// `queued → preparing → running ⇄ waiting_approval → (terminal)`.
    ///
    /// - `queued` only starts or is cancelled (a queued run has no process yet, so it can be
    ///   neither interrupted nor timed out).
    /// - `preparing` (worktree, inputs) and `running` can end in any way but `expired`.
    /// - `waiting_approval` holds no worker: it resumes (`running`), expires, is cancelled, or
    ///   fails when its checkpoint cannot be resumed. It cannot be interrupted or time out.
    /// - Terminal states never move, and no state moves to itself.
    pub const fn can_move_to(self, to: RunState) -> bool {
        use RunState::*;
        match self {
            Queued => matches!(to, Preparing | Cancelled),
            Preparing => matches!(to, Running | Failed | TimedOut | Cancelled | Interrupted),
            Running => matches!(
                to,
                WaitingApproval | Succeeded | Failed | TimedOut | Cancelled | Interrupted
            ),
            WaitingApproval => matches!(to, Running | Failed | Cancelled | Expired),
            Succeeded | Failed | TimedOut | Cancelled | Interrupted | Expired => false,
        }
    }

    /// The states from which `to` can be reached in one step.
    pub fn predecessors(to: RunState) -> Vec<RunState> {
        RunState::ALL
            .iter()
            .copied()
            .filter(|from| from.can_move_to(to))
            .collect()
    }
}
