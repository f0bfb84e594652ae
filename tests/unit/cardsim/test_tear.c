/*
 * Tearing: the power is cut at every APDU index of an install (with
 * personalisation), a delete and a PUT KEY script, both during the APDU
 * (its writes lost) and after it (its response lost). After power-up the
 * registry and the memory must be consistent (GP: no half-loaded file, no
 * half-made instance, counters right) and the script must complete when
 * run again from the start, skipping what the card already holds.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/putkey.h"
#include "gp/registry.h"
#include "common.h"

#define CAPNAME	"kaoh_helloworld.cap"

static uint8_t perso[2 + 1 + 150];

struct tear {
	struct fx	 f;
	struct gp_cap	*cap;
	size_t		 mem_total;
};

static void
tear_setup(struct tear *t)
{
	struct sim_opts o = { .profile = "scp03-aes128" };
	struct sim_stats st;
	size_t k;

	memset(&t->f, 0, sizeof(t->f));
	assert_int_equal(sim_card_open(&o, &t->f.card), 0);
	sh_init(&t->f.h, fx_xmit, t->f.card);
	sh_default_keys(&t->f.ks, 16, 0x30);
	sim_card_stats(t->f.card, &st);
	t->mem_total = st.mem_total;
	perso[0] = 0x01;
	perso[1] = 0x01;
	perso[2] = 150;
	for (k = 3; k < sizeof(perso); k++)
		perso[k] = (uint8_t)k;
}

static void
tear_free(struct tear *t)
{
	sh_close(&t->f.h);
	sim_card_free(t->f.card);
	t->f.card = NULL;
}

/* GET STATUS: is the instance there, and in which state. */
static int
app_state(struct tear *t, uint8_t *lc)
{
	struct gp_registry_entry e[4];
	uint8_t cmd[32];
	struct gp_wr w;
	size_t n = 0;

	gp_wr_init(&w, cmd, sizeof(cmd));
	assert_int_equal(gp_cmd_get_status(GP_STATUS_APPS, GP_STATUS_TAGGED,
	    NULL, 0, &w), 0);
	if (sh_send_wr(&t->f.h, &w) != 0)
		return -1;
	if (t->f.h.sw == 0x6A88)
		return 0;
	assert_int_equal(gp_registry_parse(t->f.h.data, t->f.h.dlen, e, 4,
	    &n), 0);
	assert_int_equal(n, 1);
	*lc = e[0].lifecycle;
	return 1;
}

/* The install script, resumable: what the card holds is skipped. */
static int
run_install(struct tear *t)
{
	const struct gp_cap_aid *app = &t->cap->applets[0].aid;
	struct sim_stats st;
	uint8_t lc = 0;
	int r, have;

	if ((r = sh_open(&t->f.h, 3, 0x70, 8, 0, &t->f.ks, 0x33)) != 0)
		return r;
	sim_card_stats(t->f.card, &st);
	if (st.nelf == 1 && (r = sh_load(&t->f.h, t->cap, 200)) != 0)
		return r;
	if ((have = app_state(t, &lc)) < 0)
		return t->f.h.err;
	if (have == 0 && (r = sh_install(&t->f.h, t->cap->pkg.b,
	    t->cap->pkg.len, app->b, app->len, app->b, app->len,
	    GP_INSTALL_AND_SELECT)) != 0)
		return r;
	if (lc != 0x0F)
		return sh_perso(&t->f.h, app->b, app->len, perso,
		    sizeof(perso));
	return 0;
}

/* Consistent: file and instance each whole or absent, memory adds up. */
static void
check_install(struct tear *t)
{
	static const uint8_t gd[] = { 0x80, 0xCA, 0x01, 0x01, 0x00 };
	const struct gp_cap_aid *app = &t->cap->applets[0].aid;
	struct sim_stats st;
	char why[128];
	size_t used;
	uint8_t lc = 0;
	int have;

	assert_int_equal(sim_card_check(t->f.card, why, sizeof(why)), 0);
	sim_card_stats(t->f.card, &st);
	assert_true(st.nelf == 1 || st.nelf == 2);
	assert_true(st.napp <= 1 && (st.napp == 0 || st.nelf == 2));
	assert_int_equal(sh_open(&t->f.h, 3, 0x70, 8, 0, &t->f.ks, 0x33), 0);
	have = app_state(t, &lc);
	assert_int_equal(have, (int)st.napp);
	used = (st.nelf == 2 ? t->cap->lfdb_len : 0) + (have ? 128 : 0) +
	    (lc == 0x0F ? sizeof(perso) : 0);
	assert_int_equal(st.mem_free + used, t->mem_total);
	if (have && lc == 0x0F) {	/* personalised: all of it */
		assert_int_equal(sh_select(&t->f.h, app->b, app->len), 0);
		assert_int_equal(sh_sw(&t->f.h, gd, sizeof(gd)), 0x9000);
		assert_int_equal(t->f.h.dlen, 150);
		assert_memory_equal(t->f.h.data, perso + 3, 150);
	} else if (have)
		assert_int_equal(lc, 0x07);
}

static unsigned long
script_len(struct tear *t, int (*run)(struct tear *))
{
	struct sim_stats a, b;

	sim_card_stats(t->f.card, &a);
	assert_int_equal(run(t), 0);
	sim_card_stats(t->f.card, &b);
	return b.napdu - a.napdu;
}

static void
test_tear_install(void **state)
{
	struct tear t;
	unsigned long n, k;
	int mode;

	t.cap = NULL;
	assert_int_equal(gp_cap_open_file(sh_cap_path(CAPNAME), &t.cap), 0);
	tear_setup(&t);
	n = script_len(&t, run_install);
	tear_free(&t);
	assert_true(n >= 8);
	for (mode = SIM_TEAR_BEFORE; mode <= SIM_TEAR_AFTER; mode++)
		for (k = 1; k <= n; k++) {
			tear_setup(&t);
			sim_card_tear(t.f.card, (unsigned)k, mode);
			assert_int_equal(run_install(&t), SIM_ERR_TORN);
			sh_close(&t.f.h);
			assert_int_equal(sim_card_reset(t.f.card), 0);
			check_install(&t);
			assert_int_equal(run_install(&t), 0);
			check_install(&t);
			tear_free(&t);
		}
	gp_cap_free(t.cap);
}

/* ---- delete ------------------------------------------------------------- */

static int
run_delete(struct tear *t)
{
	struct sim_stats st;
	int r;

	if ((r = sh_open(&t->f.h, 3, 0x70, 8, 0, &t->f.ks, 0x33)) != 0)
		return r;
	sim_card_stats(t->f.card, &st);
	if (st.nelf == 1)
		return 0;
	return sh_delete(&t->f.h, t->cap->pkg.b, t->cap->pkg.len, 1);
}

static void
check_delete(struct tear *t)
{
	struct sim_stats st;
	char why[128];

	assert_int_equal(sim_card_check(t->f.card, why, sizeof(why)), 0);
	sim_card_stats(t->f.card, &st);
	if (st.nelf == 1) {
		assert_int_equal(st.napp, 0);
		assert_int_equal(st.mem_free, t->mem_total);
	} else {
		assert_int_equal(st.nelf, 2);
		assert_int_equal(st.napp, 1);
		assert_int_equal(st.mem_free + t->cap->lfdb_len + 128 + sizeof(perso),
		    t->mem_total);
	}
}

static void
test_tear_delete(void **state)
{
	struct tear t;
	unsigned long n, k;
	int mode;

	t.cap = NULL;
	assert_int_equal(gp_cap_open_file(sh_cap_path(CAPNAME), &t.cap), 0);
	tear_setup(&t);
	assert_int_equal(run_install(&t), 0);
	n = script_len(&t, run_delete);
	tear_free(&t);
	for (mode = SIM_TEAR_BEFORE; mode <= SIM_TEAR_AFTER; mode++)
		for (k = 1; k <= n; k++) {
			tear_setup(&t);
			assert_int_equal(run_install(&t), 0);
			sim_card_tear(t.f.card, (unsigned)k, mode);
			assert_int_equal(run_delete(&t), SIM_ERR_TORN);
			sh_close(&t.f.h);
			assert_int_equal(sim_card_reset(t.f.card), 0);
			check_delete(&t);
			assert_int_equal(run_delete(&t), 0);
			check_delete(&t);
			tear_free(&t);
		}
	gp_cap_free(t.cap);
}

/* ---- PUT KEY ------------------------------------------------------------ */

static uint8_t newkey[3][16];

static int
run_putkey(struct tear *t)
{
	struct gp_putkey pk = { .old_kvn = 0x30, .new_kvn = 0x30, .key_id = 1,
	    .nkeys = 3, .key_len = 16 };
	uint8_t cmd[300];
	struct gp_aes dek;
	struct gp_wr w;
	int r;

	pk.keys[0] = newkey[0];
	pk.keys[1] = newkey[1];
	pk.keys[2] = newkey[2];
	if ((r = sh_open(&t->f.h, 3, 0x70, 8, 0, &t->f.ks, 0x33)) != 0)
		return r;
	memset(&dek, 0, sizeof(dek));
	assert_int_equal(gp_aes_init(&dek, t->f.ks.dek, 16), 0);
	gp_wr_init(&w, cmd, sizeof(cmd));
	assert_int_equal(gp_cmd_put_key_scp03(&pk, &dek, &w), 0);
	gp_aes_free(&dek);
	if ((r = sh_send_wr(&t->f.h, &w)) != 0)
		return r;
	return t->f.h.sw == 0x9000 ? 0 : GP_ERR_STATE;
}

static void
use_new_keys(struct gp_keyset *ks)
{
	memset(ks, 0, sizeof(*ks));
	memcpy(ks->enc, newkey[0], 16);
	memcpy(ks->mac, newkey[1], 16);
	memcpy(ks->dek, newkey[2], 16);
	ks->len = 16;
	ks->kvn = 0x30;
}

static void
test_tear_putkey(void **state)
{
	struct gp_keyset nks;
	struct tear t;
	unsigned long n, k;
	int mode, old_ok, new_ok;

	memset(newkey, 0x5A, sizeof(newkey));
	newkey[1][0] = 0x11;
	newkey[2][0] = 0x22;
	use_new_keys(&nks);
	t.cap = NULL;
	tear_setup(&t);
	n = script_len(&t, run_putkey);
	tear_free(&t);
	for (mode = SIM_TEAR_BEFORE; mode <= SIM_TEAR_AFTER; mode++)
		for (k = 1; k <= n; k++) {
			tear_setup(&t);
			sim_card_tear(t.f.card, (unsigned)k, mode);
			assert_int_equal(run_putkey(&t), SIM_ERR_TORN);
			sh_close(&t.f.h);
			assert_int_equal(sim_card_reset(t.f.card), 0);
			old_ok = sh_open(&t.f.h, 3, 0x70, 8, 0, &t.f.ks,
			    0x33) == 0;
			new_ok = sh_open(&t.f.h, 3, 0x70, 8, 0, &nks,
			    0x33) == 0;
			/* exactly one key set: the old or the new */
			assert_int_equal(old_ok + new_ok, 1);
			assert_int_equal(new_ok, k == n &&
			    mode == SIM_TEAR_AFTER);
			tear_free(&t);
		}
	gp_keyset_wipe(&nks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tear_install),
		cmocka_unit_test(test_tear_delete),
		cmocka_unit_test(test_tear_putkey),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
