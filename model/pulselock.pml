/*
 * pulselock's lock protocol for one lock name, as a Spin model.
 * docs/model.md says what is modelled, what is assumed and what is proved;
 * model/check.mjs runs it, and runs broken variants that must fail.
 *
 * Time is discrete: one tick is one unit of the Redis clock (real time). The
 * owners' clocks run at a rate within [1 - RHO, 1 + RHO] of it, so a local
 * duration F ends, in real time, anywhere in [F/(1+RHO), F/(1-RHO)]; each
 * deadline is picked nondeterministically from that range.
 *
 * Each process is a set of guarded atomic actions, one per Redis round trip:
 *   acquire  src/scripts/acquire.ts, Locker.tryAcquire (free key: 1 trip;
 *            held: read the holder's liveness; dead: compare-and-set on it)
 *   extend   src/scripts/extend.ts, LockRun.extend
 *   release  src/scripts/release.ts, Locker.releaseOwned (compare-and-delete;
 *            a tombstone of the token while TIME has not passed it)
 *   report   src/scripts/report.ts, LivenessLoop (first SET, then SET XX; a
 *            nil reply, or a reply after the previous deadline, is a lapse)
 *   deadline LockRun.deadline: min(liveness send + F(reportTtl),
 *            extension send + F(lockTtl)), F = fencedTtl (src/fencing.ts)
 * A request was sent up to DELAY ticks before Redis runs it; a request or
 * its reply may be lost; the reply may come up to DELAY ticks late (it only
 * matters to the lapse check); a process may stop at any point (SIGKILL,
 * freeze). Spin explores every interleaving, including several scripts on
 * the key within one tick of the Redis clock (one microsecond of TIME).
 */

#define RHO_NUM 1            /* clock drift bound RHO = RHO_NUM / RHO_DEN = 25 % */
#define RHO_DEN 4
#define RT 4                 /* reportTtlMs, in ticks */
#define LT 8                 /* lockTtlMs, in ticks */
#define LAT 1                /* the owner's deadline timer may fire up to LAT ticks late */
#ifndef MARGIN
#define MARGIN 1             /* fencingMarginMs: covers LAT */
#endif
#define DELAY 1              /* network delay, each way */
#ifndef MAXT
#define MAXT 12              /* horizon: the clock stops here */
#endif
#define NP 2                 /* processes */
#define G 2                  /* liveness identities per process (a lapse starts a new one) */
#ifndef MAXRUNS
#define MAXRUNS 2            /* acquisitions tried per process */
#endif
#define NONE 0
#ifdef CLUSTER
#define CLUSTER_ON 1         /* on a cluster the acquire script cannot check the caller's own liveness key */
#else
#define CLUSTER_ON 0
#endif

/* fencedTtl(T) = T * (1 - RHO) - margin; T is a multiple of RHO_DEN, so this is exact. */
#ifdef BROKEN_NO_DRIFT
#define FENCED(T) ((T) - MARGIN)
#else
#define FENCED(T) ((T) - ((T) * RHO_NUM) / RHO_DEN - MARGIN)
#endif
/* Real time that a local duration F may take: [ceil(F/(1+RHO)), floor(F/(1-RHO))]. */
#define LO(F) (((F) * RHO_DEN + RHO_DEN + RHO_NUM - 1) / (RHO_DEN + RHO_NUM))
#define HI(F) (((F) * RHO_DEN) / (RHO_DEN - RHO_NUM))

/* phases of an owner */
#define IDLE 0
#define WAIT_ID 1            /* a new identity waits for its first liveness write */
#define VICTIM 2             /* the key is held: read the holder's liveness next */
#define TAKEOVER 3           /* the holder looked dead: compare-and-set next */
#define HOLDING 4            /* the run holds the lock */
#define DONE 5               /* terminated */
#define GIVEBACK 6           /* an acquire reply came after the identity lapsed: release it, never run */

byte now = 1;                /* 0 is kept for "none" */

/* ---- Redis ---- */
byte lk_exp;                 /* the key (a lock record or a tombstone) exists iff now < lk_exp */
bool lk_tomb;                /* the key holds a tombstone `pl1t|<token>`: free, but remembers the last token */
byte lk_p; byte lk_g; byte lk_seq;  /* a lock record's owner: processHash = (p, g), and seq */
byte lk_tok;                 /* its fencing token */
byte lv_exp[NP * G];         /* liveness record of identity (p, g) exists iff now < lv_exp[p*G + g - 1] */
bool data_lost;

/* ---- owners ---- */
byte phase[NP];
byte gen[NP];                /* current identity, 1..G; 0 before the first */
byte lapsed[NP];             /* every identity <= lapsed[p] is over for good */
byte live_dl[NP];            /* real time at which the local liveness deadline fires; NONE = not written */
byte rep_last[NP];           /* tick of the last liveness write: at most one per tick (reportWriteMs > 0) */
byte runs[NP];

byte hgen[NP];               /* the identity the run acquired under */
byte ext_dl[NP];             /* real time at which the local extension deadline fires */
byte vp[NP]; byte vg[NP]; byte vseq[NP];  /* the holder seen by the last acquire */

byte maxtok;                 /* largest fencing token ever issued */
byte s; byte d; byte tok; byte prev; byte late; bool ok; bool first; bool nil;  /* scratch, always reset to 0 */

#define LV(p, g) lv_exp[(p) * G + (g) - 1]
#define LIVE(p, g) (now < LV(p, g))
#define LOCKED (now < lk_exp && !lk_tomb)
/* The token floor that a free key leaves to the next acquire: a tombstone's token, else none. */
#define FLOOR (now < lk_exp && lk_tomb -> lk_tok : 0)
#define OWNS(p) (LOCKED && lk_p == (p) && lk_g == hgen[p] && lk_seq == runs[p])
#define MIN(a, b) ((a) < (b) -> (a) : (b))
/* Running: holds the lock under its current, unlapsed identity, and its self-fencing deadline (+ timer latency) is ahead. */
#define RUNNING(p) (phase[p] == HOLDING && hgen[p] == gen[p] && hgen[p] > lapsed[p] && live_dl[p] != NONE && \
                    now < MIN(live_dl[p], ext_dl[p]) + LAT)
/* Locker.isAlive(identity): the local liveness deadline has not fired. */
#define ALIVE(p) (gen[p] > lapsed[p] && live_dl[p] != NONE && now < live_dl[p])

inline scratch() { s = 0; d = 0; tok = 0; prev = 0; late = 0; ok = 0; first = 0; nil = 0 }

/* The send time of a request that Redis runs now. */
inline sent() {
  if
  :: s = now
  :: now > DELAY -> s = now - DELAY
  fi
}

/* A deadline: send time plus the real time that F local ticks may take. */
inline deadline(dl, F) {
  select (d : LO(F) .. HI(F));
#ifdef BROKEN_DEADLINE_FROM_REPLY
  dl = now + DELAY + d;
#else
  dl = s + d;
#endif
}

/* Issues a fencing token, max(TIME, prev + 1), and records the lock (over a tombstone, if any). */
inline take(p, prv) {
#ifdef BROKEN_TOKEN_COUNTER
  tok = prv + 1;
#else
  tok = (now > prv -> now : prv + 1);
#endif
  assert(tok > maxtok);      /* G5: strictly greater than every earlier token of the key */
  maxtok = tok;
  lk_p = p; lk_g = gen[p]; lk_seq = runs[p]; lk_tok = tok; lk_exp = now + LT; lk_tomb = 0;
  ok = 1
}

/* Acquire of a free key: a tombstone's token is the floor, as a dead holder's token is in a takeover. */
inline take_free(p) {
  prev = FLOOR;
#ifdef REACH_TOMBSTONE
  assert(prev == 0);         /* a sanity variant: an acquire within a released token's microsecond is reached */
#endif
  take(p, prev)
}

/* Release of an owned record (compare-and-delete): DEL once TIME has passed the token; until then a tombstone
 * that lives until TIME passes it (the code's PX in ms must cover at least that: docs/model.md, "Findings"). */
inline release_owned() {
#ifdef BROKEN_NO_TOMBSTONE
  lk_exp = 0
#else
  if
  :: now > lk_tok -> lk_exp = 0
  :: else -> lk_tomb = 1; lk_exp = lk_tok + 1
  fi
#endif
}

/* What the caller does with a successful acquire reply: hold under a live identity, or give the lock back once. */
inline acquired(p) {
  if
  :: ALIVE(p) -> phase[p] = HOLDING; hgen[p] = gen[p]; deadline(ext_dl[p], FENCED(LT))
  :: else -> phase[p] = GIVEBACK; hgen[p] = gen[p]  /* the release may run at once, later, or be lost */
  fi
}

/* The lapse check of a reply that arrived `late` ticks after Redis ran the write. */
inline lapse_if_late(p, late) {
  if
  :: live_dl[p] != NONE && now + late >= live_dl[p] -> lapsed[p] = gen[p]; live_dl[p] = NONE
  :: else -> skip
  fi
}

proctype Process(byte p) {
  do
  /* ---- the liveness reporter ---- */
  :: atomic {
       gen[p] > lapsed[p] && phase[p] != DONE && now > rep_last[p] -> rep_last[p] = now; sent();
       first = (live_dl[p] == NONE);
       if
       :: first -> LV(p, gen[p]) = now + RT; ok = 1                     /* first write: SET PX */
       :: !first && LIVE(p, gen[p]) -> LV(p, gen[p]) = now + RT; ok = 1 /* SET PX XX */
       :: !first && !LIVE(p, gen[p]) -> nil = 1                         /* XX finds it gone */
       :: skip                                                          /* the request is lost */
       fi;
       if
       :: nil -> lapsed[p] = gen[p]; live_dl[p] = NONE
       :: ok && first -> deadline(live_dl[p], FENCED(RT))
       :: ok && !first ->                                               /* the reply, maybe late */
          select (late : 0 .. DELAY); lapse_if_late(p, late);
          if
          :: live_dl[p] != NONE -> deadline(live_dl[p], FENCED(RT))
          :: else -> skip
          fi
       :: true -> lapse_if_late(p, 0)                                   /* an error: no reply */
       fi;
       scratch() }

  /* ---- currentIdentity(): the old one is over, start a new one ---- */
  :: atomic {
       phase[p] == IDLE && runs[p] < MAXRUNS && !ALIVE(p) && gen[p] < G ->
       lapsed[p] = gen[p]; gen[p]++; live_dl[p] = NONE; phase[p] = WAIT_ID }

  /* ---- acquire: the first attempt, with no victim ---- */
  :: atomic {
       ((phase[p] == IDLE && ALIVE(p)) || (phase[p] == WAIT_ID && live_dl[p] != NONE)) && runs[p] < MAXRUNS ->
       runs[p]++; phase[p] = IDLE; sent();
       if
       :: !CLUSTER_ON && !LIVE(p, gen[p]) -> skip                       /* {-2}: own liveness gone */
       :: CLUSTER_ON || LIVE(p, gen[p]) ->
          if
          :: !LOCKED -> take_free(p)
          :: LOCKED && !(lk_p == p && lk_g == gen[p]) -> vp[p] = lk_p; vg[p] = lk_g; vseq[p] = lk_seq; phase[p] = VICTIM
          :: LOCKED && lk_p == p && lk_g == gen[p] -> skip             /* held by this very process */
          fi
       :: skip                                                          /* the request is lost */
       fi;
       if
       :: ok -> acquired(p)
       :: ok -> skip                                                    /* the reply is lost: an orphan record */
       :: phase[p] == VICTIM -> skip
       :: phase[p] == VICTIM -> phase[p] = IDLE
       :: !ok && phase[p] == IDLE -> skip
       fi;
       scratch() }

  /* ---- the holder's liveness record ---- */
  :: atomic {
       phase[p] == VICTIM ->
       if
       :: !LIVE(vp[p], vg[p]) -> phase[p] = TAKEOVER
       :: else -> phase[p] = IDLE; vp[p] = 0; vg[p] = 0; vseq[p] = 0
       fi }
  :: atomic { phase[p] == VICTIM -> phase[p] = IDLE; vp[p] = 0; vg[p] = 0; vseq[p] = 0 }  /* the read fails */

  /* ---- acquire with victim: compare-and-set ---- */
  :: atomic {
       phase[p] == TAKEOVER ->
       phase[p] = IDLE; sent();
       if
       :: !CLUSTER_ON && !LIVE(p, gen[p]) -> skip
       :: CLUSTER_ON || LIVE(p, gen[p]) ->
          if
          :: !LOCKED -> take_free(p)
          :: LOCKED && lk_p == vp[p] && lk_g == vg[p] && lk_seq == vseq[p] -> prev = lk_tok; take(p, prev)
#ifdef REACH_TAKEOVER
             assert(false)   /* a sanity variant: the search does reach a takeover of a live lock record */
#endif
          :: else -> skip
          fi
       :: skip
       fi;
       if
       :: ok -> acquired(p)
       :: ok -> skip
       :: !ok -> skip
       fi;
       vp[p] = 0; vg[p] = 0; vseq[p] = 0; scratch() }

  /* ---- extend ---- */
  :: atomic {
       phase[p] == HOLDING && RUNNING(p) && now < MIN(live_dl[p], ext_dl[p]) -> sent();  /* a lost run's heartbeat throws first */
       if
       :: OWNS(p) -> lk_exp = now + LT; ok = 1
       :: !OWNS(p) -> phase[p] = IDLE                                  /* LockError: lost */
       :: skip                                                          /* lost: left to the deadline */
       fi;
       if
       :: ok -> deadline(ext_dl[p], FENCED(LT))
       :: ok -> skip                                                    /* the reply is lost */
       :: !ok -> skip
       fi;
       scratch() }

  /* ---- the job ends, or a late acquire reply is given back: release ---- */
  :: atomic {
       (phase[p] == HOLDING || phase[p] == GIVEBACK) -> phase[p] = IDLE;
       if
       :: OWNS(p) -> release_owned()
       :: skip                                                          /* not ours, or the request is lost */
       fi }

  /* ---- terminate(): every run loses, then the liveness record is deleted ---- */
  :: atomic {
       phase[p] != DONE && gen[p] > 0 -> phase[p] = DONE; lapsed[p] = gen[p]; live_dl[p] = NONE;
       if
       :: LV(p, gen[p]) = 0
       :: skip
       fi }
  od
}

active proctype Clock() {
  do
  :: atomic { now < MAXT -> now++ }
#ifdef DATA_LOSS
  /* A restart that loses every key. The clock does not step back, and the restart takes longer than the few
   * microseconds by which tokens can run ahead of TIME (assumption A3 in docs/model.md). */
  :: atomic {
       !data_lost && now < MAXT -> now = (now > maxtok -> now : maxtok) + 1; data_lost = 1;
       lk_exp = 0; lv_exp[0] = 0; lv_exp[1] = 0; lv_exp[2] = 0; lv_exp[3] = 0 }
#endif
  od
}

#ifndef DATA_LOSS
/* G1 with G4: no two owners of the key run at the same moment. */
active proctype Exclusive() {
  atomic { RUNNING(0) && RUNNING(1) -> assert(false) }
}
#endif

init {
  atomic { run Process(0); run Process(1) }
}
