/*
 * libcardsim end to end in process: card data, status words, full SCP03
 * and SCP02 lifecycles with the real CAP files of the vectors, memory,
 * paging, life cycle rules, the failed-authentication counter and the
 * state file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gp/carddata.h"
#include "gp/cmd.h"
#include "gp/err.h"
#include "gp/putkey.h"
#include "gp/registry.h"
#include "common.h"

static void
fx_open_card(struct fx *f, const char *profile, size_t mem, size_t page)
{
	struct sim_opts o = { .profile = profile, .mem_total = mem,
	    .status_page = page, .auth_limit = 3 };

	assert_int_equal(sim_card_open(&o, &f->card), 0);
	sh_init(&f->h, fx_xmit, f->card);
	f->proto = strncmp(profile, "scp02", 5) == 0 ? 2 : 3;
	f->s = strstr(profile, "s16") ? 16 : 8;
	f->i = f->proto == 2 ? (strstr(profile, "i55") ? 0x55 : 0x15) :
	    strstr(profile, "i00") ? 0x00 : strstr(profile, "i10") ? 0x10 :
	    strstr(profile, "i30") ? 0x30 : 0x70;
	f->kvn = f->proto == 2 ? 0x01 : 0x30;
	/* the highest level the card's i allows: R-ENC needs i bit 40,
	 * R-MAC bit 20 */
	f->level = f->proto == 2 ? 0x03 : (f->i & 0x40) ? 0x33 :
	    (f->i & 0x20) ? 0x13 : 0x03;
	sh_default_keys(&f->ks, strstr(profile, "192") ? 24 :
	    strstr(profile, "256") ? 32 : 16, f->kvn);
}

static void
fx_close(struct fx *f)
{
	sh_close(&f->h);
	sim_card_free(f->card);
	gp_keyset_wipe(&f->ks);
}

static void
fx_auth(struct fx *f)
{
	assert_int_equal(sh_open(&f->h, f->proto, f->i, f->s, 0, &f->ks,
	    f->level), 0);
}

static struct gp_cap *
cap_open(const char *name)
{
	struct gp_cap *cap = NULL;

	assert_int_equal(gp_cap_open_file(sh_cap_path(name), &cap), 0);
	return cap;
}

static size_t
registry_apps(struct fx *f, struct gp_registry_entry *e, size_t cap)
{
	uint8_t cmd[64];
	struct gp_wr w;
	size_t n = 0;

	gp_wr_init(&w, cmd, sizeof(cmd));
	assert_int_equal(gp_cmd_get_status(GP_STATUS_APPS, GP_STATUS_TAGGED,
	    NULL, 0, &w), 0);
	assert_int_equal(sh_send_wr(&f->h, &w), 0);
	if (f->h.sw == 0x6A88)
		return 0;
	assert_int_equal(f->h.sw, 0x9000);
	assert_int_equal(gp_registry_parse(f->h.data, f->h.dlen, e, cap, &n),
	    0);
	return n;
}

/* ---- options -------------------------------------------------------------- */

/* Options out of the state file's range are refused when the card is
 * made, not written into a state file the next open would refuse. */
static void
test_options_range(void **state)
{
	struct sim_opts o;
	struct sim_card *c = NULL;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.mem_total = (size_t)1 << 31;
	assert_int_not_equal(sim_card_open(&o, &c), 0);
	assert_null(c);
	o.mem_total = 0;
	o.auth_limit = 5000;
	assert_int_not_equal(sim_card_open(&o, &c), 0);
	assert_null(c);
	o.auth_limit = 10;
	o.mem_total = 65536;
	assert_int_equal(sim_card_open(&o, &c), 0);
	sim_card_free(c);
}

/* ---- card data ---------------------------------------------------------- */

static void
test_card_data(void **state)
{
	static const uint8_t gd[][5] = { { 0x80, 0xCA, 0x9F, 0x7F, 0x00 },
	    { 0x80, 0xCA, 0x00, 0x66, 0x00 }, { 0x80, 0xCA, 0x00, 0xE0, 0x00 },
	    { 0x80, 0xCA, 0x00, 0x42, 0x00 }, { 0x80, 0xCA, 0xFF, 0x21, 0x00 } };
	struct gp_card_resources res;
	struct gp_key_info ki[8];
	struct gp_card_data cd;
	struct gp_cplc cplc;
	struct gp_span iin;
	struct fx f;
	size_t n;

	fx_open_card(&f, "scp03-aes128", 0, 0);
	assert_int_equal(sh_select(&f.h, sh_isd, sizeof(sh_isd)), 0);
	assert_int_equal(sh_sw(&f.h, gd[0], 5), 0x9000);
	assert_int_equal(gp_cplc_parse(f.h.data, f.h.dlen, &cplc), 0);
	assert_int_equal(sh_sw(&f.h, gd[1], 5), 0x9000);
	assert_int_equal(gp_card_data_parse(f.h.data, f.h.dlen, &cd), 0);
	assert_int_equal(cd.nscp, 1);
	assert_int_equal(cd.scp[0].id, 3);
	assert_int_equal(cd.scp[0].i, 0x70);
	assert_int_equal(sh_sw(&f.h, gd[2], 5), 0x9000);
	assert_int_equal(gp_key_info_parse(f.h.data, f.h.dlen, ki, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ki[0].version, 0x30);
	assert_int_equal(ki[0].comp[0].type, 0x88);
	assert_int_equal(ki[0].comp[0].len, 16);
	assert_int_equal(sh_sw(&f.h, gd[3], 5), 0x9000);
	assert_int_equal(gp_iin_parse(f.h.data, f.h.dlen, &iin), 0);
	assert_int_equal(sh_sw(&f.h, gd[4], 5), 0x9000);
	assert_int_equal(gp_card_resources_parse(f.h.data, f.h.dlen, &res), 0);
	assert_int_equal(res.free_nvm, 64 * 1024);
	assert_int_equal(res.installed_apps, 0);
	fx_close(&f);
}

/* ---- status words ------------------------------------------------------- */

static void
test_status_words(void **state)
{
	static const uint8_t bad[] = { 0x00, 0xA4, 0x04 };
	static const uint8_t ins[] = { 0x80, 0x12, 0x00, 0x00 };
	static const uint8_t cla[] = { 0x20, 0xCA, 0x00, 0x66, 0x00 };
	static const uint8_t chan[] = { 0x81, 0xCA, 0x00, 0x66, 0x00 };
	static const uint8_t chain[] = { 0x90, 0xCA, 0x00, 0x66, 0x00 };
	static const uint8_t install[] = { 0x80, 0xE6, 0x02, 0x00, 0x00 };
	static const uint8_t ea[] = { 0x84, 0x82, 0x01, 0x00, 0x10, 1, 2, 3, 4,
	    5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t iu[] = { 0x80, 0x50, 0x42, 0x00, 0x08, 1, 2, 3,
	    4, 5, 6, 7, 8, 0x00 };
	static const uint8_t iulen[] = { 0x80, 0x50, 0x00, 0x00, 0x04, 1, 2,
	    3, 4, 0x00 };
	static const uint8_t sel[] = { 0x00, 0xA4, 0x04, 0x00, 0x05, 0xD0,
	    0xD0, 0xD0, 0xD0, 0xD0 };
	static const uint8_t gd[] = { 0x80, 0xCA, 0x12, 0x34, 0x00 };
	static const uint8_t sel_p1[] = { 0x00, 0xA4, 0x01, 0x00, 0x00 };
	struct fx f;

	fx_open_card(&f, "scp03-aes128", 0, 0);
	assert_int_equal(sh_sw(&f.h, bad, sizeof(bad)), 0x6700);
	assert_int_equal(sh_sw(&f.h, ins, sizeof(ins)), 0x6D00);
	assert_int_equal(sh_sw(&f.h, cla, sizeof(cla)), 0x6E00);
	assert_int_equal(sh_sw(&f.h, chan, sizeof(chan)), 0x6881);
	assert_int_equal(sh_sw(&f.h, chain, sizeof(chain)), 0x6884);
	assert_int_equal(sh_sw(&f.h, install, sizeof(install)), 0x6982);
	assert_int_equal(sh_sw(&f.h, ea, sizeof(ea)), 0x6985);
	assert_int_equal(sh_sw(&f.h, iu, sizeof(iu)), 0x6A88);
	assert_int_equal(sh_sw(&f.h, iulen, sizeof(iulen)), 0x6700);
	assert_int_equal(sh_sw(&f.h, gd, sizeof(gd)), 0x6A88);
	assert_int_equal(sh_sw(&f.h, sel_p1, sizeof(sel_p1)), 0x6A86);
	assert_int_equal(sh_sw(&f.h, sel, sizeof(sel)), 0x6A82);
	/* nothing selected after a failed SELECT */
	assert_int_equal(sh_sw(&f.h, gd, sizeof(gd)), 0x6985);
	fx_close(&f);
}

/* ---- the lifecycle ------------------------------------------------------ */

static const uint8_t dgis[] = { 0x01, 0x01, 0x04, 0xCA, 0xFE, 0xBA, 0xBE,
    0x02, 0x02, 0x02, 0x12, 0x34 };

static void
personalise_and_read(struct fx *f, const struct gp_cap_aid *app)
{
	static const uint8_t gd[] = { 0x80, 0xCA, 0x01, 0x01, 0x00 };
	struct gp_registry_entry e[8];

	assert_int_equal(sh_perso(&f->h, app->b, app->len, dgis,
	    sizeof(dgis)), 0);
	assert_int_equal(registry_apps(f, e, 8), 1);
	assert_int_equal(e[0].lifecycle, 0x0F);
	assert_int_equal(sh_select(&f->h, app->b, app->len), 0);
	assert_int_equal(sh_sw(&f->h, gd, sizeof(gd)), 0x9000);
	assert_int_equal(f->h.dlen, 4);
	assert_memory_equal(f->h.data, dgis + 3, 4);
}

static void
lock_unlock(struct fx *f, const struct gp_cap_aid *app)
{
	uint8_t cmd[64];
	struct gp_wr w;

	fx_auth(f);
	gp_wr_init(&w, cmd, sizeof(cmd));
	assert_int_equal(gp_cmd_set_status(GP_SETSTATUS_APP, 0x80, app->b,
	    app->len, &w), 0);
	assert_int_equal(sh_send_wr(&f->h, &w), 0);
	assert_int_equal(f->h.sw, 0x9000);
	assert_int_equal(sh_select(&f->h, app->b, app->len), GP_ERR_STATE);
	assert_int_equal(f->h.sw, 0x6999);
	fx_auth(f);
	gp_wr_init(&w, cmd, sizeof(cmd));
	assert_int_equal(gp_cmd_set_status(GP_SETSTATUS_APP, 0x00, app->b,
	    app->len, &w), 0);
	assert_int_equal(sh_send_wr(&f->h, &w), 0);
	assert_int_equal(f->h.sw, 0x9000);
	assert_int_equal(sh_select(&f->h, app->b, app->len), 0);
}

static void
card_lock_unlock(struct fx *f, const struct gp_cap_aid *app)
{
	uint8_t cmd[64];
	struct gp_wr w;

	fx_auth(f);
	gp_wr_init(&w, cmd, sizeof(cmd));
	assert_int_equal(gp_cmd_set_status(GP_SETSTATUS_ISD, 0x7F, sh_isd, 8,
	    &w), 0);
	assert_int_equal(sh_send_wr(&f->h, &w), 0);
	assert_int_equal(f->h.sw, 0x9000);
	assert_int_equal(sh_select(&f->h, app->b, app->len), GP_ERR_STATE);
	assert_int_equal(f->h.sw, 0x6A82);
	fx_auth(f);
	assert_int_equal(sh_delete(&f->h, app->b, app->len, 0), GP_ERR_STATE);
	assert_int_equal(f->h.sw, 0x6985);	/* locked card: no DELETE */
	gp_wr_init(&w, cmd, sizeof(cmd));
	assert_int_equal(gp_cmd_set_status(GP_SETSTATUS_ISD, 0x0F, sh_isd, 8,
	    &w), 0);
	assert_int_equal(sh_send_wr(&f->h, &w), 0);
	assert_int_equal(f->h.sw, 0x9000);
}

/* PUT KEY: a new key set, checked by its KCVs, then opened with. */
static void
rotate_keys(struct fx *f)
{
	struct gp_putkey pk = { .old_kvn = 0, .new_kvn = 0x31, .key_id = 1,
	    .nkeys = 3 };
	uint8_t nk[3][32], cmd[300];
	struct gp_scp_keys sk;
	struct gp_keyset nks;
	struct gp_des3 des;
	struct gp_aes aes;
	struct gp_wr w;
	size_t k, len = f->ks.len == 24 ? 16 : f->ks.len;

	for (k = 0; k < 3; k++) {
		memset(nk[k], 0x11 * (uint8_t)(k + 1), sizeof(nk[k]));
		pk.keys[k] = nk[k];
	}
	pk.key_len = len;
	fx_auth(f);
	assert_int_equal(gp_scp_session_keys(&f->h.scp, &sk), 0);
	gp_wr_init(&w, cmd, sizeof(cmd));
	memset(&des, 0, sizeof(des));
	memset(&aes, 0, sizeof(aes));
	if (f->proto == 3) {
		assert_int_equal(gp_aes_init(&aes, f->ks.dek, f->ks.len), 0);
		assert_int_equal(gp_cmd_put_key_scp03(&pk, &aes, &w), 0);
		gp_aes_free(&aes);
	} else {
		assert_int_equal(gp_des3_init(&des, sk.dek), 0);
		assert_int_equal(gp_cmd_put_key_scp02(&pk, &des, &w), 0);
		gp_des3_free(&des);
	}
	gp_wipe(&sk, sizeof(sk));
	assert_int_equal(sh_send_wr(&f->h, &w), 0);
	assert_int_equal(f->h.sw, 0x9000);
	assert_int_equal(gp_put_key_verify(&pk, f->proto == 3, f->h.data,
	    f->h.dlen), 0);
	memset(&nks, 0, sizeof(nks));
	memcpy(nks.enc, nk[0], len);
	memcpy(nks.mac, nk[1], len);
	memcpy(nks.dek, nk[2], len);
	nks.len = len;
	nks.kvn = 0x31;
	assert_int_equal(sh_open(&f->h, f->proto, f->i, f->s, 0x31, &nks,
	    f->level), 0);
	gp_keyset_wipe(&nks);
	gp_wipe(nk, sizeof(nk));
}

static void
lifecycle(const char *profile, const char *capname)
{
	struct gp_registry_entry e[8];
	struct sim_stats before, after;
	struct gp_cap *cap = cap_open(capname);
	const struct gp_cap_aid *app = &cap->applets[0].aid;
	char why[128];
	struct fx f;

	assert_true(cap->napplets > 0);
	fx_open_card(&f, profile, 0, 0);
	sim_card_stats(f.card, &before);
	fx_auth(&f);
	assert_int_equal(sh_load(&f.h, cap, f.proto == 3 ? 200 : 230), 0);
	assert_int_equal(sh_install(&f.h, cap->pkg.b, cap->pkg.len, app->b,
	    app->len, app->b, app->len, GP_INSTALL_AND_SELECT), 0);
	assert_int_equal(registry_apps(&f, e, 8), 1);
	assert_memory_equal(e[0].aid.p, app->b, app->len);
	assert_int_equal(e[0].lifecycle, 0x07);
	personalise_and_read(&f, app);
	lock_unlock(&f, app);
	card_lock_unlock(&f, app);
	rotate_keys(&f);
	assert_int_equal(sh_delete(&f.h, cap->pkg.b, cap->pkg.len, 1), 0);
	assert_int_equal(registry_apps(&f, e, 8), 0);
	sim_card_stats(f.card, &after);
	assert_int_equal(after.mem_free, before.mem_free);
	assert_int_equal(after.nelf, before.nelf);
	assert_int_equal(sim_card_check(f.card, why, sizeof(why)), 0);
	gp_cap_free(cap);
	fx_close(&f);
}

static void
test_scp03_lifecycle(void **state)
{
	lifecycle("scp03-aes128", "kaoh_helloworld.cap");
	lifecycle("scp03-aes256", "gppro_Empty_0102030405_8d5ac9e2_2.2.1.cap");
	lifecycle("scp03-aes192", "kaoh_helloworld.cap");
	lifecycle("scp03-aes128-s16", "kaoh_helloworld.cap");
	lifecycle("scp03-i00", "gppro_Empty_0102030405_8d5ac9e2_2.2.1.cap");
	lifecycle("scp03-i10", "kaoh_helloworld.cap");
	lifecycle("scp03-i30", "gppro_Empty_0102030405_8d5ac9e2_2.2.1.cap");
}

/* SCP03 i = 30: pseudo-random card challenge (from the sequence counter
 * and the ISD AID, counter in the response), R-MAC but no R-ENC,
 * announced in the card recognition data. */
static void
test_scp03_i30(void **state)
{
	static const uint8_t gd66[] = { 0x80, 0xCA, 0x00, 0x66, 0x00 };
	static const uint8_t iu[] = { 0x80, 0x50, 0x00, 0x00, 0x08, 1, 2, 3,
	    4, 5, 6, 7, 8, 0x00 };
	static const uint8_t gs[] = { 0x80, 0xF2, 0x80, 0x02, 0x02, 0x4F,
	    0x00, 0x00 };
	struct gp_card_data cd;
	uint8_t first[8], cc[8], k;
	struct gp_wr w;
	size_t rlen = 0;
	struct fx f;

	fx_open_card(&f, "scp03-i30", 0, 0);
	assert_int_equal(f.i, 0x30);
	assert_int_equal(f.level, 0x13);
	assert_int_equal(sh_select(&f.h, sh_isd, sizeof(sh_isd)), 0);
	assert_int_equal(sh_sw(&f.h, gd66, sizeof(gd66)), 0x9000);
	assert_int_equal(gp_card_data_parse(f.h.data, f.h.dlen, &cd), 0);
	assert_int_equal(cd.nscp, 1);
	assert_int_equal(cd.scp[0].id, 3);
	assert_int_equal(cd.scp[0].i, 0x30);
	/* KDD KVN 03 i challenge(8) cryptogram(8) counter(3); the
	 * challenge is the one a host predicts for the counter */
	for (k = 1; k <= 2; k++) {
		assert_int_equal(sh_sw(&f.h, iu, sizeof(iu)), 0x9000);
		assert_int_equal(f.h.dlen, 32);
		assert_int_equal(f.h.data[10], 0x30);
		assert_int_equal(f.h.data[11], 0x03);
		assert_int_equal(f.h.data[12], 0x30);
		assert_memory_equal(f.h.data + 29, ((uint8_t[]){ 0, 0, k }),
		    3);
		assert_int_equal(gp_scp03_card_challenge(f.ks.enc, 16, 8, k,
		    sh_isd, sizeof(sh_isd), cc), 0);
		assert_memory_equal(f.h.data + 13, cc, 8);
		if (k == 2)
			assert_memory_not_equal(f.h.data + 13, first, 8);
		memcpy(first, f.h.data + 13, 8);
	}
	/* level 13: a 9000 answer is data ‖ R-MAC (8) ‖ SW, and verifies */
	fx_auth(&f);
	assert_int_equal(f.h.scp.level, 0x13);
	gp_wr_init(&w, f.h.wire, sizeof(f.h.wire));
	assert_int_equal(gp_scp_wrap(&f.h.scp, gs, sizeof(gs), &w), 0);
	assert_int_equal(sim_card_transmit(f.card, w.p, w.len, f.h.rsp,
	    sizeof(f.h.rsp), &rlen), 0);
	gp_wr_init(&w, f.h.plain, sizeof(f.h.plain));
	assert_int_equal(gp_scp_unwrap(&f.h.scp, f.h.rsp, rlen, &w), 0);
	assert_true(w.len > 2);
	assert_int_equal(rlen, w.len + 8);
	assert_int_equal(w.p[w.len - 2], 0x90);
	/* a tampered R-MAC is caught */
	gp_wr_init(&w, f.h.wire, sizeof(f.h.wire));
	assert_int_equal(gp_scp_wrap(&f.h.scp, gs, sizeof(gs), &w), 0);
	assert_int_equal(sim_card_transmit(f.card, w.p, w.len, f.h.rsp,
	    sizeof(f.h.rsp), &rlen), 0);
	f.h.rsp[rlen - 3] ^= 1;
	gp_wr_init(&w, f.h.plain, sizeof(f.h.plain));
	assert_int_not_equal(gp_scp_unwrap(&f.h.scp, f.h.rsp, rlen, &w), 0);
	/* R-ENC is not offered: libgp's host will not ask for level 33 */
	assert_int_not_equal(sh_open(&f.h, 3, 0x30, 8, 0, &f.ks, 0x33), 0);
	fx_close(&f);
}

static void
test_scp02_lifecycle(void **state)
{
	lifecycle("scp02-i15", "kaoh_helloworld.cap");
	lifecycle("scp02-i55", "gppro_Empty_0102030405_8d5ac9e2_2.2.1.cap");
}

/* A library, then what depends on it: imports are checked. */
static void
test_library_imports(void **state)
{
	struct gp_cap *ber = cap_open("openjavacard-lib-ber.cap");
	struct gp_cap *demo = cap_open("openjavacard-app-demo.cap");
	struct sim_stats st;
	struct fx f;

	fx_open_card(&f, "scp03-aes128", 0, 0);
	fx_auth(&f);
	/* app-demo imports libraries this card does not hold */
	assert_int_equal(sh_load(&f.h, demo, 200), GP_ERR_STATE);
	assert_int_equal(f.h.sw, 0x6A88);
	assert_int_equal(sh_load(&f.h, ber, 200), 0);
	sim_card_stats(f.card, &st);
	assert_int_equal(st.nelf, 2);
	/* the library cannot be loaded twice */
	assert_int_equal(sh_load(&f.h, ber, 200), GP_ERR_STATE);
	assert_int_equal(f.h.sw, 0x6A80);
	gp_cap_free(ber);
	gp_cap_free(demo);
	fx_close(&f);
}

/* A malformed load file is refused and leaves nothing behind. */
static void
test_malformed_load(void **state)
{
	struct gp_cap *cap = cap_open("kaoh_helloworld.cap");
	struct sim_stats a, b;
	uint8_t save;
	struct fx f;

	fx_open_card(&f, "scp03-aes128", 0, 0);
	sim_card_stats(f.card, &a);
	fx_auth(&f);
	/* corrupt the Header magic after the hash was computed: 6A80 */
	save = ((uint8_t *)(uintptr_t)cap->lfdb)[3];
	((uint8_t *)(uintptr_t)cap->lfdb)[3] ^= 0xFF;
	assert_int_equal(sh_load(&f.h, cap, 200), GP_ERR_STATE);
	assert_int_equal(f.h.sw, 0x6A80);
	((uint8_t *)(uintptr_t)cap->lfdb)[3] = save;
	sim_card_stats(f.card, &b);
	assert_int_equal(b.nelf, a.nelf);
	assert_int_equal(b.mem_free, a.mem_free);
	/* a LOAD out of sequence */
	{
		static const uint8_t load[] = { 0x80, 0xE8, 0x80, 0x05, 0x01,
		    0xC4 };
		assert_int_equal(sh_sw(&f.h, load, sizeof(load)), 0x6985);
	}
	assert_int_equal(sh_load(&f.h, cap, 200), 0);
	gp_cap_free(cap);
	fx_close(&f);
}

static void
test_memory_full(void **state)
{
	struct gp_cap *cap = cap_open("kaoh_helloworld.cap");
	const struct gp_cap_aid *app = &cap->applets[0].aid;
	uint8_t aid[16];
	struct sim_stats st;
	struct fx f;
	int k, r = 0;

	fx_open_card(&f, "scp03-aes128", cap->lfdb_len + 3 * 128 + 10, 0);
	fx_auth(&f);
	assert_int_equal(sh_load(&f.h, cap, 200), 0);
	memcpy(aid, app->b, app->len);
	for (k = 0; k < 10 && r == 0; k++) {
		aid[app->len] = (uint8_t)k;
		r = sh_install(&f.h, cap->pkg.b, cap->pkg.len, app->b,
		    app->len, aid, app->len + 1u, GP_INSTALL_AND_SELECT);
	}
	assert_int_equal(k, 4);		/* the 4th instance does not fit */
	assert_int_equal(f.h.sw, 0x6A84);
	sim_card_stats(f.card, &st);
	assert_int_equal(st.napp, 3);
	assert_int_equal(st.mem_free, 10);
	gp_cap_free(cap);
	fx_close(&f);
}

/* GET STATUS pages of whole entries: 6310, then P2 b1 until 9000. */
static size_t
status_all(struct fx *f, uint8_t p2, size_t *pages)
{
	struct gp_registry_entry e[64];
	uint8_t cmd[64];
	struct gp_wr w;
	size_t n, total = 0;

	*pages = 0;
	do {
		gp_wr_init(&w, cmd, sizeof(cmd));
		assert_int_equal(gp_cmd_get_status(GP_STATUS_APPS, p2 |
		    (*pages ? GP_STATUS_NEXT : 0), NULL, 0, &w), 0);
		assert_int_equal(sh_send_wr(&f->h, &w), 0);
		assert_true(f->h.sw == 0x9000 || f->h.sw == 0x6310);
		if (p2 & GP_STATUS_TAGGED)
			assert_int_equal(gp_registry_parse(f->h.data,
			    f->h.dlen, e, 64, &n), 0);
		else
			assert_int_equal(gp_registry_parse_legacy(f->h.data,
			    f->h.dlen, GP_STATUS_APPS, e, 64, &n), 0);
		assert_true(f->h.dlen <= 64 + 40);
		total += n;
		(*pages)++;
	} while (f->h.sw == 0x6310);
	return total;
}

static void
test_get_status_paging(void **state)
{
	struct gp_cap *cap = cap_open("kaoh_helloworld.cap");
	const struct gp_cap_aid *app = &cap->applets[0].aid;
	static const uint8_t more[] = { 0x80, 0xF2, 0x40, 0x03, 0x02, 0x4F,
	    0x00 };
	uint8_t aid[16];
	size_t pages;
	struct fx f;
	int k;

	fx_open_card(&f, "scp03-aes128", 0, 64);
	fx_auth(&f);
	assert_int_equal(sh_sw(&f.h, more, sizeof(more)), 0x6985);
	assert_int_equal(sh_load(&f.h, cap, 200), 0);
	memcpy(aid, app->b, app->len);
	for (k = 0; k < 9; k++) {
		aid[app->len] = (uint8_t)k;
		assert_int_equal(sh_install(&f.h, cap->pkg.b, cap->pkg.len,
		    app->b, app->len, aid, app->len + 1u,
		    GP_INSTALL_AND_SELECT), 0);
	}
	assert_int_equal(status_all(&f, GP_STATUS_TAGGED, &pages), 9);
	assert_true(pages >= 3);
	assert_int_equal(status_all(&f, GP_STATUS_LEGACY, &pages), 9);
	assert_true(pages >= 2);
	gp_cap_free(cap);
	fx_close(&f);
}

static void
test_card_lifecycle_rules(void **state)
{
	static const uint8_t gd[] = { 0x80, 0xCA, 0x9F, 0x7F, 0x00 };
	uint8_t cmd[64];
	struct gp_wr w;
	struct fx f;
	static const uint8_t steps[][2] = { { 0x07, 0x6985 & 0xFF },
	    { 0x01, 0x80 }, { 0x7F, 0x00 }, { 0x7F, 0x85 }, { 0x0F, 0x00 },
	    { 0xFF, 0x00 } };
	static const uint16_t sws[] = { 0x6985, 0x6A80, 0x9000, 0x6985,
	    0x9000, 0x9000 };
	size_t k;

	fx_open_card(&f, "scp03-aes128", 0, 0);
	fx_auth(&f);
	for (k = 0; k < 6; k++) {
		gp_wr_init(&w, cmd, sizeof(cmd));
		assert_int_equal(gp_cmd_set_status(GP_SETSTATUS_ISD,
		    steps[k][0], sh_isd, 8, &w), 0);
		assert_int_equal(sh_send_wr(&f.h, &w), 0);
		assert_int_equal(f.h.sw, sws[k]);
	}
	/* TERMINATED: no secure channel any more, GET DATA still works */
	assert_int_not_equal(sh_open(&f.h, 3, 0x70, 8, 0, &f.ks, 0x03), 0);
	assert_int_equal(f.h.sw, 0x6985);
	assert_int_equal(sh_sw(&f.h, gd, sizeof(gd)), 0x9000);
	fx_close(&f);
}

/* A host that gets the EXTERNAL AUTHENTICATE wrong (flipped cryptogram). */
static uint16_t
bad_ext_auth(struct fx *f)
{
	uint8_t hc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, rsp[64];
	struct gp_wr w;
	size_t rlen;

	assert_int_equal(sh_select(&f->h, sh_isd, sizeof(sh_isd)), 0);
	gp_wr_init(&w, f->h.cmd, sizeof(f->h.cmd));
	assert_int_equal(gp_scp_host_init(&f->h.scp, 3, 0x70, 8, 0, hc, &w),
	    0);
	if (sh_send_wr(&f->h, &w) != 0 || f->h.sw != 0x9000)
		return f->h.sw;
	assert_int_equal(gp_scp_host_auth(&f->h.scp, &f->ks, f->h.data,
	    f->h.dlen), 0);
	gp_wr_init(&w, f->h.cmd, sizeof(f->h.cmd));
	assert_int_equal(gp_scp_host_ext_auth(&f->h.scp, 0x01, &w), 0);
	f->h.cmd[5] ^= 0x01;
	assert_int_equal(sim_card_transmit(f->card, w.p, w.len, rsp,
	    sizeof(rsp), &rlen), 0);
	sh_close(&f->h);
	return (uint16_t)(rsp[rlen - 2] << 8 | rsp[rlen - 1]);
}

/* Wrong cryptograms: 6300 each time, then the key set is blocked. */
static void
test_auth_counter(void **state)
{
	char path[] = "/tmp/simtest-XXXXXX";
	char file[64];
	struct sim_opts o = { .profile = "scp03-aes128", .auth_limit = 3 };
	struct fx f;
	int k;

	assert_non_null(mkdtemp(path));
	snprintf(file, sizeof(file), "%s/card.json", path);
	o.state_path = file;
	memset(&f, 0, sizeof(f));
	assert_int_equal(sim_card_open(&o, &f.card), 0);
	sh_init(&f.h, fx_xmit, f.card);
	sh_default_keys(&f.ks, 16, 0x30);
	assert_int_equal(bad_ext_auth(&f), 0x6300);
	assert_int_equal(sh_open(&f.h, 3, 0x70, 8, 0, &f.ks, 0x03), 0);
	for (k = 0; k < 3; k++)	/* a success reset the counter */
		assert_int_equal(bad_ext_auth(&f), 0x6300);
	sim_card_free(f.card);	/* the counter survives a restart */
	assert_int_equal(sim_card_open(&o, &f.card), 0);
	f.h.arg = f.card;
	assert_int_equal(sh_open(&f.h, 3, 0x70, 8, 0, &f.ks, 0x03),
	    GP_ERR_STATE);
	assert_int_equal(f.h.sw, 0x6983);
	fx_close(&f);
	unlink(file);
	rmdir(path);
}

/* The state file survives a restart; a damaged one is refused. */
static void
test_persistence(void **state)
{
	struct gp_cap *cap = cap_open("kaoh_helloworld.cap");
	const struct gp_cap_aid *app = &cap->applets[0].aid;
	char path[] = "/tmp/simtest-XXXXXX", file[64];
	struct sim_opts o = { .profile = "scp02-i55" };
	struct gp_registry_entry e[8];
	struct sim_card *bad = NULL;
	struct fx f;
	FILE *fp;

	assert_non_null(mkdtemp(path));
	snprintf(file, sizeof(file), "%s/card.json", path);
	o.state_path = file;
	fx_open_card(&f, "scp02-i55", 0, 0);
	sim_card_free(f.card);
	assert_int_equal(sim_card_open(&o, &f.card), 0);
	f.h.arg = f.card;
	fx_auth(&f);
	assert_int_equal(sh_load(&f.h, cap, 230), 0);
	assert_int_equal(sh_install(&f.h, cap->pkg.b, cap->pkg.len, app->b,
	    app->len, app->b, app->len, GP_INSTALL_AND_SELECT), 0);
	sim_card_free(f.card);
	assert_int_equal(sim_card_open(&o, &f.card), 0);
	f.h.arg = f.card;
	fx_auth(&f);	/* SCP02 sequence counter went on: new session */
	assert_int_equal(registry_apps(&f, e, 8), 1);
	assert_memory_equal(e[0].aid.p, app->b, app->len);
	assert_non_null(fp = fopen(file, "w"));
	fputs("{\"format\":1,\"profile\":\"x\"}", fp);
	fclose(fp);
	assert_int_equal(sim_card_open(&o, &bad), SIM_ERR_FORMAT);
	assert_null(bad);
	gp_cap_free(cap);
	fx_close(&f);
	unlink(file);
	rmdir(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_range),
		cmocka_unit_test(test_card_data),
		cmocka_unit_test(test_status_words),
		cmocka_unit_test(test_scp03_lifecycle),
		cmocka_unit_test(test_scp02_lifecycle),
		cmocka_unit_test(test_scp03_i30),
		cmocka_unit_test(test_library_imports),
		cmocka_unit_test(test_malformed_load),
		cmocka_unit_test(test_memory_full),
		cmocka_unit_test(test_get_status_paging),
		cmocka_unit_test(test_card_lifecycle_rules),
		cmocka_unit_test(test_auth_counter),
		cmocka_unit_test(test_persistence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
