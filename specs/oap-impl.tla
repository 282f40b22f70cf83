------------------------------- MODULE oap_impl -------------------------------
(***************************************************************************)
(* One OAP/1 connection as implemented by oap-core (docs/specs/OAP-1.md).  *)
(* A client puts objects through a server: HELLO exchange, START, DATA     *)
(* under absolute per-request ACK credit granted on consumption, END both  *)
(* ways, ERROR ending one request or the connection, timeouts.  The        *)
(* network may lose and duplicate frames (TCP does not, but a buggy or      *)
(* hostile peer can do the equivalent, and the oap-sim / model-check       *)
(* harnesses inject exactly these faults).                                  *)
(*                                                                         *)
(* Action  <->  code (oap-core/src/connection/...)                        *)
(*   ClientHello / ServerHello  <-> Connection::client, input.rs::on_hello *)
(*   Start          <-> commands.rs::start (+ begin_object)                *)
(*   RecvStart      <-> input.rs::on_start (too_many_inflight, accept ACK) *)
(*   SendData       <-> commands.rs::send_data (credit: SendHalf::available)*)
(*   RecvData       <-> input.rs::on_data / accept_data, assembly.rs::push  *)
(*   Read           <-> commands.rs::read, request.rs::credit_update (ACK)  *)
(*   RecvAck        <-> input.rs::on_ack (keep the maximum)                 *)
(*   ClientEnd / ServerEnd <-> commands.rs::finish                          *)
(*   RecvEnd        <-> input.rs::on_end, maybe_complete                    *)
(*   RecvError      <-> input.rs::on_error                                  *)
(*   RequestTimeout <-> timers.rs::handle_timeout -> fail_request(timeout)  *)
(*   Lose / Dup     <-> the fault actions of oap-sim and model-check        *)
(* Bytes are abstracted to counts and offsets; "verified" means all ObjLen *)
(* bytes arrived contiguously, in order (assembly.rs hashes them).        *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets

CONSTANTS Ids,          \* corr_ids the client may use, e.g. {1, 2, 3}
          MaxInflight,  \* negotiated max_inflight (2 in the model check)
          Window,       \* negotiated initial credit (4)
          Chunk,        \* largest DATA body (3)
          ObjLen,       \* bytes per object (6)
          MaxFaults     \* frames the network may lose or duplicate

VARIABLES
    established,  \* [c |-> BOOLEAN, s |-> BOOLEAN]: HELLO exchange done per side
    c2s, s2c,     \* channels: sequences of frames
    creq,         \* client requests: [id -> record] or absent
    sreq,         \* server requests
    done,         \* ids whose request ended at the client, with outcome
    answered,     \* history: ids the server answered with END after verifying
    faults

vars == <<established, c2s, s2c, creq, sreq, done, answered, faults>>

\* n: body bytes (DATA) or credit (ACK); off: offset of a DATA body.
Frame(t, id, n) == [typ |-> t, id |-> id, n |-> n, off |-> 0]
Data(id, off, n) == [typ |-> "DATA", id |-> id, n |-> n, off |-> off]
None == 0

Init ==
    /\ established = [c |-> FALSE, s |-> FALSE]
    /\ c2s = << Frame("HELLO", None, 0) >>    \* queued by Connection::client
    /\ s2c = << >>
    /\ creq = [i \in {} |-> 0] /\ sreq = [i \in {} |-> 0]
    /\ done = [i \in {} |-> ""]
    /\ answered = {}
    /\ faults = 0

Open(f) == DOMAIN f
Upd(f, k, v) == [x \in DOMAIN f \cup {k} |-> IF x = k THEN v ELSE f[x]]
Del(f, k) == [x \in DOMAIN f \ {k} |-> f[x]]

\* --- network faults --------------------------------------------------------
Lose == /\ faults < MaxFaults
        /\ faults' = faults + 1
        /\ \/ /\ c2s # << >>
              /\ c2s' = Tail(c2s)
              /\ UNCHANGED s2c
           \/ /\ s2c # << >>
              /\ s2c' = Tail(s2c)
              /\ UNCHANGED c2s
\* A duplicated HELLO closes the connection in the code (input.rs:
\* "duplicate HELLO" -> proto); this model leaves HELLO out of duplication.
Dup  == /\ faults < MaxFaults
        /\ faults' = faults + 1
        /\ \/ /\ c2s # << >> /\ Head(c2s).typ # "HELLO"
              /\ c2s' = << Head(c2s) >> \o c2s
              /\ UNCHANGED s2c
           \/ /\ s2c # << >> /\ Head(s2c).typ # "HELLO"
              /\ s2c' = << Head(s2c) >> \o s2c
              /\ UNCHANGED c2s
Faults == (Lose \/ Dup) /\ UNCHANGED <<established, creq, sreq, done, answered>>

\* --- HELLO ------------------------------------------------------------------
ServerHello ==   \* on_hello (server): answer, then the limits apply
    /\ c2s # << >> /\ Head(c2s).typ = "HELLO" /\ ~established.s
    /\ c2s' = Tail(c2s) /\ s2c' = Append(s2c, Frame("HELLO", None, 0))
    /\ established' = [established EXCEPT !.s = TRUE]
    /\ UNCHANGED <<creq, sreq, done, faults, answered>>

ClientHello ==   \* on_hello (client): limits apply after receiving the answer
    /\ s2c # << >> /\ Head(s2c).typ = "HELLO" /\ ~established.c
    /\ s2c' = Tail(s2c) /\ established' = [established EXCEPT !.c = TRUE]
    /\ UNCHANGED <<c2s, creq, sreq, done, faults, answered>>

\* --- client -----------------------------------------------------------------
Start(i) ==      \* start: refused locally at max_inflight (CommandError::TooManyInflight)
    /\ established.c /\ i \notin Open(creq) /\ i \notin DOMAIN done
    /\ Cardinality(Open(creq)) < MaxInflight
    /\ creq' = Upd(creq, i, [sent |-> 0, limit |-> Window, fin |-> FALSE, peerFin |-> FALSE])
    /\ c2s' = Append(c2s, Frame("START", i, 0))
    /\ UNCHANGED <<established, s2c, sreq, done, faults, answered>>

SendData(i) ==   \* send_data: never beyond the absolute credit
    /\ i \in Open(creq)
    /\ LET r == creq[i]
           n == IF ObjLen - r.sent < Chunk THEN ObjLen - r.sent ELSE Chunk
           k == IF r.limit - r.sent < n THEN r.limit - r.sent ELSE n
       IN /\ k > 0
          /\ creq' = Upd(creq, i, [r EXCEPT !.sent = @ + k])
          /\ c2s' = Append(c2s, Data(i, r.sent, k))
    /\ UNCHANGED <<established, s2c, sreq, done, faults, answered>>

ClientEnd(i) ==
    /\ i \in Open(creq) /\ creq[i].sent = ObjLen /\ ~creq[i].fin
    /\ creq' = Upd(creq, i, [creq[i] EXCEPT !.fin = TRUE])
    /\ c2s' = Append(c2s, Frame("END", i, 0))
    /\ UNCHANGED <<established, s2c, sreq, done, faults, answered>>

ClientRecv ==    \* on_ack (max), on_end (complete), on_error (fail)
    /\ established.c /\ s2c # << >> /\ Head(s2c).typ # "HELLO"
    /\ s2c' = Tail(s2c)
    /\ LET f == Head(s2c) IN
       IF f.id \notin Open(creq) THEN UNCHANGED <<creq, done>>   \* late frame: ignored
       ELSE IF f.typ = "ACK" THEN
            /\ creq' = Upd(creq, f.id, [creq[f.id] EXCEPT !.limit =
                                         IF f.n > @ THEN f.n ELSE @])
            /\ UNCHANGED done
       ELSE IF f.typ = "END" THEN
            IF creq[f.id].fin
            THEN /\ creq' = Del(creq, f.id) /\ done' = Upd(done, f.id, "completed")
            ELSE /\ creq' = Upd(creq, f.id, [creq[f.id] EXCEPT !.peerFin = TRUE])
                 /\ UNCHANGED done
       ELSE /\ f.typ = "ERROR"
            /\ creq' = Del(creq, f.id) /\ done' = Upd(done, f.id, "failed")
    /\ UNCHANGED <<established, c2s, sreq, faults, answered>>

\* --- server -----------------------------------------------------------------
Fail(i, code) ==   \* fail_request: ERROR for the request, state dropped
    /\ sreq' = Del(sreq, i) /\ s2c' = Append(s2c, Frame("ERROR", i, 0))

ServerRecv ==
    /\ established.s /\ c2s # << >> /\ Head(c2s).typ \notin {"HELLO", "ERROR"}
    /\ c2s' = Tail(c2s)
    /\ LET f == Head(c2s) IN
       CASE f.typ = "START" ->
              IF f.id \in Open(sreq) THEN Fail(f.id, "proto")
              ELSE IF Cardinality(Open(sreq)) >= MaxInflight
                   THEN /\ s2c' = Append(s2c, Frame("ERROR", f.id, 0)) /\ UNCHANGED sreq
              ELSE /\ sreq' = Upd(sreq, f.id, [recv |-> 0, read |-> 0, granted |-> Window,
                                               peerFin |-> FALSE, verified |-> FALSE])
                   /\ s2c' = Append(s2c, Frame("ACK", f.id, Window))   \* accept
         [] f.typ = "DATA" ->
              IF f.id \notin Open(sreq) THEN UNCHANGED <<sreq, s2c>>   \* discarded / stray
              ELSE LET r == sreq[f.id] IN
                   IF r.peerFin THEN Fail(f.id, "proto")              \* DATA after END
                   ELSE IF r.recv + f.n > r.granted THEN Fail(f.id, "credit_exceeded")
                   ELSE IF f.off # r.recv THEN Fail(f.id, "proto")    \* gap / overlap
                   ELSE /\ sreq' = Upd(sreq, f.id, [r EXCEPT !.recv = @ + f.n,
                                              !.verified = (r.recv + f.n = ObjLen)])
                        /\ UNCHANGED s2c
         [] f.typ = "END" ->
              IF f.id \notin Open(sreq) THEN UNCHANGED <<sreq, s2c>>
              ELSE IF sreq[f.id].peerFin \/ sreq[f.id].recv # ObjLen
                   THEN Fail(f.id, "proto")
                   ELSE /\ sreq' = Upd(sreq, f.id, [sreq[f.id] EXCEPT !.peerFin = TRUE])
                        /\ UNCHANGED s2c
    /\ UNCHANGED <<established, creq, done, faults, answered>>

Read(i) ==   \* read + credit_update: ACK once half a window was consumed
    /\ i \in Open(sreq) /\ sreq[i].read < sreq[i].recv
    /\ LET r == [sreq[i] EXCEPT !.read = @ + 1]
           target == r.read + Window
       IN
       IF target - r.granted >= (Window + 1) \div 2 /\ ~r.peerFin
       THEN /\ sreq' = Upd(sreq, i, [r EXCEPT !.granted = target])
            /\ s2c' = Append(s2c, Frame("ACK", i, target))
       ELSE /\ sreq' = Upd(sreq, i, r) /\ UNCHANGED s2c
    /\ UNCHANGED <<established, c2s, creq, done, faults, answered>>

ServerEnd(i) ==   \* finish(obj) only once the object verified and was read
    /\ i \in Open(sreq) /\ sreq[i].peerFin /\ sreq[i].verified /\ sreq[i].read = ObjLen
    /\ sreq' = Del(sreq, i) /\ s2c' = Append(s2c, Frame("END", i, 0))
    /\ answered' = answered \cup {i}
    /\ UNCHANGED <<established, c2s, creq, done, faults>>

\* --- timeouts (timers.rs) -------------------------------------------------
\* A request that can make no progress times out on either side.
ClientTimeout(i) ==
    /\ i \in Open(creq) /\ s2c = << >> /\ ~ENABLED SendData(i) /\ ~ENABLED ClientEnd(i)
    /\ creq' = Del(creq, i) /\ done' = Upd(done, i, "timeout")
    /\ c2s' = Append(c2s, Frame("ERROR", i, 0))
    /\ UNCHANGED <<established, s2c, sreq, faults, answered>>
ServerTimeout(i) ==
    /\ i \in Open(sreq) /\ c2s = << >> /\ ~ENABLED Read(i) /\ ~ENABLED ServerEnd(i)
    /\ Fail(i, "timeout")
    /\ UNCHANGED <<established, c2s, creq, done, faults, answered>>

ServerRecvError ==  \* an ERROR from the client ends the server's request
    /\ c2s # << >> /\ Head(c2s).typ = "ERROR"
    /\ c2s' = Tail(c2s) /\ sreq' = Del(sreq, Head(c2s).id)
    /\ UNCHANGED <<established, s2c, creq, done, faults, answered>>

Next ==
    \/ ServerHello \/ ClientHello \/ Faults \/ ClientRecv \/ ServerRecvError
    \/ ServerRecv
    \/ \E i \in Ids : Start(i) \/ SendData(i) \/ ClientEnd(i) \/ Read(i) \/ ServerEnd(i)
                      \/ ClientTimeout(i) \/ ServerTimeout(i)

Fairness ==
    /\ WF_vars(ServerHello) /\ WF_vars(ClientHello) /\ WF_vars(ClientRecv)
    /\ WF_vars(ServerRecv) /\ WF_vars(ServerRecvError)
    /\ \A i \in Ids : WF_vars(SendData(i)) /\ WF_vars(ClientEnd(i)) /\ WF_vars(Read(i))
                      /\ WF_vars(ServerEnd(i)) /\ WF_vars(ClientTimeout(i))
                      /\ WF_vars(ServerTimeout(i))

Spec == Init /\ [][Next]_vars /\ Fairness

------------------------------------------------------------------------------
\* Invariants (the same ones model-check/src/pair.rs checks on the real code).

\* Credit never exceeded: the client never sends beyond what was granted,
\* and the server's receive buffer is bounded by the window.
CreditRespected == \A i \in Open(creq) : creq[i].sent <= creq[i].limit
BufferBounded   == \A i \in Open(sreq) : sreq[i].recv - sreq[i].read <= Window

\* Inflight never above the negotiated limit, on either side.
InflightBounded == Cardinality(Open(creq)) <= MaxInflight
                   /\ Cardinality(Open(sreq)) <= MaxInflight

\* No object completed unverified: a request completes at the client only
\* when the server's END came, which it sends only for a verified object.
NoUnverifiedCompletion == \A i \in DOMAIN done :
    done[i] = "completed" => i \in answered

\* Limits apply only after the exchange: no request before HELLO completed.
NoRequestBeforeHello == Open(creq) # {} => established.c

Invariants == CreditRespected /\ BufferBounded /\ InflightBounded
              /\ NoUnverifiedCompletion /\ NoRequestBeforeHello

\* Liveness: every request ends (completed, failed or timed out).
EveryRequestEnds == \A i \in Ids : [](i \in Open(creq) => <>(i \notin Open(creq)))

THEOREM Spec => []Invariants /\ EveryRequestEnds
==============================================================================
