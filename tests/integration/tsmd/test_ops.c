/*
 * tsmd's card-level and data operations end to end (docs/tsmd.md): key
 * rotation from transport keys to issuer keys with INITIALIZED ->
 * SECURED, personalisation (STORE DATA, sensitive DGIs encrypted by
 * tsm-keyd) read back from the card, suspend / resume / terminate with the
 * card's life cycle checked, and refresh of the registry. After every
 * session the card's registry (read by the test with its own secure
 * channel) equals the store's instances. Install payloads: the CAP by
 * SHA-256 from the store, the older form with the CAP in hex, and a store
 * whose bytes no longer match the payload.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"
#include "gp/apdu.h"
#include "gp/cmd.h"
#include "keys.h"
#include "store/ops.h"
#include "store/store_int.h"
#include "tsmd_env.h"

#define DEMO_APP	"D27600017754534D0101"
#define ISSUER_KVN	0x31

static struct tsmd_env env;
static char demo[256];

static int
setup(void **state)
{
	int r;

	(void)state;
	if (tenv_start(&env) != 0)
		return -1;
	if ((r = tenv_issuer_import(&env, ISSUER_KVN)) != 0) {
		fprintf(stderr, "issuer key import: %s\n", keys_strerror(r));
		return -1;
	}
	return tenv_demo_cap(&env, demo, sizeof(demo)) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return tenv_stop(&env);
}

/* A new card numbered n, connected over c, the demo installed on it. */
static void
installed_card(struct tconn *c, struct tcard *card, unsigned n)
{
	assert_int_equal(tcard_new(&env, n, 1, NULL, card), 0);
	tconn_agent(c, &env, "kiosk-1");
	tenv_queue(&env, card->csn, NULL, "install %s", demo);
	tsession_expect(c, card, 3, "Installed 1 application.");
}

/* Queues what, runs a session of 3 exchanges that ends with result, and
 * finds the operation in state. */
static void
op_run(struct tconn *c, struct tcard *card, const char *what,
    const char *result, const char *state)
{
	int64_t id;

	id = tenv_queue(&env, card->csn, NULL, "%s", what);
	tsession_expect(c, card, 3, result);
	tenv_assert_op(&env, id, state);
}

static uint8_t
card_lc(struct tcard *card)
{
	struct sim_stats st;

	sim_card_stats(card->sim, &st);
	return st.lifecycle;
}

static void
store_card(const char *csn, struct tsm_card *k)
{
	struct tsm_store *s;

	assert_int_equal(tsm_store_open(&s, env.db, NULL), 0);
	assert_int_equal(tsm_store_card_get(s, csn, k), 0);
	tsm_store_close(s);
}

/*
 * The card as it leaves personalisation at the factory: INITIALIZED
 * (libcardsim's profiles are SECURED; its image is edited, as a
 * pre-issuance card would be).
 */
static void
make_initialized(struct tcard *card, unsigned n)
{
	struct sim_opts so;
	char path[300], *buf, *p;
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "%s/card-%u.json", env.dir, n);
	memset(&so, 0, sizeof(so));
	so.state_path = path;
	assert_int_equal(tcard_sim_open(card, path), 0);
	sim_card_free(card->sim);
	card->sim = NULL;
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(buf = calloc(1, 64 * 1024));
	len = fread(buf, 1, 64 * 1024 - 1, f);
	fclose(f);
	assert_true(len > 0);
	/* The card's own life cycle is the first "lifecycle" (put_card). */
	assert_non_null(p = strstr(buf, "\"lifecycle\""));
	p += strlen("\"lifecycle\"");
	while (*p == ':' || *p == ' ' || *p == '\t')
		p++;
	assert_int_equal(strncmp(p, "15", 2), 0);
	p[0] = ' ';
	p[1] = '7';
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	free(buf);
	assert_int_equal(sim_card_open(&so, &card->sim), 0);
	assert_int_equal(card_lc(card), 0x07);
}

/*
 * The store learns the card's life cycle as a session records it.
 * (libcardsim reports the ISD's life cycle as 00 after a power cycle:
 * its image does not keep it; a GET STATUS cannot tell tsmd here.)
 */
static void
store_knows_lc(const char *csn, const char *gp_state)
{
	struct tsm_session_end e;
	struct tsm_store *s;
	struct tsm_card k;
	char sid[80];

	store_card(csn, &k);
	snprintf(sid, sizeof(sid), "TEST-LC-%s", csn);
	assert_int_equal(tsm_store_open(&s, env.db, NULL), 0);
	assert_int_equal(tsm_store_session_begin(s, sid, k.id, "test", NULL,
	    0), 0);
	memset(&e, 0, sizeof(e));
	e.sid = sid;
	e.state = "done";
	e.card_id = k.id;
	e.csn = csn;
	e.agent = "test";
	e.card_gp_state = gp_state;
	assert_int_equal(tsm_store_session_end(s, &e), 0);
	tsm_store_close(s);
	store_card(csn, &k);
	assert_string_equal(k.gp_state, gp_state);
}

/* The card's keys as the test must now use them: the issuer's. */
static void
to_issuer_keys(struct tcard *card)
{
	assert_int_equal(tcard_issuer_keys(card), 0);
}

static void
assert_store_keys(struct tcard *card, int want_kvn)
{
	struct tsm_store *s;
	struct tsm_card k;
	char kcv[3][7], hex[3][7];
	uint8_t b[3];
	int kvn = -1;

	store_card(card->csn, &k);
	assert_int_equal(tsm_store_open(&s, env.db, NULL), 0);
	assert_int_equal(tsm_store_card_kvn(s, k.id, &kvn, kcv), 0);
	tsm_store_close(s);
	assert_int_equal(kvn, want_kvn);
	assert_int_equal(gp_kcv_aes(card->ks.enc, 16, b), 0);
	gp_hex_encode(b, 3, hex[0]);
	assert_int_equal(gp_kcv_aes(card->ks.mac, 16, b), 0);
	gp_hex_encode(b, 3, hex[1]);
	assert_int_equal(gp_kcv_aes(card->ks.dek, 16, b), 0);
	gp_hex_encode(b, 3, hex[2]);
	assert_string_equal(kcv[0], hex[0]);
	assert_string_equal(kcv[1], hex[1]);
	assert_string_equal(kcv[2], hex[2]);
}

/* The rotation id ran in a session of that many exchanges: done, and
 * the card SECURED. */
static void
rotated(struct tconn *c, struct tcard *card, int64_t id, int exchanges)
{
	tsession_expect(c, card, exchanges,
	    "Your card's security was updated.");
	tenv_assert_op(&env, id, "done");
	assert_int_equal(card_lc(card), 0x0F);
}

/* The card on the issuer keys, as the store records them; the test's own
 * channel now needs them too: nothing installed. */
static void
on_issuer_keys(struct tcard *card)
{
	to_issuer_keys(card);
	assert_store_keys(card, ISSUER_KVN);
	tenv_assert_agree(&env, card, "");
}

/*
 * First contact with an INITIALIZED card on transport keys: PUT KEY of
 * the issuer keys and SET STATUS SECURED in one script; the store records
 * the issuer key version and its KCVs; the next session opens with the
 * issuer keys and installs.
 */
static void
test_rotate_then_install(void **state)
{
	struct tconn c;
	struct tcard card;
	struct tsm_card k;
	struct tsm_store *s;
	int64_t id;
	int kvn;

	(void)state;
	assert_int_equal(tcard_new(&env, 21, 1, NULL, &card), 0);
	make_initialized(&card, 21);
	store_knows_lc(card.csn, "INITIALIZED");
	store_card(card.csn, &k);
	assert_int_equal(k.transport_kv, ENV_KVN);
	assert_int_equal(tsm_store_open(&s, env.db, NULL), 0);
	assert_int_equal(tsm_store_card_kvn(s, k.id, &kvn, NULL),
	    TSM_STORE_ERR_NOTFOUND);
	tsm_store_close(s);
	id = tenv_queue(&env, card.csn, NULL, "rotate --label isd --version %d",
	    ISSUER_KVN);
	tconn_agent(&c, &env, "kiosk-1");
	rotated(&c, &card, id, 3);
	store_card(card.csn, &k);
	assert_string_equal(k.gp_state, "SECURED");
	on_issuer_keys(&card);
	/* Queued again: the same operation, already done. */
	assert_int_equal(tenv_queue(&env, card.csn, NULL, "rotate --version %d",
	    ISSUER_KVN), id);
	tenv_queue(&env, card.csn, NULL, "install %s", demo);
	tsession_expect(&c, &card, 3, "Installed 1 application.");
	tenv_assert_agree(&env, &card, DEMO_APP ":selectable");
	tconn_close(&c);
	tcard_free(&card);
}

/*
 * The store does not know the card's life cycle: the registry is read
 * first (4 exchanges). This SECURED card only gets its keys.
 */
static void
test_rotate_read_first(void **state)
{
	struct tconn c;
	struct tcard card;
	int64_t id;

	(void)state;
	assert_int_equal(tcard_new(&env, 26, 1, NULL, &card), 0);
	id = tenv_queue(&env, card.csn, NULL, "rotate --version %d",
	    ISSUER_KVN);
	tconn_agent(&c, &env, "kiosk-1");
	rotated(&c, &card, id, 4);
	on_issuer_keys(&card);
	tsession_expect(&c, &card, 2, "Your card is up to date.");
	tconn_close(&c);
	tcard_free(&card);
}

/*
 * The card is pulled right after PUT KEY: the rotation is uncertain. The
 * next session finds the card answering with the issuer keys, reads the
 * registry, and only sets SECURED: nothing is done twice.
 */
static void
test_rotate_interrupted(void **state)
{
	struct tconn c;
	struct tcard card;
	struct tsess ss;
	int64_t id;

	(void)state;
	assert_int_equal(tcard_new(&env, 22, 1, NULL, &card), 0);
	make_initialized(&card, 22);
	tconn_agent(&c, &env, "kiosk-1");
	store_knows_lc(card.csn, "INITIALIZED");
	id = tenv_queue(&env, card.csn, NULL, "rotate --version %d",
	    ISSUER_KVN);
	memset(&ss, 0, sizeof(ss));
	ss.stop_after = 2;	/* EXTERNAL AUTHENTICATE, PUT KEY */
	assert_int_equal(tsession_run(&c, &card, &ss), 0);
	assert_int_equal(ss.exchanges, 3);
	tenv_assert_op(&env, id, "uncertain");
	assert_int_equal(card_lc(&card), 0x07);
	rotated(&c, &card, id, 4);
	on_issuer_keys(&card);
	tconn_close(&c);
	tcard_free(&card);
}

/* SELECT the instance, GET DATA of one DGI (libcardsim's applet). */
static void
get_dgi(struct tcard *card, uint16_t tag, const char *want_hex)
{
	uint8_t cmd[32], rsp[300];
	char hex[600];
	size_t rl, n;
	uint8_t aid[16];

	assert_int_equal(gp_hex_decode(DEMO_APP, aid, sizeof(aid), &n), 0);
	cmd[0] = 0x00;
	cmd[1] = 0xA4;
	cmd[2] = 0x04;
	cmd[3] = 0x00;
	cmd[4] = (uint8_t)n;
	memcpy(cmd + 5, aid, n);
	cmd[5 + n] = 0x00;
	assert_int_equal(sim_card_transmit(card->sim, cmd, 6 + n, rsp,
	    sizeof(rsp), &rl), 0);
	assert_true(rl >= 2);
	assert_int_equal(rsp[rl - 2] << 8 | rsp[rl - 1], 0x9000);
	cmd[0] = 0x80;
	cmd[1] = 0xCA;
	cmd[2] = (uint8_t)(tag >> 8);
	cmd[3] = (uint8_t)tag;
	cmd[4] = 0x00;
	assert_int_equal(sim_card_transmit(card->sim, cmd, 5, rsp,
	    sizeof(rsp), &rl), 0);
	assert_true(rl >= 2);
	assert_int_equal(rsp[rl - 2] << 8 | rsp[rl - 1], 0x9000);
	gp_hex_encode(rsp, rl - 2, hex);
	assert_string_equal(hex, want_hex);
}

static void
test_personalise(void **state)
{
	struct tconn c;
	struct tcard card;
	char path[300], big[2 * 250 + 1], out[256];
	const char *pin = "0412345FFFFFFFFF0A0B0C0D0E0F1011";
	int64_t id;
	FILE *f;
	size_t i;

	(void)state;
	for (i = 0; i < 250; i++)
		snprintf(big + 2 * i, 3, "%02X", (unsigned)(i & 0xFF));
	snprintf(path, sizeof(path), "%s/perso.dgi", env.dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "# demo personalisation\n0101 = 5A08 4761739001010010\n"
	    "\n0102=%s\n8010=%s\n!0202=00112233445566778899AABBCCDDEEFF\n",
	    big, pin);
	fclose(f);
	installed_card(&c, &card, 23);
	tenv_assert_agree(&env, &card, DEMO_APP ":selectable");
	id = tenv_queue(&env, card.csn, NULL, "personalise %s %s", DEMO_APP,
	    path);
	/* The same data again: the same operation. */
	assert_int_equal(tenv_queue(&env, card.csn, NULL, "personalise %s %s",
	    DEMO_APP, path), id);
	tsession_expect(&c, &card, 3, "Updated 1 application.");
	tenv_assert_op(&env, id, "done");
	tenv_assert_agree(&env, &card, DEMO_APP ":app_specific");
	get_dgi(&card, 0x0101, "5A084761739001010010");
	get_dgi(&card, 0x0102, big);
	get_dgi(&card, 0x8010, pin);
	get_dgi(&card, 0x0202, "00112233445566778899AABBCCDDEEFF");
	/* A malformed file is refused by tsmctl, naming the line. */
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "0101=5A\n01=00\n");
	fclose(f);
	assert_int_not_equal(tenv_tsmctl(&env, out, sizeof(out), "op queue "
	    "--card %s personalise %s %s", card.csn, DEMO_APP, path), 0);
	assert_non_null(strstr(out, ":2: not TTTT=HEX"));
	tconn_close(&c);
	tcard_free(&card);
}

static void
test_suspend_resume_terminate(void **state)
{
	struct tconn c;
	struct tcard card;
	struct tsm_card k;

	(void)state;
	installed_card(&c, &card, 24);
	assert_int_equal(card_lc(&card), 0x0F);
	op_run(&c, &card, "suspend", "Your card is suspended.", "done");
	assert_int_equal(card_lc(&card), 0x7F);
	store_card(card.csn, &k);
	assert_string_equal(k.gp_state, "CARD_LOCKED");
	tenv_assert_agree(&env, &card, DEMO_APP ":selectable");
	/* CARD_LOCKED: the card refuses a DELETE, which fails. */
	op_run(&c, &card, "delete " DEMO_APP, "1 change could not be made.",
	    "failed");
	op_run(&c, &card, "resume", "Your card is active again.", "done");
	assert_int_equal(card_lc(&card), 0x0F);
	store_card(card.csn, &k);
	assert_string_equal(k.gp_state, "SECURED");
	tenv_assert_agree(&env, &card, DEMO_APP ":selectable");
	/* Already active: done without a command. */
	op_run(&c, &card, "resume", "Your card is active again.", "done");
	op_run(&c, &card, "terminate", "Your card has been terminated.",
	    "done");
	assert_int_equal(card_lc(&card), 0xFF);
	store_card(card.csn, &k);
	assert_string_equal(k.gp_state, "TERMINATED");
	assert_int_equal(k.state, TSM_CARD_TERMINATED);
	tsession_expect(&c, &card, 2, "This card has been terminated.");
	tconn_close(&c);
	tcard_free(&card);
}

/* Open a secure channel of the test's own and send one command. */
static uint16_t
card_admin(struct tcard *card, const uint8_t *plain, size_t n)
{
	static const uint8_t sel[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0,
	    0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0x00 };
	uint8_t hc[8] = { 8, 7, 6, 5, 4, 3, 2, 1 }, buf[300], rsp[300];
	struct gp_scp scp;
	struct gp_wr w;
	size_t rl;
	uint16_t sw = 0;

	memset(&scp, 0, sizeof(scp));
	assert_int_equal(sim_card_reset(card->sim), 0);
	assert_int_equal(sim_card_transmit(card->sim, sel, sizeof(sel), rsp,
	    sizeof(rsp), &rl), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_scp_host_init(&scp, 3, 0x70, 8, 0, hc, &w), 0);
	assert_int_equal(sim_card_transmit(card->sim, w.p, w.len, rsp,
	    sizeof(rsp), &rl), 0);
	assert_int_equal(gp_scp_host_auth(&scp, &card->ks, rsp, rl - 2), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_scp_host_ext_auth(&scp, GP_SL_CMAC, &w), 0);
	assert_int_equal(sim_card_transmit(card->sim, w.p, w.len, rsp,
	    sizeof(rsp), &rl), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_scp_wrap(&scp, plain, n, &w), 0);
	assert_int_equal(sim_card_transmit(card->sim, w.p, w.len, rsp,
	    sizeof(rsp), &rl), 0);
	if (rl >= 2)
		sw = (uint16_t)(rsp[rl - 2] << 8 | rsp[rl - 1]);
	gp_scp_free(&scp);
	return sw;
}

/* Someone else changed the card: refresh brings the store in line. */
static void
test_refresh(void **state)
{
	struct tconn c;
	struct tcard card;
	uint8_t buf[64], aid[16];
	struct gp_wr w;
	char out[512];
	size_t n;
	int64_t id;

	(void)state;
	installed_card(&c, &card, 25);
	tenv_assert_agree(&env, &card, DEMO_APP ":selectable");
	/* Locked behind tsmd's back. */
	assert_int_equal(gp_hex_decode(DEMO_APP, aid, sizeof(aid), &n), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_set_status(GP_SETSTATUS_APP, 0x80, aid, n,
	    &w), 0);
	assert_int_equal(card_admin(&card, w.p, w.len), 0x9000);
	id = tenv_queue(&env, card.csn, NULL, "refresh");
	/* Registry read (exchange 2), nothing else to do. */
	tsession_expect(&c, &card, 3, "Your card is up to date.");
	tenv_assert_op(&env, id, "done");
	tenv_assert_agree(&env, &card, DEMO_APP ":locked");
	assert_int_equal(tenv_tsmctl(&env, out, sizeof(out), "op show %lld",
	    (long long)id), 0);
	assert_non_null(strstr(out, "1 application(s) on the card, 1 "
	    "updated in the store, 0 unknown to the store"));
	tconn_close(&c);
	tcard_free(&card);
}

/* One statement on the test's store: a BLOB or text, a text, an id. */
static void
store_exec(const char *sql, const void *a, size_t alen, const char *b,
    int64_t id)
{
	struct tsm_store *s;
	struct tsm_val v[3];

	assert_int_equal(tsm_store_open(&s, env.db, NULL), 0);
	v[0] = alen > 0 ? tsm_v_blob(a, alen) : tsm_v_text(a);
	v[1] = tsm_v_text(b);
	v[2] = tsm_v_int(id);
	assert_int_equal(s->be->exec(s->db, sql, v, 3, NULL, NULL), 0);
	tsm_store_close(s);
}

/* The operation's payload, and the SHA-256 (hex) it names. */
static char *
op_payload(int64_t id, char sha[65])
{
	struct tsm_store *s;
	struct tsm_op op;
	const char *p;
	char *out;

	assert_int_equal(tsm_store_open(&s, env.db, NULL), 0);
	assert_int_equal(tsm_store_op_get(s, id, &op), 0);
	assert_non_null(p = strstr(op.payload, "\"cap_sha256\":\""));
	memcpy(sha, p + 14, 64);
	sha[64] = '\0';
	assert_non_null(out = strdup(op.payload));
	tsm_op_clear(&op);
	tsm_store_close(s);
	return out;
}

/* The payload with the CAP file in hex instead of its SHA-256, as
 * tsmctl wrote it before schema 0005. */
static char *
legacy_payload(const char *payload, const char *cap_path)
{
	uint8_t *cap;
	char *hex, *out;
	const char *rest;
	size_t n;
	FILE *f;

	assert_non_null(f = fopen(cap_path, "rb"));
	assert_non_null(cap = malloc(1 << 20));
	n = fread(cap, 1, 1 << 20, f);
	fclose(f);
	assert_true(n > 0);
	assert_non_null(hex = malloc(2 * n + 1));
	gp_hex_encode(cap, n, hex);
	assert_non_null(rest = strstr(payload, "\"package\""));
	assert_non_null(out = malloc(strlen(hex) + strlen(rest) + 16));
	sprintf(out, "{\"cap\":\"%s\",%s", hex, rest);
	free(hex);
	free(cap);
	return out;
}

static void
test_install_payload_forms(void **state)
{
	struct tconn c;
	struct tcard card, card2;
	char sha[65], cap2[300], out[1024], *p, *old;
	int64_t id;

	(void)state;
	/* The older form: the CAP file in hex in the payload. */
	assert_int_equal(tcard_new(&env, 27, 1, NULL, &card), 0);
	tconn_agent(&c, &env, "kiosk-1");
	id = tenv_queue(&env, card.csn, NULL, "install %s", demo);
	p = op_payload(id, sha);
	old = legacy_payload(p, demo);
	store_exec("UPDATE operations SET payload = ? WHERE ? IS NULL AND"
	    " id = ?", old, 0, NULL, id);
	tsession_expect(&c, &card, 3, "Installed 1 application.");
	tenv_assert_op(&env, id, "done");
	tenv_assert_agree(&env, &card, DEMO_APP ":selectable");
	free(old);
	free(p);
	/* A version whose stored bytes no longer hash to the payload's
	 * SHA-256 (a CAP tsmd has not parsed yet): the operation fails with
	 * the reason, nothing is loaded, and the card and store agree. */
	snprintf(cap2, sizeof(cap2), "%s/other.cap", env.dir);
	assert_int_equal(tenv_tsmctl(&env, NULL, 0, "cap demo %s "
	    "--package-aid D27600017754534D09 --applet-aid "
	    "D27600017754534D0901", cap2), 0);
	assert_int_equal(tcard_new(&env, 28, 1, NULL, &card2), 0);
	id = tenv_queue(&env, card2.csn, NULL, "install %s", cap2);
	free(op_payload(id, sha));
	store_exec("UPDATE app_versions SET cap = ? WHERE cap_sha256 = ?"
	    " AND id > ?", "not the file", 12, sha, 0);
	tsession_expect(&c, &card2, 3, "1 change could not be made.");
	tenv_assert_op(&env, id, "failed");
	tenv_assert_agree(&env, &card2, "");
	assert_int_equal(tenv_tsmctl(&env, out, sizeof(out), "op show %lld",
	    (long long)id), 0);
	assert_non_null(strstr(out, "CAP file refused"));
	tconn_close(&c);
	tcard_free(&card);
	tcard_free(&card2);
}

/*
 * A load file past 255 commands (273 LOAD blocks) for an agent that does
 * not announce more (this client sends no X-TSM-Script-Max): the install
 * cannot be sent to it and stays queued, nothing loaded, nothing lost.
 * (tsmd_agent's test installs the same kind of file with libtsmagent.)
 */
static void
test_install_past_255(void **state)
{
	struct tconn c;
	struct tcard card;
	char cap[300];
	int64_t id;

	(void)state;
	snprintf(cap, sizeof(cap), "%s/large.cap", env.dir);
	assert_int_equal(tenv_tsmctl(&env, NULL, 0, "cap demo %s "
	    "--package-aid D27600017754534D0B --table 65000", cap), 0);
	assert_int_equal(tcard_new(&env, 29, 1, NULL, &card), 0);
	tconn_agent(&c, &env, "kiosk-1");
	id = tenv_queue(&env, card.csn, NULL, "install %s", cap);
	tsession_expect(&c, &card, 3, "Your card is up to date.");
	tenv_assert_op(&env, id, "queued");
	tenv_assert_agree(&env, &card, "");
	tconn_close(&c);
	tcard_free(&card);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotate_then_install),
		cmocka_unit_test(test_rotate_read_first),
		cmocka_unit_test(test_rotate_interrupted),
		cmocka_unit_test(test_personalise),
		cmocka_unit_test(test_suspend_resume_terminate),
		cmocka_unit_test(test_refresh),
		cmocka_unit_test(test_install_payload_forms),
		cmocka_unit_test(test_install_past_255),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
