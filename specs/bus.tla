--------------------------------- MODULE bus ---------------------------------
(***************************************************************************)
(* The kernel event bus core: one ring of Capacity events, one cursor per  *)
(* subscriber, lag reported once per gap.                                  *)
(*                                                                         *)
(* Code: kernel-core/src/bus/core.rs (BusCore) over bus/ring.rs (Ring).    *)
(*   Subscribe   <-> BusCore::subscribe    (cursor := next_seq)            *)
(*   Unsubscribe <-> BusCore::unsubscribe  (ring cleared when nobody left) *)
(*   Publish     <-> BusCore::publish      (dropped when nobody listens)   *)
(*   RecvEvent / RecvLagged / RecvEmpty <-> BusCore::try_recv, the three   *)
(*               outcomes of bus/outcome.rs::Recv                          *)
(* The executable twin of this spec is kernel-core/src/bus/model.rs; the   *)
(* bounded exhaustive check of the real core is model-check/src/bus.rs.    *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets

CONSTANTS Capacity,   \* ring size (MIN_CAPACITY = 8 in the code)
          Subs,       \* subscriber ids that may ever exist
          MaxSeq      \* bound on published events, for TLC

VARIABLES
    next,      \* sequence number the next published event gets (Ring::next_seq)
    live,      \* set of subscribed ids
    cursor,    \* cursor[s]: next sequence number s reads
    published, \* published[s]: events published while s was subscribed
    received,  \* received[s]: events s read
    missed,    \* missed[s]: events reported missed to s (sum of Lagged)
    lagPending \* lagPending[s]: TRUE right after a Lagged, until s reads or a publish

vars == <<next, live, cursor, published, received, missed, lagPending>>

\* Sequence number of the oldest retained event (Ring::oldest_seq).
Oldest == IF next > Capacity THEN next - Capacity ELSE 0

TypeOK ==
    /\ next \in Nat
    /\ live \subseteq Subs
    /\ cursor \in [Subs -> Nat]
    /\ published \in [Subs -> Nat] /\ received \in [Subs -> Nat] /\ missed \in [Subs -> Nat]
    /\ lagPending \in [Subs -> BOOLEAN]

Init ==
    /\ next = 0 /\ live = {}
    /\ cursor = [s \in Subs |-> 0]
    /\ published = [s \in Subs |-> 0]
    /\ received = [s \in Subs |-> 0]
    /\ missed = [s \in Subs |-> 0]
    /\ lagPending = [s \in Subs |-> FALSE]

Subscribe(s) ==
    /\ s \notin live
    /\ live' = live \cup {s}
    /\ cursor' = [cursor EXCEPT ![s] = next]
    /\ published' = [published EXCEPT ![s] = 0]
    /\ received' = [received EXCEPT ![s] = 0]
    /\ missed' = [missed EXCEPT ![s] = 0]
    /\ lagPending' = [lagPending EXCEPT ![s] = FALSE]
    /\ UNCHANGED next

\* With nobody left, the ring is cleared: modelled by moving every cursor
\* (there are none) and keeping next; new subscribers start at next.
Unsubscribe(s) ==
    /\ s \in live
    /\ live' = live \ {s}
    /\ UNCHANGED <<next, cursor, published, received, missed, lagPending>>

Publish ==
    /\ next < MaxSeq
    /\ live # {}                      \* no subscriber: dropped, no sequence number
    /\ next' = next + 1
    /\ published' = [s \in Subs |-> IF s \in live THEN published[s] + 1 ELSE published[s]]
    /\ lagPending' = [s \in Subs |-> IF s \in live THEN FALSE ELSE lagPending[s]]
    /\ UNCHANGED <<live, cursor, received, missed>>

RecvLagged(s) ==
    /\ s \in live
    /\ cursor[s] < Oldest             \* Slot::Overwritten
    /\ missed' = [missed EXCEPT ![s] = @ + (Oldest - cursor[s])]
    /\ cursor' = [cursor EXCEPT ![s] = Oldest]
    /\ lagPending' = [lagPending EXCEPT ![s] = TRUE]
    /\ UNCHANGED <<next, live, published, received>>

RecvEvent(s) ==
    /\ s \in live
    /\ Oldest <= cursor[s] /\ cursor[s] < next   \* Slot::Present
    /\ cursor' = [cursor EXCEPT ![s] = @ + 1]
    /\ received' = [received EXCEPT ![s] = @ + 1]
    /\ lagPending' = [lagPending EXCEPT ![s] = FALSE]
    /\ UNCHANGED <<next, live, published, missed>>

RecvEmpty(s) ==
    /\ s \in live
    /\ cursor[s] = next               \* Slot::NotYet
    /\ UNCHANGED vars

Next ==
    \/ Publish
    \/ \E s \in Subs : Subscribe(s) \/ Unsubscribe(s) \/ RecvLagged(s)
                       \/ RecvEvent(s) \/ RecvEmpty(s)

Spec == Init /\ [][Next]_vars /\ \A s \in Subs : WF_vars(RecvLagged(s) \/ RecvEvent(s))

------------------------------------------------------------------------------
\* Invariants (checked on the real core by model-check/src/bus.rs).

\* The ring never retains more than Capacity events (BusCore::retained).
Retained == next - Oldest <= Capacity

\* A cursor never runs ahead of what was published.
CursorBounded == \A s \in live : cursor[s] <= next

\* Every event owed to a subscriber is accounted for at most once: read, or
\* counted in exactly one Lagged, or still ahead of its cursor.
Accounting == \A s \in live :
    received[s] + missed[s] + (next - cursor[s]) = published[s]

\* Lag is reported once per gap: right after a Lagged, the subscriber's
\* cursor is at the oldest retained event, so a second Lagged needs a publish
\* in between (which clears lagPending).
LagOncePerGap == \A s \in live : lagPending[s] => cursor[s] >= Oldest

Invariants == TypeOK /\ Retained /\ CursorBounded /\ Accounting /\ LagOncePerGap

\* Liveness: a subscriber that keeps receiving drains: everything published
\* to it is eventually read or reported missed.
Drains == \A s \in Subs : [](s \in live => <>(s \notin live \/ cursor[s] = next))

THEOREM Spec => []Invariants
==============================================================================
