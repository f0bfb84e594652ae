/*
 * Pre-computed sessions end to end (tsm/server/precompute.c): an agent
 * that names its card (X-Admin-Card, the CSN a 204 gave it) gets the whole
 * job in exchange 1 when the store knows the card's SCP03 sequence counter
 * (card_channel), with INITIALIZE UPDATE's expected answer (libgp script
 * tag DF 20) so that EXTERNAL AUTHENTICATE never reaches a card that
 * answered otherwise. Covered: the 2-exchange session after a normal
 * one; hints that cannot be pre-computed for (no channel record yet, an
 * unknown card, nothing to do); a card found by its KDD; a key rotation
 * (the record is dropped, then learnt again for the new key set); a card
 * whose counter moved outside tsmd (the script stops at INITIALIZE
 * UPDATE, the card never sees EXTERNAL AUTHENTICATE nor counts a failed
 * authentication, the operation runs once in the 3-exchange fallback, and
 * the next session is pre-computed again); a hint naming another known
 * card (its operation goes back to the queue); malformed hints (ignored);
 * the power cut at every command of a pre-computed script, and the link
 * lost after it ran, each settled at the next contact.
 *
 * The card's registry (read by the test over its own channel) is checked
 * against the store's instances at the end of each case. The test's own
 * channel is an INITIALIZE UPDATE too: it moves the card's counter, so it
 * comes after the last hinted session expected to be pre-computed.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"
#include "gp/scp.h"
#include "store/ops.h"
#include "tsmd_env.h"

#define DEMO_APP	"D27600017754534D0101"
#define LOCKED		DEMO_APP ":locked"
#define SELECTABLE	DEMO_APP ":selectable"

#define S_INSTALLED	"Installed 1 application."
#define S_UPDATED	"Updated 1 application."
#define S_UP_TO_DATE	"Your card is up to date."
#define S_TOO_EARLY	"Your card was removed too early. Please present " \
			"it again."
#define S_UNREADABLE	"Your card could not be read. Please present it " \
			"again."

#define M_PRE		"tsmd_precomputed_total"
#define M_MISS		"tsmd_precompute_misses_total"
#define M_REQUEUED	"tsmd_operations_requeued_total"
#define M_EXPIRED	"tsmd_sessions_ended_total{result=\"expired\"}"

/* Commands of a pre-computed script before the job: SELECT, GET DATA,
 * INITIALIZE UPDATE (with its DF 20), then EXTERNAL AUTHENTICATE. */
#define P_IU		2
#define P_EA		3
#define PRE		3

static struct tsmd_env env;
static char demo[256];
static size_t nidem;

static int
setup(void **state)
{
	(void)state;
	if (tenv_start(&env) != 0)
		return -1;
	return tenv_demo_cap(&env, demo, sizeof(demo)) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return tenv_stop(&env);
}

/* Queues an operation; a unique idempotency key, so that the same lock
 * can be queued again later. */
static int64_t
queue(const char *csn, const char *fmt, ...)
{
	char idem[32];
	int64_t id;
	va_list ap;

	snprintf(idem, sizeof(idem), "pre-%zu", nidem++);
	va_start(ap, fmt);
	id = tenv_vqueue(&env, csn, idem, fmt, ap);
	va_end(ap);
	return id;
}

struct counters {
	unsigned long long pre, miss, requeued;
};

static void
counters(struct counters *k)
{
	k->pre = tenv_metric(&env, M_PRE);
	k->miss = tenv_metric(&env, M_MISS);
	k->requeued = tenv_metric(&env, M_REQUEUED);
}

/* The metrics moved by exactly these amounts since k (-1: any). */
static void
assert_moved(const struct counters *k, int pre, int miss, int requeued)
{
	struct counters now;

	counters(&now);
	if (pre >= 0)
		assert_int_equal(now.pre - k->pre, (unsigned)pre);
	if (miss >= 0)
		assert_int_equal(now.miss - k->miss, (unsigned)miss);
	if (requeued >= 0)
		assert_int_equal(now.requeued - k->requeued,
		    (unsigned)requeued);
}

/* The unwrapped commands the card ran in a secure channel (libcardsim's
 * tap): one job's worth of INS and P1. */
struct tap {
	unsigned	 set_status;		/* F0 */
	unsigned	 install_load;		/* E6 P1 02 */
	unsigned	 install_app;		/* E6 P1 0C */
	unsigned	 load;			/* E8 */
	uint8_t		 ins[128];		/* every command, in order */
	size_t		 n;
};

static void
tap_fn(void *arg, const uint8_t *cmd, size_t n)
{
	struct tap *t = arg;

	if (n < 4)
		return;
	if (t->n < sizeof(t->ins))
		t->ins[t->n++] = cmd[1];
	switch (cmd[1]) {
	case 0xF0:
		t->set_status++;
		break;
	case 0xE6:
		if (cmd[2] == 0x02)
			t->install_load++;
		else if (cmd[2] & 0x04)
			t->install_app++;
		break;
	case 0xE8:
		t->load++;
		break;
	}
}

/*
 * A test card with a state file, so that the test can read what the
 * card itself keeps: its key set's sequence counter and failed
 * authentications (libcardsim blocks the key set after too many).
 */
struct pcard {
	struct tcard	 c;
	char		 path[300];
	struct tap	 tap;
	int		 kvn;		/* its ISD key set's version */
};

static void
pcard_new(struct pcard *p, unsigned n)
{
	memset(p, 0, sizeof(*p));
	assert_int_equal(tcard_new(&env, n, 1, NULL, &p->c), 0);
	snprintf(p->path, sizeof(p->path), "%s/pcard-%u.json", env.dir, n);
	unlink(p->path);
	/* The same card as tcard_new's, now with its image on disk. */
	assert_int_equal(tcard_sim_open(&p->c, p->path), 0);
	sim_card_tap(p->c.sim, tap_fn, &p->tap);
	p->kvn = ENV_KVN;
}

static void
pcard_free(struct pcard *p)
{
	sim_card_tap(p->c.sim, NULL, NULL);
	tcard_free(&p->c);
	unlink(p->path);
}

static unsigned long
json_num(const char *p, const char *name)
{
	char key[32];
	const char *q;

	snprintf(key, sizeof(key), "\"%s\"", name);
	assert_non_null(q = strstr(p, key));
	q += strlen(key);
	while (*q == ':' || *q == ' ' || *q == '\t' || *q == '\n')
		q++;
	return strtoul(q, NULL, 10);
}

/* The ISD key set's counter and failed authentications, as committed. */
static void
card_keyset(const struct pcard *p, unsigned long *seq, unsigned long *fails)
{
	char *buf;
	const char *q;
	FILE *f;
	size_t len;

	assert_non_null(f = fopen(p->path, "r"));
	assert_non_null(buf = calloc(1, 256 * 1024));
	len = fread(buf, 1, 256 * 1024 - 1, f);
	fclose(f);
	assert_true(len > 0);
	/* The key set of version p->kvn. */
	assert_non_null(q = strstr(buf, "\"keysets\""));
	for (;;) {
		assert_non_null(q = strstr(q + 1, "\"kvn\""));
		if (json_num(q, "kvn") == (unsigned long)p->kvn)
			break;
	}
	*seq = json_num(q, "seq");
	*fails = json_num(q, "fails");
	free(buf);
}

/* The card never counted a failed authentication, and it agrees with
 * the store (registry and instances, sim_card_check). */
static void
assert_settled(struct pcard *p, const char *want)
{
	unsigned long seq, fails;

	card_keyset(p, &seq, &fails);
	assert_int_equal(fails, 0);
	tenv_assert_agree_check(&env, &p->c, want);
}

/* The store's record of the card's channel agrees with the card: key
 * version, SCP03 i=70 and the counter of the last INITIALIZE UPDATE. */
static void
assert_channel_known(const struct pcard *p)
{
	struct tsm_store *s;
	struct tsm_card k;
	struct tsm_card_channel ch;
	unsigned long seq, fails;

	assert_int_equal(tsm_store_open(&s, env.db, NULL), 0);
	assert_int_equal(tsm_store_card_get(s, p->c.csn, &k), 0);
	assert_int_equal(tsm_store_card_channel(s, k.id, &ch), 0);
	tsm_store_close(s);
	card_keyset(p, &seq, &fails);
	assert_int_equal(ch.kvn, p->kvn);
	assert_int_equal(ch.scp, 3);
	assert_int_equal(ch.i, 0x70);
	assert_int_equal(ch.seq, seq);
}

static void
assert_no_channel(const char *csn)
{
	struct tsm_store *s;
	struct tsm_card k;
	struct tsm_card_channel ch;

	assert_int_equal(tsm_store_open(&s, env.db, NULL), 0);
	assert_int_equal(tsm_store_card_get(s, csn, &k), 0);
	assert_int_equal(tsm_store_card_channel(s, k.id, &ch),
	    TSM_STORE_ERR_NOTFOUND);
	tsm_store_close(s);
}

static unsigned long
card_napdu(const struct pcard *p)
{
	struct sim_stats st;

	sim_card_stats(p->c.sim, &st);
	return st.napdu;
}

/*
 * One INITIALIZE UPDATE outside tsmd (another terminal, the issuer's own
 * tool...): the card's counter moves on; no channel is opened.
 */
static void
iu_elsewhere(struct pcard *p)
{
	static const uint8_t sel[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0,
	    0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0x00 };
	uint8_t hc[8] = { 0xC0, 0xFF, 0xEE, 0, 1, 2, 3, 4 }, buf[64];
	uint8_t rsp[300];
	struct gp_scp scp;
	struct gp_wr w;
	unsigned long seq0, seq1, f0, f1;
	size_t rl;

	card_keyset(p, &seq0, &f0);
	memset(&scp, 0, sizeof(scp));
	assert_int_equal(sim_card_reset(p->c.sim), 0);
	assert_int_equal(sim_card_transmit(p->c.sim, sel, sizeof(sel), rsp,
	    sizeof(rsp), &rl), 0);
	assert_int_equal(rsp[rl - 2] << 8 | rsp[rl - 1], 0x9000);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_scp_host_init(&scp, 3, 0x70, 8, 0, hc, &w), 0);
	assert_int_equal(sim_card_transmit(p->c.sim, w.p, w.len, rsp,
	    sizeof(rsp), &rl), 0);
	assert_int_equal(rsp[rl - 2] << 8 | rsp[rl - 1], 0x9000);
	gp_scp_free(&scp);
	assert_int_equal(sim_card_reset(p->c.sim), 0);
	card_keyset(p, &seq1, &f1);
	assert_int_equal(seq1, seq0 + 1);
	assert_int_equal(f1, f0);
}

/* A whole session; hint NULL: none (copied first: it may be s->card). */
static void
run(struct tconn *c, struct tcard *card, const char *hint, struct tsess *s)
{
	char h[64];

	if (hint != NULL)
		snprintf(h, sizeof(h), "%s", hint);
	memset(s, 0, sizeof(*s));
	s->hint = hint != NULL ? h : NULL;
	assert_int_equal(tsession_run(c, card, s), 0);
	s->hint = NULL;		/* h goes out of scope */
}

/* A session with hint (NULL: none) that is not pre-computed: discovery
 * first, its exchanges and sentence, and the 204 names the card. */
static void
discovery(struct tconn *c, struct tcard *card, const char *hint,
    int exchanges, const char *result)
{
	struct tsess s;

	run(c, card, hint, &s);
	if (s.exchanges != exchanges || strcmp(s.result, result) != 0)
		fprintf(stderr, "discovery (hint \"%s\"): %d exchanges \"%s\", "
		    "wanted %d \"%s\"\n", hint != NULL ? hint : "-",
		    s.exchanges, s.result, exchanges, result);
	assert_string_equal(s.result, result);
	assert_int_equal(s.exchanges, exchanges);
	assert_int_equal(s.expects[0], 0);
	assert_int_equal(s.ncmds[0], 3);
	assert_string_equal(s.card, card->csn);
}

/*
 * A session with the card's own hint that must be pre-computed: two
 * exchanges, one script carrying the expected answer of INITIALIZE
 * UPDATE (and nothing else), run whole.
 */
static void
precomputed(struct tconn *c, struct tcard *card, const char *result)
{
	struct tsess s;

	run(c, card, card->csn, &s);
	if (s.exchanges != 2)
		fprintf(stderr, "precomputed: %d exchanges \"%s\" (script 1: "
		    "%zu commands, %d ran, %s)\n", s.exchanges, s.result,
		    s.ncmds[0], s.ran[0], s.statuses[0] ? s.statuses[0] :
		    "-");
	assert_int_equal(s.exchanges, 2);
	assert_int_equal(s.scripts, 1);
	assert_string_equal(s.result, result);
	assert_int_equal(s.expects[0], 1);
	assert_true(s.ncmds[0] > PRE + 1);
	assert_int_equal(s.ran[0], (int)s.ncmds[0]);
	assert_string_equal(s.statuses[0], "ok");
	assert_string_equal(s.card, card->csn);
}

/* The same, with the metrics: one pre-computed session more, no miss,
 * nothing requeued; and the operation id done once. */
static void
precomputed_op(struct tconn *c, struct tcard *card, int64_t id,
    const char *result)
{
	struct counters k;

	counters(&k);
	precomputed(c, card, result);
	assert_moved(&k, 1, 0, 0);
	tenv_assert_done_once(&env, id);
}

/* ---- (a) the pre-computed session ----------------------------------- */

/*
 * A fresh card's first session is the normal one (3 exchanges) and its
 * 204 names the card; the next operation, with that name as the hint,
 * takes 2 exchanges: the card saw the lock once, the store and the card
 * agree.
 */
static void
test_precompute_after_first_session(void **state)
{
	struct tconn c;
	struct pcard p;
	struct counters k;
	unsigned long seq, fails;
	int64_t ins, lock;

	(void)state;
	tconn_agent(&c, &env, "kiosk-1");
	pcard_new(&p, 0x51);
	ins = queue(p.c.csn, "install %s", demo);
	counters(&k);
	discovery(&c, &p.c, NULL, 3, S_INSTALLED);
	tenv_assert_done_once(&env, ins);
	assert_int_equal(p.tap.install_app, 1);
	assert_moved(&k, 0, 0, 0);
	lock = queue(p.c.csn, "lock %s", DEMO_APP);
	p.tap.set_status = 0;
	precomputed_op(&c, &p.c, lock, S_UPDATED);
	assert_int_equal(p.tap.set_status, 1);
	/* The channel the card opened authenticated at once. */
	card_keyset(&p, &seq, &fails);
	assert_int_equal(fails, 0);
	assert_channel_known(&p);
	tenv_assert_agree_check(&env, &p.c, LOCKED);
	/* Nothing to do: discovery as ever (nothing to pre-compute). */
	counters(&k);
	discovery(&c, &p.c, p.c.csn, 2, S_UP_TO_DATE);
	assert_moved(&k, 0, 0, 0);
	/* That session's INITIALIZE UPDATE moved the counter; tsmd verified
	 * the answer and recorded it, so the next job is pre-computed. */
	assert_channel_known(&p);
	card_keyset(&p, &seq, &fails);
	assert_int_equal(fails, 0);
	lock = queue(p.c.csn, "unlock %s", DEMO_APP);
	precomputed_op(&c, &p.c, lock, S_UPDATED);
	tconn_close(&c);
	pcard_free(&p);
}

/*
 * A hint for a card the store has no channel record of (never
 * authenticated), and for a card the store does not know: discovery.
 */
static void
test_precompute_not_eligible(void **state)
{
	struct tconn c;
	struct pcard p;
	struct tcard stranger;
	struct counters k;
	struct tsess s;
	int64_t lock;

	(void)state;
	tconn_agent(&c, &env, "kiosk-1");
	pcard_new(&p, 0x52);
	queue(p.c.csn, "install %s", demo);
	assert_no_channel(p.c.csn);
	counters(&k);
	/* No card_channel row yet. */
	discovery(&c, &p.c, p.c.csn, 3, S_INSTALLED);
	assert_moved(&k, 0, 0, 0);
	/* Now it has one. */
	assert_channel_known(&p);
	lock = queue(p.c.csn, "lock %s", DEMO_APP);
	precomputed(&c, &p.c, S_UPDATED);
	tenv_assert_done_once(&env, lock);
	/* A card unknown to the store, hinted as itself. */
	assert_int_equal(tcard_new(&env, 0x53, 0, NULL, &stranger), 0);
	counters(&k);
	run(&c, &stranger, stranger.csn, &s);
	assert_int_equal(s.exchanges, 2);
	assert_string_equal(s.result, "This card is not managed by this "
	    "service.");
	assert_int_equal(s.expects[0], 0);
	assert_string_equal(s.card, "");
	assert_moved(&k, 0, 0, 0);
	tcard_free(&stranger);
	tenv_assert_agree_check(&env, &p.c, LOCKED);
	tconn_close(&c);
	pcard_free(&p);
}

/*
 * A card imported under a CSN that is not its CPLC's is found by its KDD;
 * the 204 names it by the store's CSN, and that name, given back as the
 * hint, is pre-computed for.
 */
static void
test_precompute_found_by_kdd(void **state)
{
	static const char csn[] = "0123456789ABCDEF0123";
	struct tconn c;
	struct tcard card;
	struct counters k;
	struct tsess s;
	int64_t ins, lock;

	(void)state;
	tconn_agent(&c, &env, "kiosk-1");
	assert_int_equal(tcard_new(&env, 0x57, 1, csn, &card), 0);
	assert_string_equal(card.csn, csn);
	ins = queue(csn, "install %s", demo);
	run(&c, &card, NULL, &s);
	assert_int_equal(s.exchanges, 3);
	assert_string_equal(s.result, S_INSTALLED);
	assert_string_equal(s.card, csn);
	tenv_assert_done_once(&env, ins);
	lock = queue(csn, "lock %s", DEMO_APP);
	counters(&k);
	run(&c, &card, s.card, &s);	/* the name the 204 gave */
	assert_int_equal(s.exchanges, 2);
	assert_string_equal(s.result, S_UPDATED);
	assert_int_equal(s.expects[0], 1);
	assert_string_equal(s.card, csn);
	assert_moved(&k, 1, 0, 0);
	tenv_assert_done_once(&env, lock);
	tenv_assert_agree_check(&env, &card, LOCKED);
	tconn_close(&c);
	tcard_free(&card);
}

/*
 * A key rotation in a pre-computed session: the card's new key set keeps
 * a counter of its own, so the store forgets the channel; the next
 * session is a normal one (which records the new key set's counter) and
 * the one after is pre-computed with the issuer keys.
 */
static void
test_precompute_rotation(void **state)
{
	struct tconn c;
	struct pcard p;
	struct counters k;
	struct tsess s;
	struct tsm_store *st;
	struct tsm_card card;
	int64_t rot, lock, unlock;
	int kvn = -1;

	(void)state;
	assert_int_equal(tenv_issuer_import(&env, 0x31), 0);
	tconn_agent(&c, &env, "kiosk-1");
	pcard_new(&p, 0x59);
	queue(p.c.csn, "install %s", demo);
	discovery(&c, &p.c, NULL, 3, S_INSTALLED);
	assert_channel_known(&p);
	rot = queue(p.c.csn, "rotate --version 49");
	precomputed_op(&c, &p.c, rot, "Your card's security was updated.");
	assert_int_equal(tsm_store_open(&st, env.db, NULL), 0);
	assert_int_equal(tsm_store_card_get(st, p.c.csn, &card), 0);
	assert_int_equal(tsm_store_card_kvn(st, card.id, &kvn, NULL), 0);
	tsm_store_close(st);
	assert_int_equal(kvn, 0x31);
	assert_no_channel(p.c.csn);
	p.kvn = 0x31;
	/* No record: a normal session, which makes one. */
	lock = queue(p.c.csn, "lock %s", DEMO_APP);
	counters(&k);
	run(&c, &p.c, p.c.csn, &s);
	assert_int_equal(s.exchanges, 3);
	assert_string_equal(s.result, S_UPDATED);
	assert_int_equal(s.expects[0], 0);
	assert_moved(&k, 0, 0, 0);
	tenv_assert_done_once(&env, lock);
	assert_channel_known(&p);
	unlock = queue(p.c.csn, "unlock %s", DEMO_APP);
	precomputed_op(&c, &p.c, unlock, S_UPDATED);
	assert_int_equal(p.tap.set_status, 2);
	/* The test's own channel now needs the issuer keys. */
	assert_int_equal(tcard_issuer_keys(&p.c), 0);
	tenv_assert_agree_check(&env, &p.c, SELECTABLE);
	tconn_close(&c);
	pcard_free(&p);
}

/* ---- (b) the card's counter moved ----------------------------------- */

/*
 * Someone ran INITIALIZE UPDATE on the card outside tsmd: the prediction
 * is one behind. The card answers INITIALIZE UPDATE otherwise, the
 * script stops there (unexpected-response): EXTERNAL AUTHENTICATE never
 * reaches the card, whose failed-authentication count stays 0. tsmd
 * falls back (3 exchanges), the lock runs once; the next session is
 * pre-computed again.
 */
static void
test_precompute_counter_moved(void **state)
{
	struct tconn c;
	struct pcard p;
	struct counters k;
	struct tstep st;
	unsigned long seq0, seq1, fails, n0;
	int64_t lock, unlock;

	(void)state;
	tconn_agent(&c, &env, "kiosk-1");
	pcard_new(&p, 0x54);
	queue(p.c.csn, "install %s", demo);
	discovery(&c, &p.c, NULL, 3, S_INSTALLED);
	lock = queue(p.c.csn, "lock %s", DEMO_APP);
	iu_elsewhere(&p);
	card_keyset(&p, &seq0, &fails);
	assert_int_equal(fails, 0);
	counters(&k);
	p.tap.set_status = 0;
	p.tap.n = 0;
	/* Exchange 1: the pre-computed script, stopped at INITIALIZE
	 * UPDATE. */
	assert_int_equal(tstep_init(&st, &p.c), 0);
	st.hint = p.c.csn;
	n0 = card_napdu(&p);
	assert_int_equal(tstep_send(&c, &st, 0), 0);
	assert_int_equal(tstep_recv(&c, &st), 0);
	assert_int_equal(st.code, 200);
	assert_int_equal(st.expects[0], 1);
	assert_true(st.ncmds[0] > PRE + 1);
	assert_int_equal(st.ran[0], PRE);
	assert_string_equal(st.statuses[0], "unexpected-response");
	assert_string_equal(st.status, "unexpected-response");
	/* The card ran SELECT, GET DATA and INITIALIZE UPDATE, no more. */
	assert_int_equal(card_napdu(&p) - n0, PRE);
	assert_int_equal(p.tap.n, 0);
	card_keyset(&p, &seq1, &fails);
	assert_int_equal(seq1, seq0 + 1);
	assert_int_equal(fails, 0);
	/* The lock is running in the store: it left with the script. */
	tenv_assert_op(&env, lock, "running");
	/* Then the normal flow: the job in exchange 2, 204 in 3. */
	assert_int_equal(tstep_finish(&c, &st), 0);
	assert_int_equal(st.exchanges, 3);
	assert_string_equal(st.result, S_UPDATED);
	assert_string_equal(st.csn, p.c.csn);
	assert_int_equal(st.expects[1], 0);
	assert_string_equal(st.statuses[1], "ok");
	tstep_free(&st);
	assert_moved(&k, 1, 1, 1);
	tenv_assert_done_once(&env, lock);
	assert_int_equal(p.tap.set_status, 1);
	card_keyset(&p, &seq1, &fails);
	assert_int_equal(fails, 0);
	assert_channel_known(&p);	/* learnt again in the fallback */
	/* The store learnt the counter again: pre-computed once more. */
	unlock = queue(p.c.csn, "unlock %s", DEMO_APP);
	precomputed_op(&c, &p.c, unlock, S_UPDATED);
	assert_int_equal(p.tap.set_status, 2);
	assert_settled(&p, SELECTABLE);
	tconn_close(&c);
	pcard_free(&p);
}

/* ---- (c) the hint names another card -------------------------------- */

/*
 * Card A presented with card B's CSN as the hint (both known, both with
 * a channel record and a queued lock). The script computed for B stops
 * at A's INITIALIZE UPDATE; B's lock goes back to the queue untouched,
 * A's runs in the fallback. B's next session of its own is pre-computed
 * (B's counter never moved).
 */
static void
test_precompute_wrong_card(void **state)
{
	struct tconn c;
	struct pcard a, b;
	struct counters k;
	struct tstep st;
	unsigned long seq, fails;
	int64_t la, lb;

	(void)state;
	tconn_agent(&c, &env, "kiosk-1");
	pcard_new(&a, 0x55);
	pcard_new(&b, 0x56);
	queue(a.c.csn, "install %s", demo);
	queue(b.c.csn, "install %s", demo);
	discovery(&c, &a.c, NULL, 3, S_INSTALLED);
	discovery(&c, &b.c, NULL, 3, S_INSTALLED);
	la = queue(a.c.csn, "lock %s", DEMO_APP);
	lb = queue(b.c.csn, "lock %s", DEMO_APP);
	a.tap.set_status = b.tap.set_status = 0;
	counters(&k);
	assert_int_equal(tstep_init(&st, &a.c), 0);
	st.hint = b.c.csn;
	assert_int_equal(tstep_send(&c, &st, 0), 0);
	assert_int_equal(tstep_recv(&c, &st), 0);
	assert_int_equal(st.expects[0], 1);
	assert_int_equal(st.ran[0], PRE);
	assert_string_equal(st.statuses[0], "unexpected-response");
	tenv_assert_op(&env, lb, "running");	/* B's script left */
	tenv_assert_op(&env, la, "queued");
	assert_int_equal(tstep_finish(&c, &st), 0);
	assert_int_equal(st.exchanges, 3);
	assert_string_equal(st.result, S_UPDATED);
	assert_string_equal(st.csn, a.c.csn);	/* the card it was */
	tstep_free(&st);
	assert_moved(&k, 1, 1, 1);
	tenv_assert_done_once(&env, la);
	tenv_assert_op(&env, lb, "queued");
	assert_int_equal(a.tap.set_status, 1);
	assert_int_equal(b.tap.set_status, 0);
	card_keyset(&a, &seq, &fails);
	assert_int_equal(fails, 0);
	/* B's own session, with its own name: its counter is as recorded. */
	precomputed_op(&c, &b.c, lb, S_UPDATED);
	assert_int_equal(b.tap.set_status, 1);
	card_keyset(&b, &seq, &fails);
	assert_int_equal(fails, 0);
	tenv_assert_agree_check(&env, &a.c, LOCKED);
	tenv_assert_agree_check(&env, &b.c, LOCKED);
	tconn_close(&c);
	pcard_free(&a);
	pcard_free(&b);
}

/* ---- (d) malformed hints -------------------------------------------- */

/* A malformed X-Admin-Card is ignored: discovery, 3 exchanges. */
static void
test_precompute_bad_hint(void **state)
{
	struct tconn c;
	struct pcard p;
	struct counters k;
	char bad[6][40];
	size_t i, n;
	int64_t id;

	(void)state;
	tconn_agent(&c, &env, "kiosk-1");
	pcard_new(&p, 0x5A);	/* CSN 479050400000005A0000: a letter */
	assert_non_null(strchr(p.c.csn, 'A'));
	queue(p.c.csn, "install %s", demo);
	discovery(&c, &p.c, NULL, 3, S_INSTALLED);
	n = strlen(p.c.csn);
	assert_int_equal(n, 20);
	snprintf(bad[0], sizeof(bad[0]), "%.19s", p.c.csn);	/* 19 */
	snprintf(bad[1], sizeof(bad[1]), "%s", p.c.csn);	/* lower */
	for (i = 0; i < n; i++)
		if (bad[1][i] >= 'A' && bad[1][i] <= 'F')
			bad[1][i] = (char)(bad[1][i] - 'A' + 'a');
	snprintf(bad[2], sizeof(bad[2]), "%s0", p.c.csn);	/* 21 */
	snprintf(bad[3], sizeof(bad[3]), "%.19sG", p.c.csn);	/* not hex */
	snprintf(bad[4], sizeof(bad[4]), "%.10s %.9s", p.c.csn,
	    p.c.csn + 10);					/* a blank */
	bad[5][0] = '\0';					/* empty */
	counters(&k);
	for (i = 0; i < 6; i++) {
		id = queue(p.c.csn, "%s %s", i % 2 ? "unlock" : "lock",
		    DEMO_APP);
		discovery(&c, &p.c, bad[i], 3, S_UPDATED);
		tenv_assert_done_once(&env, id);
	}
	assert_moved(&k, 0, 0, 0);
	/* The card was eligible all along: the right name is taken. */
	id = queue(p.c.csn, "lock %s", DEMO_APP);
	precomputed(&c, &p.c, S_UPDATED);
	assert_moved(&k, 1, 0, 0);
	tenv_assert_done_once(&env, id);
	assert_int_equal(p.tap.set_status, 7);
	tenv_assert_agree_check(&env, &p.c, LOCKED);
	tconn_close(&c);
	pcard_free(&p);
}

/* ---- (e) the power cut in a pre-computed script --------------------- */

/* The demo CAP's job: EXTERNAL AUTHENTICATE, INSTALL [for load], nload
 * LOAD, INSTALL [for install and make selectable], GET STATUS ISD, GET
 * STATUS applications; after SELECT, GET DATA, INITIALIZE UPDATE. */
static size_t nload;
#define P_LEN		(PRE + nload + 5)
#define P_INST_LOAD	(PRE + 1)
#define P_INST_APP	(PRE + 2 + nload)

/* A card the store has a channel record of, nothing installed: a
 * refresh (registry read in the secure channel, 3 exchanges). */
static void
known_card(struct tconn *c, struct pcard *p, unsigned n)
{
	int64_t id;

	pcard_new(p, n);
	id = queue(p->c.csn, "refresh");
	discovery(c, &p->c, NULL, 3, S_UP_TO_DATE);
	tenv_assert_done_once(&env, id);
}

/* The pre-computed install whole, to learn its shape. */
static void
learn_job(struct tconn *c)
{
	struct pcard p;
	size_t i;
	int64_t id;

	known_card(c, &p, 0x60);
	id = queue(p.c.csn, "install %s", demo);
	p.tap.n = 0;
	precomputed(c, &p.c, S_INSTALLED);
	tenv_assert_done_once(&env, id);
	/* INSTALL [for load], LOAD..., INSTALL [for install], GET STATUS
	 * x2, as the card saw them. */
	assert_true(p.tap.n >= 5);
	nload = p.tap.n - 4;
	assert_int_equal(p.tap.ins[0], 0xE6);
	for (i = 0; i < nload; i++)
		assert_int_equal(p.tap.ins[1 + i], 0xE8);
	assert_int_equal(p.tap.ins[1 + nload], 0xE6);
	assert_int_equal(p.tap.ins[2 + nload], 0xF2);
	assert_int_equal(p.tap.ins[3 + nload], 0xF2);
	assert_int_equal(p.tap.install_app, 1);
	tenv_assert_agree_check(&env, &p.c, SELECTABLE);
	pcard_free(&p);
}

/*
 * The power cut at command index (mode) of the pre-computed install; the
 * next contact, hinted as agents do, settles it: the card and the store
 * agree, the install done once (one INSTALL [for install] on the card,
 * one "done" audit record), and no failed authentication on the card.
 */
static void
cut_at(struct tconn *c, unsigned n, size_t index, int mode)
{
	struct pcard p;
	struct counters k;
	struct tstep st;
	struct tsess s;
	const char *first, *state, *then;
	int next, applied = mode == SIM_TEAR_AFTER, pre_next, miss_next;
	unsigned twice;
	int64_t id;

	known_card(c, &p, n);
	id = queue(p.c.csn, "install %s", demo);
	pre_next = miss_next = 0;
	then = S_INSTALLED;
	if (index <= P_EA) {
		/* Up to EXTERNAL AUTHENTICATE (its answer lost or not):
		 * for tsmd a discovery cut short; nothing of the job ran. */
		first = S_UNREADABLE;
		state = "queued";
		/* The counter moved unless INITIALIZE UPDATE never ran or
		 * its writes were lost: then the next one is a miss. */
		pre_next = index < P_IU || (index == P_IU && !applied);
		miss_next = !pre_next;
		next = pre_next ? 2 : 3;
	} else if (index < P_INST_APP || (index == P_INST_APP && !applied)) {
		first = S_TOO_EARLY;	/* started, not finished */
		state = "uncertain";	/* registry read first, no guess */
		next = 4;
	} else if (index == P_INST_APP) {
		first = S_TOO_EARLY;	/* finished, unanswered */
		state = "uncertain";
		next = 3;		/* registry read: found done */
	} else {			/* GET STATUS: the job answered */
		first = S_INSTALLED;
		state = "done";
		next = 2;
		then = S_UP_TO_DATE;
	}
	counters(&k);
	assert_int_equal(tstep_init(&st, &p.c), 0);
	st.hint = p.c.csn;
	st.cut_script = 1;
	st.cut_index = (int)index;
	st.cut_mode = mode;
	assert_int_equal(tstep_finish(c, &st), 0);
	assert_int_equal(st.cut, 1);
	assert_int_equal(st.expects[0], 1);
	assert_int_equal(st.ncmds[0], P_LEN);
	assert_int_equal(st.ran[0], (int)index);
	assert_string_equal(st.statuses[0], "card-removed");
	if (st.exchanges != 2 || strcmp(st.result, first) != 0)
		fprintf(stderr, "cut %zu mode %d: %d exchanges \"%s\"\n",
		    index, mode, st.exchanges, st.result);
	assert_int_equal(st.exchanges, 2);
	assert_string_equal(st.result, first);
	tstep_free(&st);
	tenv_assert_op(&env, id, state);
	assert_moved(&k, 1, -1, index <= P_EA);
	/* The next contact, with the hint as an agent gives it. */
	counters(&k);
	run(c, &p.c, p.c.csn, &s);
	if (s.exchanges != next || strcmp(s.result, then) != 0)
		fprintf(stderr, "cut %zu mode %d, next: %d exchanges \"%s\", "
		    "wanted %d \"%s\"\n", index, mode, s.exchanges, s.result,
		    next, then);
	assert_int_equal(s.exchanges, next);
	assert_string_equal(s.result, then);
	assert_int_equal(s.expects[0], pre_next || miss_next);
	if (miss_next)
		assert_string_equal(s.statuses[0], "unexpected-response");
	assert_string_equal(s.card, p.c.csn);
	if (pre_next)
		assert_moved(&k, 1, 0, 0);
	else if (miss_next)
		assert_moved(&k, 1, 1, 1);	/* a miss, then the job */
	else
		assert_moved(&k, 0, 0, 0);
	tenv_assert_done_once(&env, id);
	/*
	 * The card got INSTALL [for install] once, or twice when the
	 * first one's writes went with the power (the tap sees a command
	 * as it runs, before the cut takes its writes away).
	 */
	twice = index == P_INST_APP && !applied;
	if (p.tap.install_app != 1 + twice)
		fprintf(stderr, "cut %zu mode %d: INSTALL [for load] x%u, "
		    "LOAD x%u, INSTALL [for install] x%u\n", index, mode,
		    p.tap.install_load, p.tap.load, p.tap.install_app);
	assert_int_equal(p.tap.install_app, 1 + twice);
	assert_settled(&p, SELECTABLE);
	pcard_free(&p);
}

/* Waits for an abandoned session: expired and its store work done. */
static void
wait_expired(unsigned long long before)
{
	int i, quiet = 0;

	for (i = 0; i < 300 && quiet < 2; i++) {
		tenv_msleep(50);
		if (tenv_metric(&env, M_EXPIRED) > before &&
		    tenv_metric(&env, "tsmd_jobs_pending") == 0)
			quiet++;
		else
			quiet = 0;
	}
	assert_int_equal(quiet, 2);
}

/*
 * The link is lost after the card ran the whole pre-computed install:
 * tsmd never gets the answers. The next contact (hinted) finds the
 * operation running, reads the registry instead of trusting the hint,
 * and settles it done without installing again; the abandoned session,
 * when it expires, changes nothing. Then a new operation is
 * pre-computed again.
 */
static void
test_precompute_link_lost(void **state)
{
	struct tconn c;
	struct pcard p;
	struct counters k;
	struct tstep st;
	struct tsess s;
	unsigned long long expired;
	int64_t id, lock;

	(void)state;
	tconn_agent(&c, &env, "kiosk-1");
	known_card(&c, &p, 0x58);
	id = queue(p.c.csn, "install %s", demo);
	assert_int_equal(tstep_init(&st, &p.c), 0);
	st.hint = p.c.csn;
	assert_int_equal(tstep_send(&c, &st, 0), 0);
	assert_int_equal(tstep_recv(&c, &st), 0);
	assert_int_equal(st.code, 200);
	assert_int_equal(st.expects[0], 1);
	assert_int_equal(st.ran[0], (int)st.ncmds[0]);
	assert_string_equal(st.statuses[0], "ok");
	tstep_free(&st);
	tconn_drop(&c);		/* the answers are lost with the link */
	assert_int_equal(p.tap.install_app, 1);
	tenv_assert_op(&env, id, "running");
	expired = tenv_metric(&env, M_EXPIRED);
	tconn_agent(&c, &env, "kiosk-1");
	counters(&k);
	run(&c, &p.c, p.c.csn, &s);
	assert_int_equal(s.exchanges, 3);	/* registry read: all there */
	assert_string_equal(s.result, S_INSTALLED);
	assert_int_equal(s.expects[0], 0);
	assert_string_equal(s.card, p.c.csn);
	assert_moved(&k, 0, 0, 0);
	tenv_assert_done_once(&env, id);
	assert_int_equal(p.tap.install_app, 1);
	/* The late writer: still done, one "done" record. */
	wait_expired(expired);
	tenv_assert_done_audited(&env, id);
	lock = queue(p.c.csn, "lock %s", DEMO_APP);
	precomputed_op(&c, &p.c, lock, S_UPDATED);
	tenv_assert_agree_check(&env, &p.c, LOCKED);
	tconn_close(&c);
	pcard_free(&p);
}

static void
test_precompute_power_cut(void **state)
{
	static const int modes[] = { SIM_TEAR_AFTER, SIM_TEAR_BEFORE };
	struct tconn c;
	unsigned n = 0x100;
	size_t m, i;

	(void)state;
	tconn_agent(&c, &env, "kiosk-1");
	learn_job(&c);
	for (m = 0; m < 2; m++)
		for (i = 0; i < P_LEN; i++)
			cut_at(&c, n++, i, modes[m]);
	tconn_close(&c);
}

/*
 * Another enrolled agent naming the card: not pre-computed (only the
 * agent of the card's last session may), the ordinary session serves it,
 * and the operation is done once; then that agent's own hint is.
 */
static void
test_precompute_other_agent(void **state)
{
	struct tconn c1, c2;
	struct pcard p;
	struct counters k;
	int64_t lock, unlock;

	(void)state;
	tconn_agent(&c1, &env, "kiosk-1");
	tconn_agent(&c2, &env, "kiosk-2");
	known_card(&c1, &p, 0x70);
	assert_channel_known(&p);
	lock = queue(p.c.csn, "install %s", demo);
	counters(&k);
	discovery(&c2, &p.c, p.c.csn, 3, S_INSTALLED);
	assert_moved(&k, 0, 0, 0);
	tenv_assert_done_once(&env, lock);
	/* kiosk-2 served it last: now its hint counts, kiosk-1's not. */
	unlock = queue(p.c.csn, "lock %s", DEMO_APP);
	counters(&k);
	discovery(&c1, &p.c, p.c.csn, 3, S_UPDATED);
	assert_moved(&k, 0, 0, 0);
	tenv_assert_done_once(&env, unlock);
	unlock = queue(p.c.csn, "unlock %s", DEMO_APP);
	precomputed_op(&c1, &p.c, unlock, S_UPDATED);
	tenv_assert_agree_check(&env, &p.c, SELECTABLE);
	tconn_close(&c1);
	tconn_close(&c2);
	pcard_free(&p);
}

/*
 * The reply to the first POST lost (the link drops before the agent
 * reads it): the operations were marked running and the card saw
 * nothing. The agent starts again (a new session, same hint): not
 * pre-computed (running operations are settled first), the registry is
 * read, the install done once; the abandoned session changes nothing
 * when it expires.
 */
static void
test_precompute_first_reply_lost(void **state)
{
	struct tconn c;
	struct pcard p;
	struct counters k;
	struct tsess s;
	unsigned long long expired;
	int64_t id;

	(void)state;
	tconn_agent(&c, &env, "kiosk-1");
	known_card(&c, &p, 0x71);
	id = queue(p.c.csn, "install %s", demo);
	counters(&k);
	p.tap.n = 0;
	assert_int_equal(tconn_send_hint(&c, p.c.csn, NULL, NULL, 0, NULL,
	    0), 0);
	assert_int_equal(tconn_wait_reply(&c, 5000), 0);
	tconn_drop(&c);
	assert_moved(&k, 1, 0, 0);
	tenv_assert_op(&env, id, "running");
	assert_int_equal(p.tap.n, 0);		/* the card saw nothing */
	expired = tenv_metric(&env, M_EXPIRED);
	tconn_agent(&c, &env, "kiosk-1");
	counters(&k);
	run(&c, &p.c, p.c.csn, &s);
	assert_int_equal(s.expects[0], 0);
	assert_string_equal(s.result, S_INSTALLED);
	assert_int_equal(s.exchanges, 4);	/* read, then the job */
	assert_moved(&k, 0, 0, 0);
	tenv_assert_done_once(&env, id);
	assert_int_equal(p.tap.install_app, 1);
	wait_expired(expired);
	tenv_assert_done_audited(&env, id);
	assert_settled(&p, SELECTABLE);
	tconn_close(&c);
	pcard_free(&p);
}

/*
 * tsmd killed (SIGKILL) once a pre-computed script has left, with the
 * card running it (ran: the whole script; or not at all), then started
 * again: the next contact (hint as ever) reads the registry and settles
 * the install, done once, card and store agree.
 */
static void
kill9_case(unsigned n, int ran)
{
	struct tconn c;
	struct pcard p;
	struct tstep st;
	struct tsess s;
	int64_t id;

	tconn_agent(&c, &env, "kiosk-1");
	known_card(&c, &p, n);
	id = queue(p.c.csn, "install %s", demo);
	assert_int_equal(tstep_init(&st, &p.c), 0);
	st.hint = p.c.csn;
	if (!ran) {
		st.cut_script = 1;	/* pulled before the first command */
		st.cut_index = 0;
		st.cut_mode = SIM_TEAR_BEFORE;
	}
	assert_int_equal(tstep_send(&c, &st, 0), 0);
	assert_int_equal(tstep_recv(&c, &st), 0);
	assert_int_equal(st.code, 200);
	assert_int_equal(st.expects[0], 1);
	tstep_free(&st);
	tenv_assert_op(&env, id, "running");
	tenv_tsmd_kill9(&env);
	tconn_drop(&c);
	assert_int_equal(p.tap.install_app, ran ? 1 : 0);
	tenv_assert_op(&env, id, "running");	/* what the kill left */
	tconn_agent(&c, &env, "kiosk-1");
	run(&c, &p.c, p.c.csn, &s);
	assert_int_equal(s.expects[0], 0);	/* settled first */
	assert_string_equal(s.result, S_INSTALLED);
	assert_int_equal(s.exchanges, ran ? 3 : 4);
	tenv_assert_done_once(&env, id);
	assert_int_equal(p.tap.install_app, 1);
	assert_settled(&p, SELECTABLE);
	tconn_close(&c);
	pcard_free(&p);
}

static void
test_precompute_kill9(void **state)
{
	(void)state;
	kill9_case(0x72, 1);
	kill9_case(0x73, 0);
}

/*
 * Two store cards sharing a KDD (so their keys, and their answers at the
 * same counter): never pre-computed, the agent's check could not tell
 * them apart. The card is served the ordinary way.
 */
static void
test_precompute_shared_kdd(void **state)
{
	struct tconn c;
	struct pcard p;
	struct tcard twin;
	struct counters k;
	int64_t id;

	(void)state;
	tconn_agent(&c, &env, "kiosk-1");
	known_card(&c, &p, 0x74);
	assert_channel_known(&p);
	/* Another inventory entry with the same KDD. */
	assert_int_equal(tcard_new(&env, 0x74, 1, "4790504000000074F0F0",
	    &twin), 0);
	id = queue(p.c.csn, "lock %s", DEMO_APP);
	counters(&k);
	discovery(&c, &p.c, p.c.csn, 3, "1 change could not be made.");
	assert_moved(&k, 0, 0, 0);
	tenv_assert_op(&env, id, "failed");	/* nothing installed */
	tcard_free(&twin);
	tconn_close(&c);
	pcard_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precompute_after_first_session),
		cmocka_unit_test(test_precompute_not_eligible),
		cmocka_unit_test(test_precompute_found_by_kdd),
		cmocka_unit_test(test_precompute_rotation),
		cmocka_unit_test(test_precompute_counter_moved),
		cmocka_unit_test(test_precompute_wrong_card),
		cmocka_unit_test(test_precompute_bad_hint),
		cmocka_unit_test(test_precompute_power_cut),
		cmocka_unit_test(test_precompute_link_lost),
		cmocka_unit_test(test_precompute_other_agent),
		cmocka_unit_test(test_precompute_first_reply_lost),
		cmocka_unit_test(test_precompute_kill9),
		cmocka_unit_test(test_precompute_shared_kdd),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
