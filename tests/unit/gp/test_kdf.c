/*
 * SCP03 / SCP02 key derivation and key diversification.
 *
 * Every expected value was computed by hand with the openssl 3.0 CLI:
 *   cm() { printf %s "$2" | xxd -r -p |
 *       openssl mac -cipher $3 -macopt hexkey:$1 CMAC; }
 *   h()  { xxd -p -c 1000 | tr a-f A-F; }
 * The SCP03 KDF input block i is 11 x 00 ‖ constant ‖ 00 ‖ L(2) ‖ i ‖ context
 * (FORMAT.md, kdf.scp03); multi-block outputs concatenate the blocks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gp/buf.h"
#include "gp/crypto.h"
#include "gp/err.h"
#include "gp/kdf.h"
#include "gp/scp.h"

static size_t
hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	assert_int_equal(gp_hex_decode(s, out, cap, &n), 0);
	return n;
}

#define K128	"404142434445464748494A4B4C4D4E4F"
#define K192	"8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B"
#define K256	"603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D7" \
		"2D9810A30914DFF4"
#define CTX16	"000102030405060708090A0B0C0D0E0F"

struct kdf_case {
	const char	*key;
	uint8_t		 constant;
	const char	*ctx;
	size_t		 bits;
	const char	*expect;
};

/*
 * Z=0000000000000000000000 (11 bytes), C=CTX16:
 *  L=64:  cm K128 ${Z}0400004001$C AES-128-CBC              -> first 8 bytes
 *  L=128: cm K128 ${Z}0400008001$C AES-128-CBC
 *  L=192: cm K128 ${Z}040000C001$C, cm K128 ${Z}040000C002$C -> 16 + 8 bytes
 *  L=256: cm K128 ${Z}0400010001$C, cm K128 ${Z}0400010002$C
 *  L=512: cm K128 ${Z}04000200{01,02,03,04}$C
 *  empty context: cm K128 ${Z}0700008001 AES-128-CBC
 *  AES-192 L=192: cm K192 ${Z}040000C0{01,02}$C AES-192-CBC
 *  AES-256 L=256: cm K256 ${Z}06000100{01,02}$C AES-256-CBC
 *  card challenge (constant 02), context seq 000001 ‖ AID A000000151000000:
 *         cm K256 ${Z}0200004001000001A000000151000000 AES-256-CBC
 *         (first 8 bytes)
 */
static const struct kdf_case kdf_cases[] = {
	{ K128, 0x04, CTX16, 64, "6711163CF1C52030" },
	{ K128, 0x04, CTX16, 128, "EB845BBC703969A9B312A5F8E4834AA2" },
	{ K128, 0x04, CTX16, 192,
	    "15BA8385F23DF73C01184E932E5493FC" "BE612787FF5D8CD5" },
	{ K128, 0x04, CTX16, 256,
	    "D97FA26EA97163D64F73129E8F7CC737"
	    "F9C7766A5F9C95E8ED686AC54867584C" },
	{ K128, 0x04, CTX16, 512,
	    "FF68041132B8D161B648F3E511362AAD"
	    "38513516883494496CFA69BAE3F5EB1E"
	    "214DB4BFFB61B370972077F59B5CFCA0"
	    "89B3D9D7300032C41781B09E518CDA75" },
	{ K128, 0x07, "", 128, "19D6983C49FD574664DB7CC7EE70A173" },
	{ K192, 0x04, CTX16, 192,
	    "56E53824B2C2CCD67397C4B4DA2A354F" "03AE7ABDA753BB0A" },
	{ K256, 0x06, CTX16, 256,
	    "872DF31127DAC156E98F205EF0518720"
	    "B12B75880398633D3743E51C1D6060FB" },
	{ K256, 0x02, "000001A000000151000000", 64, "E899A97739CD6320" },
};

static void
test_kdf_scp03(void **state)
{
	uint8_t key[32], ctx[32], want[64], out[64 + 8];
	struct gp_aes a;
	size_t i, kl, cl, wl;

	(void)state;
	for (i = 0; i < sizeof(kdf_cases) / sizeof(kdf_cases[0]); i++) {
		const struct kdf_case *c = &kdf_cases[i];

		kl = hex(c->key, key, sizeof(key));
		cl = hex(c->ctx, ctx, sizeof(ctx));
		wl = hex(c->expect, want, sizeof(want));
		assert_int_equal(wl, c->bits / 8);
		assert_int_equal(gp_aes_init(&a, key, kl), 0);
		memset(out, 0xee, sizeof(out));
		assert_int_equal(gp_kdf_scp03(&a, c->constant, ctx, cl,
		    c->bits, out), 0);
		assert_memory_equal(out, want, wl);
		/* Exactly bits/8 bytes are written. */
		assert_int_equal(out[wl], 0xee);
		gp_aes_free(&a);
	}
}

static void
test_kdf_scp03_args(void **state)
{
	static const size_t bad[] = { 0, 4, 7, 65, 520, 1024 };
	uint8_t key[16], out[80];
	struct gp_aes a;
	size_t i;

	(void)state;
	hex(K128, key, sizeof(key));
	assert_int_equal(gp_aes_init(&a, key, 16), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(gp_kdf_scp03(&a, 0x04, NULL, 0, bad[i], out),
		    GP_ERR_INVAL);
		assert_int_equal(out[0], 0xee);
	}
	/* The L field changes the output: L=64 is not a prefix of L=128. */
	{
		uint8_t o64[8], o128[16];

		assert_int_equal(gp_kdf_scp03(&a, 0x00, NULL, 0, 64, o64), 0);
		assert_int_equal(gp_kdf_scp03(&a, 0x00, NULL, 0, 128, o128),
		    0);
		assert_memory_not_equal(o64, o128, 8);
	}
	gp_aes_free(&a);
}

struct scp02_case {
	uint16_t	 constant;
	const char	*expect;
};

/*
 * printf <constant>0001000000000000000000000000 | xxd -r -p |
 *     openssl enc -des-ede-cbc -K 404142434445464748494A4B4C4D4E4F \
 *     -iv 0000000000000000 -nopad | h
 */
static const struct scp02_case scp02_cases[] = {
	{ GP_SCP02_S_ENC, "25C9794A1205FF244F5FA0378D2F8D59" },
	{ GP_SCP02_C_MAC, "9BED98891580C3B245FE9EC58BFA8D2A" },
	{ GP_SCP02_R_MAC, "8EB6CF25BA4DECD820BF4E9FA616C50A" },
	{ GP_SCP02_DEK, "0E51FDF196141F227A57BD154012FD39" },
};

static void
test_kdf_scp02(void **state)
{
	static const uint8_t seq[2] = { 0x00, 0x01 };
	uint8_t key[16], want[16], out[16], other[16];
	size_t i;

	(void)state;
	hex(K128, key, sizeof(key));
	for (i = 0; i < sizeof(scp02_cases) / sizeof(scp02_cases[0]); i++) {
		hex(scp02_cases[i].expect, want, sizeof(want));
		memset(out, 0, sizeof(out));
		assert_int_equal(gp_kdf_scp02(key, scp02_cases[i].constant, seq,
		    out), 0);
		assert_memory_equal(out, want, 16);
	}
	/* The sequence counter is part of the input. */
	assert_int_equal(gp_kdf_scp02(key, GP_SCP02_S_ENC,
	    (const uint8_t *)"\x00\x02", other), 0);
	hex(scp02_cases[0].expect, want, sizeof(want));
	assert_memory_not_equal(other, want, 16);
}

struct div_case {
	enum gp_div_method	 m;
	const char		*master;
	int			 t;
	const char		*expect;
};

/*
 * KDD = 00010203040506070809.
 * emv t=1: printf 040506070809F0010405060708090F01 | xxd -r -p |
 *     openssl enc -des-ede -K 0123456789ABCDEFFEDCBA9876543210 -nopad | h
 * visa2 t=2: printf 000104050607F0020001040506070F02 | (same command)
 * kdf3 AES-128 t=3: cm K128 01000000030000010203040506070809 AES-128-CBC
 * kdf3 AES-192 t=2: cm K192 {01,02}000000020000010203040506070809
 *     AES-192-CBC -> 16 + 8 bytes
 * kdf3 AES-256 t=1 (two blocks):
 *     cm K256 01000000010000010203040506070809 AES-256-CBC
 *     cm K256 02000000010000010203040506070809 AES-256-CBC
 */
static const struct div_case div_cases[] = {
	{ GP_DIV_EMV, "0123456789ABCDEFFEDCBA9876543210", GP_KEY_ENC,
	    "8E9BE9D043BFCEB78DC6349428140AE4" },
	{ GP_DIV_VISA2, "0123456789ABCDEFFEDCBA9876543210", GP_KEY_MAC,
	    "2C172A0519CDF7470D50E0B990C419A3" },
	{ GP_DIV_KDF3, K128, GP_KEY_DEK, "6A74F6F6040CCA10D8A3FDC7914FD7CC" },
	{ GP_DIV_KDF3, K192, GP_KEY_MAC,
	    "9DF2D764AC59E3C2A7311C4D1182CF45" "53DF97E1EA3F8877" },
	{ GP_DIV_KDF3, K256, GP_KEY_ENC,
	    "92906D37D9A330F455200A491FFF299A"
	    "530D05013942DD70F77B4B42B69905E9" },
	{ GP_DIV_NONE, K128, GP_KEY_ENC, K128 },
};

static const uint8_t kdd[GP_KDD_LEN] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

static void
test_diversify(void **state)
{
	uint8_t master[32], want[32], out[40];
	size_t i, ml, wl;

	(void)state;
	for (i = 0; i < sizeof(div_cases) / sizeof(div_cases[0]); i++) {
		ml = hex(div_cases[i].master, master, sizeof(master));
		wl = hex(div_cases[i].expect, want, sizeof(want));
		assert_int_equal(wl, ml);
		memset(out, 0xee, sizeof(out));
		assert_int_equal(gp_diversify(div_cases[i].m, master, ml, kdd,
		    div_cases[i].t, out), 0);
		assert_memory_equal(out, want, wl);
		assert_int_equal(out[wl], 0xee);
	}
}

static void
test_diversify_args(void **state)
{
	uint8_t master[32], out[32];
	struct gp_keyset ks;

	(void)state;
	memset(master, 0x42, sizeof(master));
	memset(out, 0xee, sizeof(out));
	/* Bad key type for every method. */
	assert_int_equal(gp_diversify(GP_DIV_EMV, master, 16, kdd, 0, out),
	    GP_ERR_INVAL);
	assert_int_equal(gp_diversify(GP_DIV_VISA2, master, 16, kdd, 4, out),
	    GP_ERR_INVAL);
	assert_int_equal(gp_diversify(GP_DIV_KDF3, master, 16, kdd, -1, out),
	    GP_ERR_INVAL);
	assert_int_equal(gp_diversify(GP_DIV_NONE, master, 16, kdd, 0, out),
	    GP_ERR_INVAL);
	/* Wrong master lengths. */
	assert_int_equal(gp_diversify(GP_DIV_EMV, master, 24, kdd, GP_KEY_ENC,
	    out), GP_ERR_INVAL);
	assert_int_equal(gp_diversify(GP_DIV_VISA2, master, 8, kdd,
	    GP_KEY_ENC, out), GP_ERR_INVAL);
	assert_int_equal(gp_diversify(GP_DIV_KDF3, master, 20, kdd,
	    GP_KEY_ENC, out), GP_ERR_INVAL);
	assert_int_equal(gp_diversify(GP_DIV_KDF3, master, 0, kdd,
	    GP_KEY_ENC, out), GP_ERR_INVAL);
	/* Unknown method. */
	assert_int_equal(gp_diversify((enum gp_div_method)99, master, 16, kdd,
	    GP_KEY_ENC, out), GP_ERR_INVAL);
	assert_int_equal(out[0], 0xee);

	/* Key set: three types differ; a too-long master is refused. */
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(gp_keyset_diversify(&ks, GP_DIV_KDF3, master, 32,
	    kdd), 0);
	assert_int_equal(ks.len, 32);
	assert_memory_not_equal(ks.enc, ks.mac, 32);
	assert_memory_not_equal(ks.mac, ks.dek, 32);
	assert_int_equal(gp_keyset_diversify(&ks, GP_DIV_KDF3, master, 33,
	    kdd), GP_ERR_INVAL);
	assert_int_equal(gp_keyset_diversify(&ks, GP_DIV_EMV, master, 24,
	    kdd), GP_ERR_INVAL);
	/* A failed diversification leaves no key behind. */
	assert_int_equal(ks.len, 0);
	assert_memory_equal(ks.enc, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}

static void
test_div_method_parse(void **state)
{
	enum gp_div_method m = GP_DIV_NONE;

	(void)state;
	assert_int_equal(gp_div_method_parse("emv", &m), 0);
	assert_int_equal(m, GP_DIV_EMV);
	assert_int_equal(gp_div_method_parse("visa2", &m), 0);
	assert_int_equal(m, GP_DIV_VISA2);
	assert_int_equal(gp_div_method_parse("kdf3", &m), 0);
	assert_int_equal(m, GP_DIV_KDF3);
	assert_int_equal(gp_div_method_parse("none", &m), 0);
	assert_int_equal(m, GP_DIV_NONE);
	m = GP_DIV_KDF3;
	assert_int_equal(gp_div_method_parse("EMV", &m), GP_ERR_UNSUPPORTED);
	assert_int_equal(gp_div_method_parse("", &m), GP_ERR_UNSUPPORTED);
	assert_int_equal(gp_div_method_parse("visa", &m), GP_ERR_UNSUPPORTED);
	assert_int_equal(m, GP_DIV_KDF3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdf_scp03),
		cmocka_unit_test(test_kdf_scp03_args),
		cmocka_unit_test(test_kdf_scp02),
		cmocka_unit_test(test_diversify),
		cmocka_unit_test(test_diversify_args),
		cmocka_unit_test(test_div_method_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
