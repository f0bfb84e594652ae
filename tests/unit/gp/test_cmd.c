/*
 * GP command builders (tsm/gp/cmd.c). Every expected APDU is written out
 * by hand from the layouts of GP Card Specification 2.3.1 chapter 11 (or
 * EMV CPS for DGIs), never produced by the code under test. The encrypted
 * DGI cases use ciphertexts published by openjavacard-tools (see
 * ../shared/vectors) or OpenSSL computing the cipher directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "gp/buf.h"
#include "gp/cmd.h"
#include "gp/crypto.h"
#include "gp/err.h"

#define BUFSZ	1024

static const uint8_t ISD[8] = { 0xA0, 0, 0, 0x01, 0x51, 0, 0, 0 };
static const uint8_t APP5[5] = { 1, 2, 3, 4, 5 };
static const uint8_t ELF7[7] = { 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0x01 };
static const uint8_t K40[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46,
    0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F };

/* Compares w with the hex expectation. */
static void
assert_hex(const struct gp_wr *w, const char *hex)
{
	uint8_t want[BUFSZ];
	size_t n;

	assert_int_equal(gp_hex_decode(hex, want, sizeof(want), &n), 0);
	assert_int_equal(w->len, n);
	assert_memory_equal(w->p, want, n);
}

static void
test_select(void **state)
{
	uint8_t buf[BUFSZ], big[17] = { 0 };
	struct gp_wr w;

	(void)state;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_select(ISD, 8, GP_SELECT_FIRST, &w), 0);
	assert_hex(&w, "00A4040008A00000015100000000");
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_select(APP5, 5, GP_SELECT_NEXT, &w), 0);
	assert_hex(&w, "00A40402050102030405" "00");
	assert_int_equal(gp_cmd_select(APP5, 0, 0, &w), GP_ERR_INVAL);
	assert_int_equal(gp_cmd_select(APP5, 4, 0, &w), GP_ERR_INVAL);
	assert_int_equal(gp_cmd_select(big, 17, 0, &w), GP_ERR_INVAL);
	assert_int_equal(gp_cmd_select(big, 16, 0x01, &w), GP_ERR_INVAL);
}

static void
test_get_data(void **state)
{
	static const struct { uint16_t tag; const char *hex; } t[] = {
		{ GP_DATA_CPLC, "80CA9F7F00" },
		{ GP_DATA_CARD_DATA, "80CA006600" },
		{ GP_DATA_CARD_CAPS, "80CA006700" },
		{ GP_DATA_KEY_INFO, "80CA00E000" },
		{ GP_DATA_IIN, "80CA004200" },
		{ GP_DATA_CIN, "80CA004500" },
		{ GP_DATA_RESOURCES, "80CAFF2100" },
	};
	uint8_t buf[BUFSZ];
	struct gp_wr w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		gp_wr_init(&w, buf, sizeof(buf));
		assert_int_equal(gp_cmd_get_data(t[i].tag, &w), 0);
		assert_hex(&w, t[i].hex);
	}
}

static void
test_get_status(void **state)
{
	static const struct { uint8_t p1, p2; const char *hex; } t[] = {
		{ 0x80, 0x02, "80F28002024F0000" },
		{ 0x40, 0x02, "80F24002024F0000" },
		{ 0x40, 0x03, "80F24003024F0000" },	/* next after 6310 */
		{ 0x20, 0x00, "80F22000024F0000" },
		{ 0x10, 0x02, "80F21002024F0000" },
	};
	static const uint8_t crit[7] = { 0x4F, 0x05, 1, 2, 3, 4, 5 };
	uint8_t buf[BUFSZ];
	struct gp_wr w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		gp_wr_init(&w, buf, sizeof(buf));
		assert_int_equal(gp_cmd_get_status(t[i].p1, t[i].p2, NULL, 0,
		    &w), 0);
		assert_hex(&w, t[i].hex);
	}
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_get_status(0x40, 0x02, crit, 7, &w), 0);
	assert_hex(&w, "80F24002074F05010203040500");
	assert_int_equal(gp_cmd_get_status(0x30, 0x02, NULL, 0, &w),
	    GP_ERR_INVAL);
	assert_int_equal(gp_cmd_get_status(0x40, 0x04, NULL, 0, &w),
	    GP_ERR_INVAL);
}

struct install_case {
	const char	*name;
	uint8_t		 p1;
	struct gp_install in;
	const char	*hex;
};

static void
test_install(void **state)
{
	static const uint8_t priv1[1] = { 0x00 }, priv3[3] = { 0x80, 0, 0 };
	static const uint8_t mod6[6] = { 1, 2, 3, 4, 5, 1 };
	const struct install_case t[] = {
	    { "load", GP_INSTALL_LOAD, { .elf_aid = ELF7, .elf_len = 7,
		.sd_aid = ISD, .sd_len = 8 },
		"80E6020014" "07D0D1D2D3D4D501" "08A000000151000000"
		"000000" "00" },
	    { "load, no SD", GP_INSTALL_LOAD, { .elf_aid = ELF7,
		.elf_len = 7 }, "80E602000C" "07D0D1D2D3D4D501" "00000000"
		"00" },
	    { "install+selectable", GP_INSTALL_AND_SELECT, {
		.elf_aid = APP5, .elf_len = 5, .mod_aid = mod6, .mod_len = 6,
		.app_aid = mod6, .app_len = 6, .priv = priv1, .priv_len = 1 },
		"80E60C001A" "050102030405" "06010203040501" "06010203040501"
		"0100" "02C900" "00" "00" },
	    { "make selectable", GP_INSTALL_SELECTABLE, { .app_aid = APP5,
		.app_len = 5, .priv = priv3, .priv_len = 3 },
		"80E608000E" "0000" "050102030405" "03800000" "00" "00" "00" },
	    { "personalization", GP_INSTALL_PERSO, { .app_aid = APP5,
		.app_len = 5 }, "80E620000B" "0000" "050102030405" "000000"
		"00" },
	    { "extradition", GP_INSTALL_EXTRADITION, { .sd_aid = ISD,
		.sd_len = 8, .app_aid = APP5, .app_len = 5 },
		"80E6100013" "08A000000151000000" "00" "050102030405" "00"
		"00" "00" "00" },
	    { "registry update", GP_INSTALL_REGISTRY, { .app_aid = APP5,
		.app_len = 5, .priv = priv3, .priv_len = 1 },
		"80E640000C" "00" "00" "050102030405" "0180" "00" "00" "00" },
	};
	uint8_t buf[BUFSZ];
	struct gp_wr w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("install: %s\n", t[i].name);
		gp_wr_init(&w, buf, sizeof(buf));
		assert_int_equal(gp_cmd_install(t[i].p1, &t[i].in, &w), 0);
		assert_hex(&w, t[i].hex);
	}
}

static void
test_install_errors(void **state)
{
	static uint8_t params[256], priv2[2];
	struct gp_install in = { .elf_aid = APP5, .elf_len = 5,
	    .mod_aid = APP5, .mod_len = 5, .app_aid = APP5, .app_len = 5,
	    .priv = priv2, .priv_len = 1 };
	uint8_t buf[BUFSZ];
	struct gp_wr w;

	(void)state;
	gp_wr_init(&w, buf, sizeof(buf));
	in.params = params;
	in.params_len = 256;		/* one over the LV limit */
	assert_int_equal(gp_cmd_install(GP_INSTALL_INSTALL, &in, &w),
	    GP_ERR_TOOLARGE);
	in.params_len = 240;		/* fits its LV, not the Lc */
	assert_int_equal(gp_cmd_install(GP_INSTALL_INSTALL, &in, &w),
	    GP_ERR_TOOLARGE);
	in.params_len = 0;
	in.priv_len = 2;
	assert_int_equal(gp_cmd_install(GP_INSTALL_INSTALL, &in, &w),
	    GP_ERR_INVAL);
	in.priv_len = 1;
	in.app_len = 17;
	assert_int_equal(gp_cmd_install(GP_INSTALL_INSTALL, &in, &w),
	    GP_ERR_INVAL);
	in.app_len = 5;
	assert_int_equal(gp_cmd_install(0x03, &in, &w), GP_ERR_INVAL);
}

/* lfdb of n bytes: 00 01 02 ... */
static uint8_t *
seq_bytes(size_t n)
{
	uint8_t *p = malloc(n);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)i;
	return p;
}

static void
test_load_small(void **state)
{
	static const uint8_t lf3[3] = { 0xAA, 0xBB, 0xCC };
	static const uint8_t lf4[4] = { 0x11, 0x22, 0x33, 0x44 };
	static const uint8_t sig[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct gp_load l = { .lfdb = lf3, .lfdb_len = 3, .block = 255 };
	uint8_t buf[BUFSZ];
	struct gp_wr w;

	(void)state;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_load_count(&l), 1);
	assert_int_equal(gp_cmd_load(&l, 0, &w), 0);
	assert_hex(&w, "80E8800005C403AABBCC00");
	l.block = 1;			/* C4 03 AA BB CC: five blocks */
	assert_int_equal(gp_load_count(&l), 5);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_load(&l, 0, &w), 0);
	assert_hex(&w, "80E8000001C400");
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_load(&l, 4, &w), 0);
	assert_hex(&w, "80E8800401CC00");
	assert_int_equal(gp_cmd_load(&l, 5, &w), GP_ERR_INVAL);
	/* C4 04 11 22 33 44 in blocks of 3: an exact multiple. */
	l.lfdb = lf4;
	l.lfdb_len = 4;
	l.block = 3;
	assert_int_equal(gp_load_count(&l), 2);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_load(&l, 0, &w), 0);
	assert_hex(&w, "80E8000003C4041100");
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_load(&l, 1, &w), 0);
	assert_hex(&w, "80E880010322334400");
	/* DAP block before C4. */
	l.lfdb = lf3;
	l.lfdb_len = 3;
	l.block = 255;
	l.dap_sd = ISD;
	l.dap_sd_len = 8;
	l.dap_sig = sig;
	l.dap_sig_len = 8;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_load(&l, 0, &w), 0);
	assert_hex(&w, "80E880001B" "E214" "4F08A000000151000000"
	    "C3080102030405060708" "C403AABBCC" "00");
}

static void
test_load_blocks(void **state)
{
	uint8_t buf[BUFSZ], *lf = seq_bytes(300);
	struct gp_load l = { .lfdb = lf, .lfdb_len = 300, .block = 239 };
	struct gp_wr w;

	(void)state;
	/* C4 82 01 2C + 300 = 304 bytes: 239 + 65. */
	assert_int_equal(gp_load_count(&l), 2);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_load(&l, 0, &w), 0);
	assert_int_equal(w.len, 5 + 239 + 1);
	assert_memory_equal(buf, "\x80\xE8\x00\x00\xEF\xC4\x82\x01\x2C\x00",
	    10);
	assert_int_equal(buf[5 + 238], 234);	/* lfdb[234] */
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_load(&l, 1, &w), 0);
	assert_int_equal(w.len, 5 + 65 + 1);
	assert_memory_equal(buf, "\x80\xE8\x80\x01\x41", 5);
	assert_int_equal(buf[5], 235);
	assert_int_equal(buf[5 + 64], (uint8_t)299);
	/* block 255: 252 bytes + C4 81 FC = 255, one command exactly. */
	l.block = 255;
	l.lfdb_len = 252;
	assert_int_equal(gp_load_count(&l), 1);
	l.lfdb_len = 253;
	assert_int_equal(gp_load_count(&l), 2);
	l.block = 1;
	l.lfdb_len = 300;		/* 304 blocks: P2 starts again at 00 */
	assert_int_equal(gp_load_count(&l), 304);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_load(&l, 255, &w), 0);
	assert_int_equal(buf[3], 0xFF);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_load(&l, 256, &w), 0);
	assert_int_equal(buf[2], 0x00);	/* not the last block */
	assert_int_equal(buf[3], 0x00);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_load(&l, 303, &w), 0);
	assert_int_equal(buf[2], 0x80);	/* the last block */
	assert_int_equal(buf[3], 303 & 0xFF);
	l.lfdb_len = GP_LOAD_BLOCKS_MAX;	/* + the C4 header: too many */
	assert_int_equal(gp_load_count(&l), GP_ERR_TOOLARGE);
	l.block = 0;
	assert_int_equal(gp_load_count(&l), GP_ERR_INVAL);
	l.block = 256;
	assert_int_equal(gp_load_count(&l), GP_ERR_INVAL);
	free(lf);
}

static void
test_delete_set_status(void **state)
{
	static const uint8_t tok[3] = { 0xAA, 0xBB, 0xCC }, big[250];
	struct gp_delete d = { .aid = APP5, .aid_len = 5 };
	uint8_t buf[BUFSZ];
	struct gp_wr w;

	(void)state;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_delete(&d, &w), 0);
	assert_hex(&w, "80E40000074F05010203040500");
	d.related = 1;
	d.token = tok;
	d.token_len = 3;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_delete(&d, &w), 0);
	assert_hex(&w, "80E400800C4F050102030405" "9E03AABBCC" "00");
	d.token = big;
	d.token_len = 250;		/* 4F 05 .. + 9E 81 FA .. > 255 */
	assert_int_equal(gp_cmd_delete(&d, &w), GP_ERR_TOOLARGE);
	d.aid_len = 17;
	assert_int_equal(gp_cmd_delete(&d, &w), GP_ERR_INVAL);
	d.aid_len = 0;
	assert_int_equal(gp_cmd_delete(&d, &w), GP_ERR_INVAL);

	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_set_status(GP_SETSTATUS_APP, 0x07, APP5, 5,
	    &w), 0);
	assert_hex(&w, "80F04007050102030405");
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_set_status(GP_SETSTATUS_ISD, 0x7F, ISD, 8,
	    &w), 0);
	assert_hex(&w, "80F0807F08A000000151000000");
	/* The card (P1 80) may also go without an AID: case 1. */
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_set_status(GP_SETSTATUS_ISD, 0x7F, NULL, 0,
	    &w), 0);
	assert_hex(&w, "80F0807F");
	/* An application always needs one. */
	assert_int_equal(gp_cmd_set_status(GP_SETSTATUS_APP, 0x83, NULL, 0,
	    &w), GP_ERR_INVAL);
	assert_int_equal(gp_cmd_set_status(0x20, 0x07, APP5, 5, &w),
	    GP_ERR_INVAL);
}

static void
test_dgi(void **state)
{
	uint8_t buf[BUFSZ], *v = seq_bytes(300);
	struct gp_wr w;

	(void)state;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_dgi_put(&w, 0x0101, v, 3), 0);
	assert_hex(&w, "010103000102");
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_dgi_put(&w, 0x9102, v, 254), 0);
	assert_int_equal(w.len, 3 + 254);
	assert_memory_equal(buf, "\x91\x02\xFE\x00", 4);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_dgi_put(&w, 0x0202, v, 255), 0);
	assert_int_equal(w.len, 5 + 255);
	assert_memory_equal(buf, "\x02\x02\xFF\x00\xFF\x00\x01", 7);
	free(v);
}

static void
test_dgi_encrypted(void **state)
{
	static const uint8_t zero8[8], iv[16];
	uint8_t buf[BUFSZ], plain[32];
	struct gp_des3 d;
	struct gp_aes a;
	struct gp_wr w;
	EVP_CIPHER_CTX *c;
	int ol, fl;

	(void)state;
	/* openjavacard: 3DES(4041..4F, 00 x 8) = 8BAF473F2F8FD094. */
	assert_int_equal(gp_des3_init(&d, K40), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_dgi_put_des3(&w, 0x8000, &d, zero8, 8), 0);
	assert_hex(&w, "8000088BAF473F2F8FD094");
	gp_des3_free(&d);
	/* openjavacard: AES-CBC(4041..4F, IV 0, 4041..4F). */
	assert_int_equal(gp_aes_init(&a, K40, 16), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_dgi_put_aes(&w, 0x8113, &a, K40, 16), 0);
	assert_hex(&w, "81131080D2A5B08FA0EE51143B459E638106DF");
	/* 15 bytes are padded to 16 with 80: check with OpenSSL alone. */
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_dgi_put_aes(&w, 0x8113, &a, K40, 15), 0);
	assert_int_equal(w.len, 3 + 16);
	assert_int_equal(buf[2], 0x10);
	gp_aes_free(&a);
	assert_non_null(c = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_128_cbc(), NULL, K40,
	    iv), 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_DecryptUpdate(c, plain, &ol, buf + 3, 16), 1);
	assert_int_equal(EVP_DecryptFinal_ex(c, plain + ol, &fl), 1);
	EVP_CIPHER_CTX_free(c);
	assert_memory_equal(plain, K40, 15);
	assert_int_equal(plain[15], 0x80);
}

static void
test_store_data(void **state)
{
	/* DGI 0101 {AA BB} ‖ DGI 0102 {CC}: 5 + 4 bytes. */
	static const uint8_t s[9] = { 0x01, 0x01, 0x02, 0xAA, 0xBB, 0x01,
	    0x02, 0x01, 0xCC };
	static const uint8_t bad[4] = { 0x01, 0x01, 0x05, 0xAA };
	struct gp_store_iter it;
	uint8_t buf[BUFSZ];
	struct gp_wr w;

	(void)state;
	assert_int_equal(gp_store_iter_init(&it, GP_STORE_DGI, s, 9, 255, 0,
	    1), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_store_iter_next(&it, &w), 0);
	assert_hex(&w, "80E2880009010102AABB010201CC");
	assert_int_equal(gp_store_iter_next(&it, &w), GP_ERR_NOTFOUND);
	/* chunk 6: one DGI per command, P2 counts from 3. */
	assert_int_equal(gp_store_iter_init(&it, GP_STORE_DGI | GP_STORE_ENC,
	    s, 9, 6, 3, 1), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_store_iter_next(&it, &w), 0);
	assert_hex(&w, "80E2680305010102AABB");
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_store_iter_next(&it, &w), 0);
	assert_hex(&w, "80E2E80404010201CC");
	/* not final: no b8 on the last command */
	assert_int_equal(gp_store_iter_init(&it, GP_STORE_DGI, s, 9, 255, 0,
	    0), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_store_iter_next(&it, &w), 0);
	assert_int_equal(buf[2], 0x08);
	assert_int_equal(gp_store_iter_init(&it, GP_STORE_DGI, bad, 4, 255, 0,
	    1), GP_ERR_FORMAT);
	assert_int_equal(gp_store_iter_init(&it, GP_STORE_LAST, s, 9, 255, 0,
	    1), GP_ERR_INVAL);
}

static void
test_store_data_long_dgi(void **state)
{
	uint8_t buf[BUFSZ], *v = seq_bytes(300), stream[400];
	struct gp_store_iter it;
	struct gp_wr w, sw;

	(void)state;
	gp_wr_init(&sw, stream, sizeof(stream));
	assert_int_equal(gp_dgi_put(&sw, 0x0101, v, 300), 0);
	assert_int_equal(sw.len, 305);		/* 0101 FF 012C + 300 */
	assert_int_equal(gp_store_iter_init(&it, GP_STORE_DGI, stream, 305,
	    255, 0, 1), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_store_iter_next(&it, &w), 0);
	assert_int_equal(w.len, 5 + 255);
	assert_memory_equal(buf, "\x80\xE2\x08\x00\xFF\x01\x01\xFF\x01\x2C",
	    10);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_store_iter_next(&it, &w), 0);
	assert_int_equal(w.len, 5 + 50);
	assert_memory_equal(buf, "\x80\xE2\x88\x01\x32", 5);
	assert_int_equal(buf[5], 250);		/* value byte 250 */
	assert_int_equal(gp_store_iter_next(&it, &w), GP_ERR_NOTFOUND);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_get_data),
		cmocka_unit_test(test_get_status),
		cmocka_unit_test(test_install),
		cmocka_unit_test(test_install_errors),
		cmocka_unit_test(test_load_small),
		cmocka_unit_test(test_load_blocks),
		cmocka_unit_test(test_delete_set_status),
		cmocka_unit_test(test_dgi),
		cmocka_unit_test(test_dgi_encrypted),
		cmocka_unit_test(test_store_data),
		cmocka_unit_test(test_store_data_long_dgi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
