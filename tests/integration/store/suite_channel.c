/*
 * The card's secure-channel record (card_channel, ops.h): written by a
 * session end in the same transaction as the outcomes, replaced by the
 * next one, dropped after a key rotation (scp 0), read back exactly, and
 * never shared between cards. tsmd pre-computes sessions from it.
 */
#include <string.h>

#include "store/ops.h"
#include "suite.h"

static int64_t
card_id(struct tsm_store *s, const char *csn)
{
	struct tsm_card c;

	assert_int_equal(tsm_store_card_get(s, csn, &c), 0);
	return c.id;
}

/* A session on card id ending with ch (NULL: no channel news). */
static int
end_with(struct tsm_store *s, const char *sid, int64_t id, const char *csn,
    const struct tsm_card_channel *ch)
{
	struct tsm_session_end e;

	assert_int_equal(tsm_store_session_begin(s, sid, id, "kiosk-1", NULL,
	    0), 0);
	memset(&e, 0, sizeof(e));
	e.sid = sid;
	e.state = "done";
	e.card_id = id;
	e.csn = csn;
	e.agent = "kiosk-1";
	e.channel = ch;
	return tsm_store_session_end(s, &e);
}

static void
test_channel_roundtrip(void **state)
{
	struct tsm_card_channel in = { .kvn = 0x30, .scp = 3, .i = 0x70,
	    .seq = 0xFFFFFE, .agent = "" }, out;
	struct tsm_store *s;
	char url[512];
	int64_t a, b;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "C3", 2);
	a = card_id(s, "C300000000");
	b = card_id(s, "C300000001");
	assert_int_equal(tsm_store_card_channel(s, a, &out),
	    TSM_STORE_ERR_NOTFOUND);
	assert_int_equal(end_with(s, "s1", a, "C300000000", &in), 0);
	assert_int_equal(tsm_store_card_channel(s, a, &out), 0);
	assert_int_equal(out.kvn, 0x30);
	assert_int_equal(out.scp, 3);
	assert_int_equal(out.i, 0x70);
	assert_int_equal(out.seq, 0xFFFFFE);
	assert_string_equal(out.agent, "kiosk-1");
	/* Another card has none. */
	assert_int_equal(tsm_store_card_channel(s, b, &out),
	    TSM_STORE_ERR_NOTFOUND);
	/* A session without channel news leaves the record alone. */
	assert_int_equal(end_with(s, "s2", a, "C300000000", NULL), 0);
	assert_int_equal(tsm_store_card_channel(s, a, &out), 0);
	assert_int_equal(out.seq, 0xFFFFFE);
	/* The next one replaces it: still one row. */
	in.seq = 7;
	in.kvn = 0x31;
	assert_int_equal(end_with(s, "s3", a, "C300000000", &in), 0);
	assert_int_equal(tsm_store_card_channel(s, a, &out), 0);
	assert_int_equal(out.seq, 7);
	assert_int_equal(out.kvn, 0x31);
	assert_int_equal(suite_count(s, "SELECT COUNT(*) FROM card_channel"),
	    1);
	tsm_store_close(s);
}

static void
test_channel_forget(void **state)
{
	struct tsm_card_channel in = { .kvn = 0x30, .scp = 3, .i = 0x70,
	    .seq = 5, .agent = "" }, gone, out;
	struct tsm_store *s;
	char url[512];
	int64_t a;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "C4", 1);
	a = card_id(s, "C400000000");
	assert_int_equal(end_with(s, "s1", a, "C400000000", &in), 0);
	/* After a key rotation: scp 0 drops the record. */
	memset(&gone, 0, sizeof(gone));
	assert_int_equal(end_with(s, "s2", a, "C400000000", &gone), 0);
	assert_int_equal(tsm_store_card_channel(s, a, &out),
	    TSM_STORE_ERR_NOTFOUND);
	assert_int_equal(suite_count(s, "SELECT COUNT(*) FROM card_channel"),
	    0);
	tsm_store_close(s);
}

/* A row out of range (written by hand) is a database error, not a
 * counter tsmd would trust. */
static void
test_channel_bad_row(void **state)
{
	struct tsm_card_channel out;
	struct tsm_store *s;
	char url[512], sql[256];
	int64_t a;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "C5", 1);
	a = card_id(s, "C500000000");
	snprintf(sql, sizeof(sql), "INSERT INTO card_channel (card_id, kvn, "
	    "scp, scp_i, seq, agent, updated) VALUES (%lld, 48, 3, 112, "
	    "16777216, 'kiosk-1', 0)", (long long)a);
	suite_raw(s, sql);
	assert_int_equal(tsm_store_card_channel(s, a, &out),
	    TSM_STORE_ERR_DB);
	tsm_store_close(s);
}

/* The operation's state and attempts (-1: not checked). */
static void
assert_op_row(struct tsm_store *s, int64_t id, const char *state,
    int attempts)
{
	struct tsm_op op;

	assert_int_equal(tsm_store_op_get(s, id, &op), 0);
	assert_string_equal(op.state, state);
	if (attempts >= 0)
		assert_int_equal(op.attempts, attempts);
	tsm_op_clear(&op);
}

/* Session sid of agent on card a ends (state) with operation id in
 * op_state; unsent: its script never reached the card (2: the operation
 * was refused while planning, and so never sent). */
static void
end_op_session(struct tsm_store *s, const char *sid, const char *state,
    int64_t a, const char *csn, const char *agent, int64_t id,
    const char *op_state, int unsent)
{
	struct tsm_op_outcome oc = { .op_id = id, .state = op_state,
	    .result = unsent == 2 ? "CAP file refused" : NULL,
	    .refused = unsent == 2 };
	struct tsm_session_end e;

	memset(&e, 0, sizeof(e));
	e.sid = sid;
	e.state = state;
	e.card_id = a;
	e.csn = csn;
	e.agent = agent;
	e.ops = &oc;
	e.nops = 1;
	e.unsent = unsent == 1;
	assert_int_equal(tsm_store_session_end(s, &e), 0);
}

static int64_t
queue_lock(struct tsm_store *s, const char *csn, const char *idem)
{
	int64_t id;
	int existed;

	assert_int_equal(tsm_store_op_queue(s, csn, "lock",
	    "{\"aid\":\"A000000001\"}", idem, "test", &id, &existed), 0);
	return id;
}

/* A pre-computed script the card did not match: its operations go back
 * to the queue without counting an attempt; a real outcome still moves
 * them as before. */
static void
test_unsent_requeue(void **state)
{
	struct tsm_store *s;
	char url[512];
	int64_t a, id;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "C6", 1);
	a = card_id(s, "C600000000");
	id = queue_lock(s, "C600000000", "unsent-1");
	assert_int_equal(tsm_store_session_begin(s, "p1", a, "kiosk-1", &id,
	    1), 0);
	assert_op_row(s, id, "running", 1);
	end_op_session(s, "p1", "missed", a, "C600000000", "kiosk-1", id,
	    "queued", 1);
	assert_op_row(s, id, "queued", 0);
	/* The next session runs it: one attempt, done. */
	assert_int_equal(tsm_store_session_begin(s, "p1-2", a, "kiosk-1", &id,
	    1), 0);
	end_op_session(s, "p1-2", "done", a, "C600000000", "kiosk-1", id,
	    "done", 0);
	assert_op_row(s, id, "done", 1);
	/* A late "unsent" writer cannot pull a finished operation back. */
	end_op_session(s, "p1", "missed", a, "C600000000", "kiosk-1", id,
	    "queued", 1);
	assert_op_row(s, id, "done", -1);
	tsm_store_close(s);
}

/* A card is pre-computed for only when its KDD is its own. */
static void
test_kdd_sole(void **state)
{
	struct tsm_store *s;
	char url[512];

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "C9", 3);
	suite_raw(s, "UPDATE cards SET kdd = '00000000000000000001' WHERE "
	    "csn = 'C900000000'");
	suite_raw(s, "UPDATE cards SET kdd = '00000000000000000002' WHERE "
	    "csn IN ('C900000001', 'C900000002')");
	assert_int_equal(tsm_store_card_kdd_sole(s, "00000000000000000001",
	    "C900000000"), 0);
	/* Another card's KDD, and one two cards share. */
	assert_int_equal(tsm_store_card_kdd_sole(s, "00000000000000000001",
	    "C900000001"), TSM_STORE_ERR_NOTFOUND);
	assert_int_equal(tsm_store_card_kdd_sole(s, "00000000000000000002",
	    "C900000001"), TSM_STORE_ERR_EXISTS);
	assert_int_equal(tsm_store_card_kdd_sole(s, "00000000000000000003",
	    "C900000000"), TSM_STORE_ERR_NOTFOUND);
	assert_int_equal(tsm_store_card_kdd_sole(s, "", "C900000000"),
	    TSM_STORE_ERR_INVAL);
	tsm_store_close(s);
}

/* An operation refused while planning was never marked running: the
 * session end takes it from queued to failed, with its reason; a refusal
 * never moves one that another session has taken meanwhile. */
static void
test_refused(void **state)
{
	struct tsm_store *s;
	struct tsm_op op;
	char url[512];
	int64_t a, id, id2;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "C8", 1);
	a = card_id(s, "C800000000");
	id = queue_lock(s, "C800000000", "refused-1");
	assert_int_equal(tsm_store_session_begin(s, "r1", a, "kiosk-1", NULL,
	    0), 0);
	end_op_session(s, "r1", "done", a, "C800000000", "kiosk-1", id,
	    "failed", 2);
	assert_op_row(s, id, "failed", 0);
	assert_int_equal(tsm_store_op_get(s, id, &op), 0);
	assert_string_equal(op.result, "CAP file refused");
	tsm_op_clear(&op);
	/* Without the flag, a queued operation does not move. */
	id2 = queue_lock(s, "C800000000", "refused-2");
	end_op_session(s, "r1", "done", a, "C800000000", "kiosk-1", id2,
	    "failed", 0);
	assert_op_row(s, id2, "queued", 0);
	/* Taken by another session: a late refusal leaves it running. */
	assert_int_equal(tsm_store_session_begin(s, "r2", a, "kiosk-1", &id2,
	    1), 0);
	end_op_session(s, "r1", "done", a, "C800000000", "kiosk-1", id2,
	    "failed", 2);
	assert_op_row(s, id2, "running", 1);
	tsm_store_close(s);
}

/*
 * Two sessions on one card (two agents, one of them pre-computing on a
 * hint): the claim takes queued operations only and writes nothing
 * otherwise; a miss puts back only what its own session holds; a
 * finished operation is never marked running again.
 */
static void
test_claim_ownership(void **state)
{
	struct tsm_store *s;
	char url[512];
	int64_t a, id;

	(void)state;
	s = suite_fresh(url, sizeof(url));
	suite_cards(s, "C7", 1);
	a = card_id(s, "C700000000");
	id = queue_lock(s, "C700000000", "claim-1");
	/* Session s1 runs it (normal flow). */
	assert_int_equal(tsm_store_session_begin(s, "s1", a, "kiosk-1", &id,
	    1), 0);
	/* s2's pre-computed claim: refused, and no row of s2 written. */
	assert_int_equal(tsm_store_session_claim(s, "s2", a, "kiosk-2", &id,
	    1), TSM_STORE_ERR_NOTFOUND);
	assert_int_equal(suite_count(s, "SELECT COUNT(*) FROM sessions WHERE "
	    "id = 's2'"), 0);
	/* s2's miss (as if it had claimed): s1's operation stays running. */
	end_op_session(s, "s2", "missed", a, "C700000000", "kiosk-2", id,
	    "queued", 1);
	assert_op_row(s, id, "running", 1);
	/* s1 finishes it; nobody marks it running again. */
	end_op_session(s, "s1", "done", a, "C700000000", "kiosk-1", id,
	    "done", 0);
	assert_int_equal(tsm_store_ops_running(s, "s3", a, &id, 1),
	    TSM_STORE_ERR_NOTFOUND);
	assert_int_equal(tsm_store_session_begin(s, "s4", a, "kiosk-1", &id,
	    1), TSM_STORE_ERR_NOTFOUND);
	assert_op_row(s, id, "done", 1);
	tsm_store_close(s);
}

const struct CMUnitTest suite_channel[] = {
	cmocka_unit_test(test_claim_ownership),
	cmocka_unit_test(test_unsent_requeue),
	cmocka_unit_test(test_refused),
	cmocka_unit_test(test_kdd_sole),
	cmocka_unit_test(test_channel_roundtrip),
	cmocka_unit_test(test_channel_forget),
	cmocka_unit_test(test_channel_bad_row),
};
const size_t suite_channel_n = sizeof(suite_channel) /
    sizeof(suite_channel[0]);
