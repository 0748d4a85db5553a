/*
 * pulselock's semaphore protocol for one semaphore key, as a Spin model: three
 * processes, at most LIMIT = 2 permits. docs/model.md ("The semaphore") says
 * what is modelled and checked; model/check.mjs runs it with broken variants
 * that must fail. Time, clocks, liveness, identities, faults and the
 * self-fencing deadline are modelled exactly as in model/pulselock.pml; only
 * what Redis stores and the scripts that touch it differ:
 *   acquire  src/scripts/semaphore-acquire.ts, Permits.#try (count the live
 *            permits and take one below the limit: 1 trip; full: read the
 *            holders' liveness; some dead: once more, naming their fields).
 *            The script counts the hash's fields first (at least the live
 *            permits) and reads the permits only when those reach the limit,
 *            so it admits exactly when fewer than LIMIT are live, as here.
 *   extend   src/scripts/semaphore-extend.ts (its own field; expired is gone)
 *   release  src/scripts/semaphore-release.ts (HDEL of its own field; the last
 *            one deletes the hash unless TIME has not passed the last token)
 */

#define RHO_NUM 1            /* clock drift bound RHO = 25 % */
#define RHO_DEN 4
#define RT 4                 /* reportTtlMs, in ticks */
#define LT 8                 /* lockTtlMs, in ticks */
#define LAT 1                /* deadline timer latency */
#ifndef MARGIN
#define MARGIN 1             /* fencingMarginMs */
#endif
#define DELAY 1              /* network delay, each way */
#ifndef MAXT
#define MAXT 11              /* horizon */
#endif
#ifndef NP
#define NP 3                 /* processes */
#endif
#define G 2                  /* liveness identities per process */
#define MAXRUNS 2            /* acquisitions tried per process */
#ifndef LIMIT
#define LIMIT 2              /* the semaphore's limit */
#endif
#define NS (NP * MAXRUNS)    /* permit fields: one per (process, run) */
#define NONE 0
#ifdef CLUSTER
#define CLUSTER_ON 1
#else
#define CLUSTER_ON 0
#endif

#ifdef BROKEN_NO_DRIFT
#define FENCED(T) ((T) - MARGIN)
#else
#define FENCED(T) ((T) - ((T) * RHO_NUM) / RHO_DEN - MARGIN)
#endif
#define LO(F) (((F) * RHO_DEN + RHO_DEN + RHO_NUM - 1) / (RHO_DEN + RHO_NUM))
#define HI(F) (((F) * RHO_DEN) / (RHO_DEN - RHO_NUM))

#define IDLE 0
#define WAIT_ID 1
#define VICTIM 2             /* refused: read the holders' liveness next */
#define TAKEOVER 3           /* some holders looked dead: acquire again, naming their fields */
#define HOLDING 4
#define DONE 5
#define GIVEBACK 6

byte now = 1;

/* ---- Redis ---- */
byte sem_exp;                /* the hash exists iff now < sem_exp (its TTL: its longest permit) */
byte sem_t;                  /* its "t" field: the last token */
byte pm_exp[NS];             /* field i holds a live permit iff now < pm_exp[i] (expiresAtMs) */
byte pm_g[NS];               /* the identity (generation) of the process that wrote field i */
byte lv_exp[NP * G];
bool data_lost;

/* ---- owners ---- */
byte phase[NP];
byte gen[NP];
byte lapsed[NP];
byte live_dl[NP];
byte rep_last[NP];
byte runs[NP];
byte hgen[NP];
byte ext_dl[NP];
byte seen[NP];               /* fields held by others' processes in the last refusal (bitmask) */
byte vmask[NP];              /* fields of holders found dead: named in the next acquire (bitmask) */

byte maxtok;
byte s; byte d; byte tok; byte prev; byte late; bool ok; bool first; bool nil; byte i; byte cnt; byte q;

#define LV(p, g) lv_exp[(p) * G + (g) - 1]
#define LIVE(p, g) (now < LV(p, g))
#define FIELD(p) ((p) * MAXRUNS + runs[p] - 1)
#define PM_LIVE(k) (now < pm_exp[k])
#define BIT(k) (1 << (k))
#define MIN(a, b) ((a) < (b) -> (a) : (b))
#define RUNNING(p) (phase[p] == HOLDING && hgen[p] == gen[p] && hgen[p] > lapsed[p] && live_dl[p] != NONE && \
                    now < MIN(live_dl[p], ext_dl[p]) + LAT)
#define ALIVE(p) (gen[p] > lapsed[p] && live_dl[p] != NONE && now < live_dl[p])
#if NP == 3
#define NRUNNING ((RUNNING(0) -> 1 : 0) + (RUNNING(1) -> 1 : 0) + (RUNNING(2) -> 1 : 0))
#else
#define NRUNNING ((RUNNING(0) -> 1 : 0) + (RUNNING(1) -> 1 : 0))
#endif

inline scratch() { s = 0; d = 0; tok = 0; prev = 0; late = 0; ok = 0; first = 0; nil = 0; i = 0; cnt = 0; q = 0 }

inline sent() {
  if
  :: s = now
  :: now > DELAY -> s = now - DELAY
  fi
}

inline deadline(dl, F) {
  select (d : LO(F) .. HI(F));
  dl = s + d
}

/* The number of live permits, into cnt. */
inline count_live() {
  cnt = 0; i = 0;
  do
  :: i < NS -> if :: PM_LIVE(i) -> cnt++ :: else -> skip fi; i++
  :: else -> break
  od;
  i = 0
}

/* The hash's TTL after a write: raised to lockTtl from now when shorter, never lowered (so never below its longest permit's). */
inline expire_hash() {
  if
  :: sem_exp < now + LT -> sem_exp = now + LT
  :: else -> skip
  fi
}

/* Takes a permit with token max(TIME, t + 1), t kept while the hash lives. */
inline take(p) {
  prev = (now < sem_exp -> sem_t : 0);
#ifdef BROKEN_NO_LAST_TOKEN
  tok = now;
#else
  tok = (now > prev -> now : prev + 1);
#endif
  assert(tok > maxtok);      /* G5 per semaphore key */
  maxtok = tok;
  pm_exp[FIELD(p)] = now + LT; pm_g[FIELD(p)] = gen[p];
  sem_t = tok; expire_hash();
  ok = 1
}

/* One SEMAPHORE_ACQUIRE: drop the named fields, count, take below the limit or answer with the holders. */
inline try_acquire(p) {
  sent();
  if
  :: !CLUSTER_ON && !LIVE(p, gen[p]) -> skip                         /* {-2}: own liveness gone */
  :: CLUSTER_ON || LIVE(p, gen[p]) ->
     i = 0;
     do
     :: i < NS ->
        if
        :: vmask[p] & BIT(i) ->
#ifdef REACH_TAKEOVER
           assert(!PM_LIVE(i));  /* a sanity variant: a dead holder's unexpired permit is taken over */
#endif
           pm_exp[i] = 0                                                /* HDEL of that very field */
        :: else -> skip
        fi;
        i++
     :: else -> break
     od;
     count_live();
     if
#ifdef BROKEN_OFF_BY_ONE
     :: cnt <= LIMIT -> take(p)                                       /* admits one too many */
#else
     :: cnt < LIMIT -> take(p)
#endif
     :: else ->
        seen[p] = 0; i = 0;
        do
        :: i < NS -> if :: PM_LIVE(i) && i / MAXRUNS != p -> seen[p] = seen[p] | BIT(i) :: else -> skip fi; i++
        :: else -> break
        od;
        i = 0;
        if :: vmask[p] == 0 -> phase[p] = VICTIM :: else -> skip fi  /* a second refusal is final */
     fi
  :: skip                                                            /* the request is lost */
  fi;
  if
  :: ok -> acquired(p)
  :: ok -> skip                                                      /* the reply is lost: an orphan permit */
  :: phase[p] == VICTIM -> skip
  :: phase[p] == VICTIM -> phase[p] = IDLE
  :: !ok && phase[p] != VICTIM -> skip
  fi;
  vmask[p] = 0
}

inline acquired(p) {
  if
  :: ALIVE(p) -> phase[p] = HOLDING; hgen[p] = gen[p]; deadline(ext_dl[p], FENCED(LT))
  :: else -> phase[p] = GIVEBACK; hgen[p] = gen[p]
  fi
}

inline lapse_if_late(p, late) {
  if
  :: live_dl[p] != NONE && now + late >= live_dl[p] -> lapsed[p] = gen[p]; live_dl[p] = NONE
  :: else -> skip
  fi
}

proctype Process(byte p) {
  do
  /* ---- the liveness reporter (as in pulselock.pml) ---- */
  :: atomic {
       gen[p] > lapsed[p] && phase[p] != DONE && now > rep_last[p] -> rep_last[p] = now; sent();
       first = (live_dl[p] == NONE);
       if
       :: first -> LV(p, gen[p]) = now + RT; ok = 1
       :: !first && LIVE(p, gen[p]) -> LV(p, gen[p]) = now + RT; ok = 1
       :: !first && !LIVE(p, gen[p]) -> nil = 1
       :: skip
       fi;
       if
       :: nil -> lapsed[p] = gen[p]; live_dl[p] = NONE
       :: ok && first -> deadline(live_dl[p], FENCED(RT))
       :: ok && !first ->
          select (late : 0 .. DELAY); lapse_if_late(p, late);
          if
          :: live_dl[p] != NONE -> deadline(live_dl[p], FENCED(RT))
          :: else -> skip
          fi
       :: true -> lapse_if_late(p, 0)
       fi;
       scratch() }

  :: atomic {
       phase[p] == IDLE && runs[p] < MAXRUNS && !ALIVE(p) && gen[p] < G ->
       lapsed[p] = gen[p]; gen[p]++; live_dl[p] = NONE; phase[p] = WAIT_ID }

  /* ---- acquire: the first attempt ---- */
  :: atomic {
       ((phase[p] == IDLE && ALIVE(p)) || (phase[p] == WAIT_ID && live_dl[p] != NONE)) && runs[p] < MAXRUNS ->
       runs[p]++; phase[p] = IDLE; vmask[p] = 0; try_acquire(p); scratch() }

  /* ---- the holders' liveness records (read in parallel; a gone record stays gone) ---- */
  :: atomic {
       phase[p] == VICTIM -> vmask[p] = 0; i = 0;
       do
       :: i < NS ->
          q = i / MAXRUNS;
          if :: (seen[p] & BIT(i)) && !LIVE(q, pm_g[i]) -> vmask[p] = vmask[p] | BIT(i) :: else -> skip fi; i++
       :: else -> break
       od;
       if :: vmask[p] != 0 -> phase[p] = TAKEOVER :: else -> phase[p] = IDLE fi;
       seen[p] = 0; scratch() }
  :: atomic { phase[p] == VICTIM -> phase[p] = IDLE; seen[p] = 0 }     /* the reads fail */

  /* ---- acquire again, naming the dead holders' fields ---- */
  :: atomic { phase[p] == TAKEOVER -> phase[p] = IDLE; try_acquire(p); scratch() }

  /* ---- extend ---- */
  :: atomic {
       phase[p] == HOLDING && RUNNING(p) && now < MIN(live_dl[p], ext_dl[p]) -> sent();
       if
       :: PM_LIVE(FIELD(p)) -> pm_exp[FIELD(p)] = now + LT; if :: sem_exp < now + LT -> sem_exp = now + LT :: else -> skip fi; ok = 1
       :: !PM_LIVE(FIELD(p)) -> phase[p] = IDLE                         /* NO_KEY: lost */
       :: skip
       fi;
       if
       :: ok -> deadline(ext_dl[p], FENCED(LT))
       :: ok -> skip
       :: !ok -> skip
       fi;
       scratch() }

  /* ---- release (the job ended, or a late reply is given back) ---- */
  :: atomic {
       (phase[p] == HOLDING || phase[p] == GIVEBACK) -> phase[p] = IDLE;
       if
       :: PM_LIVE(FIELD(p)) -> pm_exp[FIELD(p)] = 0; count_live();
          if
#ifdef BROKEN_NO_TOMBSTONE
          :: cnt == 0 -> sem_exp = 0
#else
          :: cnt == 0 && now > sem_t -> sem_exp = 0
          :: cnt == 0 && now <= sem_t -> sem_exp = sem_t + 1         /* keeps only t until TIME passes it */
#endif
          :: else -> skip
          fi
       :: skip
       fi;
       scratch() }

  /* ---- terminate() ---- */
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
  :: atomic {
       !data_lost && now < MAXT -> now = (now > maxtok -> now : maxtok) + 1; data_lost = 1;
       sem_exp = 0; i = 0;
       do :: i < NS -> pm_exp[i] = 0; i++ :: else -> break od;
       i = 0;
       do :: i < NP * G -> lv_exp[i] = 0; i++ :: else -> break od;
       i = 0 }
#endif
  od
}

#ifndef DATA_LOSS
/* At most LIMIT holders of the semaphore run at the same moment. */
active proctype Bound() {
#ifdef REACH_FULL
  atomic { NRUNNING >= LIMIT -> assert(false) }   /* a sanity variant: LIMIT runs at once are reached */
#else
  atomic { NRUNNING > LIMIT -> assert(false) }
#endif
}
#endif

init {
  atomic {
    run Process(0); run Process(1);
#if NP == 3
    run Process(2)
#endif
  }
}
