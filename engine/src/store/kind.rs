//! The one registry of the kinds of record the store keeps. Each kind's line says
//! its tag (the first byte of its keys in the shared tree), its place (the order in
//! which a batch's changes are kept and written, and its slot in the overlay), the
//! tree it had in layout version 2, and whether commands read it. Adding a kind is
//! adding a line here; `Trees`, the overlay, migrations and `verify` follow.

/// What commands do with a kind of record. Commands run in batches that are read
/// through the pipeline before they reach sled (see `batch`), so a key that commands
/// read must be written by commands only: a write from outside a batch could be
/// hidden by a batch staged before it, or undo a batch's change when that batch is
/// replayed from its journal. Writers outside a batch (`Writer::outside`) may
/// therefore write only kinds that commands never read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ByCommands {
    /// Read and written by commands: nobody else writes it once the store is open.
    Read,
    /// Written by commands (new keys, or removals), never read by them.
    Written,
    /// Not touched by commands.
    Untouched,
}

macro_rules! kinds {
    ($( $(#[$doc:meta])* $name:ident = $tag:literal, $old:literal, $by:ident; )*) => {
        /// A kind of record; see the module's documentation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub(crate) enum Kind {
            $( $(#[$doc])* $name, )*
        }

        impl Kind {
            /// Every kind, in its place's order.
            pub const ALL: [Kind; [$($tag),*].len()] = [$(Kind::$name),*];
            pub const COUNT: usize = Kind::ALL.len();

            /// The first byte of this kind's keys in the shared tree.
            pub const fn tag(self) -> u8 {
                match self { $(Kind::$name => $tag,)* }
            }

            /// The name of the tree this kind had in layout version 2 (one tree per
            /// kind); kinds newer than that have a name no version-2 database has.
            pub const fn layout2_tree(self) -> &'static str {
                match self { $(Kind::$name => $old,)* }
            }

            pub const fn by_commands(self) -> ByCommands {
                match self { $(Kind::$name => ByCommands::$by,)* }
            }
        }
    };
}

kinds! {
    /// Settings and small state: the schema version, the directory, the newest
    /// version of each process, cursors and schedule watermarks.
    Meta = 1, "meta", Untouched;
    Definitions = 2, "definitions", Untouched;
    Instances = 3, "instances", Read;
    /// An instance's history: one key per command, holding its events.
    Events = 4, "events", Written;
    /// Finished tasks, by (state, task): the record of a task that has left its
    /// instance (which keeps only its current step's tasks), and the index of
    /// finished tasks by state.
    Tasks = 5, "tasks", Written;
    ByPerson = 6, "tasks_by_person", Written;
    ByRole = 7, "tasks_by_role", Written;
    /// Open and claimed tasks by (state, due time, task).
    Active = 8, "tasks_by_state", Written;
    ByProcess = 10, "instances_by_process", Written;
    /// Timers by (due time, instance, n). Commands add and remove them; the
    /// scheduler removes one that no longer means anything.
    Timers = 11, "timers", Written;
    /// Messages by id. Commands add them; handing on and deliveries update them.
    Outbox = 12, "outbox", Written;
    Idempotency = 13, "idempotency", Read;
    /// Each person's notifications: (person, message id).
    Inbox = 14, "inbox", Untouched;
    /// Webhook deliveries waiting for their next attempt: (due time, message id).
    Retries = 15, "delivery_retries", Untouched;
    /// Open incidents, by instance: what failed and why. An instance is here
    /// exactly while its status is `incident`.
    Incidents = 17, "incidents", Read;
    /// API tokens, by hash and by person (see `tokens`). In layout version 2 and 3
    /// they had a tree of their own of the same name, moved here at open.
    Tokens = 18, "tokens", Untouched;
    /// Who takes part in each instance (see `participants`).
    Participants = 19, "participants", Read;
    /// Every signature of each instance, by (instance, seq) (see `signatures`).
    Signatures = 20, "signatures", Written;
    /// The web pages' sign-in: passwords, one-time invitations and sessions (see
    /// `logins`).
    Logins = 21, "logins", Untouched;
    /// The managers' figures, per process, hour and department (see `figures`).
    Figures = 22, "figures", Read;
}

/// The journal's tag: the batch being written, until all of it is (see `journal`).
/// Not a kind: it is empty whenever the database is closed.
pub(crate) const JOURNAL_TAG: u8 = 16;

impl Kind {
    /// The overlay slot and the order of a batch's changes.
    pub const fn slot(self) -> usize {
        self as usize
    }

    /// May a writer outside a batch of commands write this kind (see `ByCommands`)?
    pub const fn outside_writable(self) -> bool {
        !matches!(self.by_commands(), ByCommands::Read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_places_are_unique_and_leave_room() {
        let mut tags: Vec<u8> = Kind::ALL.iter().map(|k| k.tag()).collect();
        tags.push(JOURNAL_TAG);
        let n = tags.len();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), n, "two kinds share a tag");
        // A space's range ends at the next tag, so 0xff is never a tag.
        assert!(tags.iter().all(|t| *t > 0 && *t < 0xff));
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(k.slot(), i, "{k:?} is not at its place");
        }
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.layout2_tree()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Kind::COUNT);
    }

    /// The tags of layout version 3, which databases on disk use: never changed.
    #[test]
    fn tags_on_disk_stay_as_they_were() {
        let tags: Vec<(Kind, u8)> = Kind::ALL.iter().map(|k| (*k, k.tag())).collect();
        assert_eq!(
            tags,
            [
                (Kind::Meta, 1),
                (Kind::Definitions, 2),
                (Kind::Instances, 3),
                (Kind::Events, 4),
                (Kind::Tasks, 5),
                (Kind::ByPerson, 6),
                (Kind::ByRole, 7),
                (Kind::Active, 8),
                (Kind::ByProcess, 10),
                (Kind::Timers, 11),
                (Kind::Outbox, 12),
                (Kind::Idempotency, 13),
                (Kind::Inbox, 14),
                (Kind::Retries, 15),
                (Kind::Incidents, 17),
                (Kind::Tokens, 18),
                (Kind::Participants, 19),
                (Kind::Signatures, 20),
                (Kind::Logins, 21),
                (Kind::Figures, 22),
            ]
        );
    }
}
