/*
 * Symmetric primitives: AES ECB/CBC/CMAC, 3DES ECB/CBC, the retail MAC and
 * the full 3DES MAC, pad80/unpad80, KCVs, context reuse.
 *
 * Known answers not taken from a standard were computed with the openssl
 * 3.0 CLI (helper: h() { xxd -p -c 1000 | tr a-f A-F; }), as noted at each.
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

static size_t
hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	assert_int_equal(gp_hex_decode(s, out, cap, &n), 0);
	return n;
}

/* RFC 4493 / SP 800-38A message (64 bytes); examples use its prefixes. */
static const char *const M64 =
    "6BC1BEE22E409F96E93D7E117393172A" "AE2D8A571E03AC9C9EB76FAC45AF8E51"
    "30C81C46A35CE411E5FBC1191A0A52EF" "F69F2445DF4F9B17AD2B417BE66C3710";

struct cmac_case {
	const char	*key;
	size_t		 mlen;
	const char	*mac;
};

/*
 * NIST SP 800-38B appendix D.1-D.3 (D.1 = RFC 4493 section 4). Cross-checked:
 * printf %s <msg> | xxd -r -p | openssl mac -cipher AES-128-CBC \
 *     -macopt hexkey:<key> CMAC          (-in /dev/null for the empty one)
 */
static const struct cmac_case cmac_cases[] = {
	{ "2B7E151628AED2A6ABF7158809CF4F3C", 0,
	    "BB1D6929E95937287FA37D129B756746" },
	{ "2B7E151628AED2A6ABF7158809CF4F3C", 16,
	    "070A16B46B4D4144F79BDD9DD04A287C" },
	{ "2B7E151628AED2A6ABF7158809CF4F3C", 40,
	    "DFA66747DE9AE63030CA32611497C827" },
	{ "2B7E151628AED2A6ABF7158809CF4F3C", 64,
	    "51F0BEBF7E3B9D92FC49741779363CFE" },
	{ "8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B", 0,
	    "D17DDF46ADAACDE531CAC483DE7A9367" },
	{ "8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B", 16,
	    "9E99A7BF31E710900662F65E617C5184" },
	{ "8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B", 40,
	    "8A1DE5BE2EB31AAD089A82E6EE908B0E" },
	{ "8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B", 64,
	    "A1D5DF0EED790F794D77589659F39A11" },
	{ "603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4",
	    0, "028962F61B7BF89EFC6B551F4667D983" },
	{ "603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4",
	    16, "28A7023F452E8F82BD4BF28D8C37C35C" },
	{ "603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4",
	    40, "AAF3D8F1DE5640C232F5B169B9C911E6" },
	{ "603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4",
	    64, "E1992190549F6ED5696A2C056C315410" },
};

static void
test_aes_cmac(void **state)
{
	uint8_t key[32], msg[64], want[16], got[16];
	struct gp_aes a;
	size_t i, kl, cut1, cut2;

	(void)state;
	hex(M64, msg, sizeof(msg));
	for (i = 0; i < sizeof(cmac_cases) / sizeof(cmac_cases[0]); i++) {
		const struct cmac_case *c = &cmac_cases[i];

		kl = hex(c->key, key, sizeof(key));
		hex(c->mac, want, sizeof(want));
		assert_int_equal(gp_aes_init(&a, key, kl), 0);
		assert_int_equal(a.klen, kl);
		memset(got, 0, sizeof(got));
		assert_int_equal(gp_aes_cmac(&a, msg, c->mlen, got), 0);
		assert_memory_equal(got, want, 16);
		/* Every split into three parts gives the same MAC. */
		for (cut1 = 0; cut1 <= c->mlen; cut1 += 5) {
			for (cut2 = cut1; cut2 <= c->mlen; cut2 += 7) {
				memset(got, 0, sizeof(got));
				assert_int_equal(gp_aes_cmac3(&a, msg, cut1,
				    msg + cut1, cut2 - cut1, msg + cut2,
				    c->mlen - cut2, got), 0);
				assert_memory_equal(got, want, 16);
			}
		}
		assert_int_equal(gp_aes_cmac3(&a, NULL, 0, msg, c->mlen,
		    NULL, 0, got), 0);
		assert_memory_equal(got, want, 16);
		gp_aes_free(&a);
		assert_null(a.cmac);
	}
}

/* SP 800-38A F.1.1 (ECB-AES128) and F.2.1 / F.2.5 (CBC-AES128/256). */
static void
test_aes_ecb_cbc(void **state)
{
	uint8_t key[32], iv[16], pt[64], ct[32], buf[32], want[32];
	struct gp_aes a;
	size_t kl;

	(void)state;
	hex(M64, pt, sizeof(pt));	/* the first 32 bytes are used */
	kl = hex("2B7E151628AED2A6ABF7158809CF4F3C", key, sizeof(key));
	hex("000102030405060708090A0B0C0D0E0F", iv, sizeof(iv));
	assert_int_equal(gp_aes_init(&a, key, kl), 0);
	hex("3AD77BB40D7A3660A89ECAF32466EF97", want, sizeof(want));
	assert_int_equal(gp_aes_ecb(&a, pt, ct), 0);
	assert_memory_equal(ct, want, 16);
	hex("F5D3D58503B9699DE785895A96FDBAAF", want, sizeof(want));
	assert_int_equal(gp_aes_ecb(&a, pt + 16, ct), 0);
	assert_memory_equal(ct, want, 16);

	hex("7649ABAC8119B246CEE98E9B12E9197D"
	    "5086CB9B507219EE95DB113A917678B2", want, sizeof(want));
	assert_int_equal(gp_aes_cbc_enc(&a, iv, pt, 32, ct), 0);
	assert_memory_equal(ct, want, 32);
	/* In place, and decryption back. */
	memcpy(buf, pt, 32);
	assert_int_equal(gp_aes_cbc_enc(&a, iv, buf, 32, buf), 0);
	assert_memory_equal(buf, want, 32);
	assert_int_equal(gp_aes_cbc_dec(&a, iv, buf, 32, buf), 0);
	assert_memory_equal(buf, pt, 32);
	/* Zero length is a no-op, partial blocks are refused. */
	assert_int_equal(gp_aes_cbc_enc(&a, iv, pt, 0, buf), 0);
	assert_int_equal(gp_aes_cbc_enc(&a, iv, pt, 15, buf), GP_ERR_INVAL);
	assert_int_equal(gp_aes_cbc_dec(&a, iv, pt, 17, buf), GP_ERR_INVAL);
	gp_aes_free(&a);

	kl = hex("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A3"
	    "0914DFF4", key, sizeof(key));
	assert_int_equal(gp_aes_init(&a, key, kl), 0);
	hex("F58C4C04D6E5F1BA779EABFB5F7BFBD6", want, sizeof(want));
	assert_int_equal(gp_aes_cbc_enc(&a, iv, pt, 16, ct), 0);
	assert_memory_equal(ct, want, 16);
	gp_aes_free(&a);

	/* Bad key lengths. */
	assert_int_equal(gp_aes_init(&a, key, 15), GP_ERR_INVAL);
	assert_null(a.ecb);
	assert_int_equal(gp_aes_init(&a, key, 0), GP_ERR_INVAL);
	assert_int_equal(gp_aes_init(&a, key, 20), GP_ERR_INVAL);
	gp_aes_free(&a);	/* safe on a failed init */
}

/* K = 0123456789ABCDEF FEDCBA9876543210 (K1 != K2) for all 3DES cases. */
static const char *const DK = "0123456789ABCDEFFEDCBA9876543210";

static void
test_des3_ecb_cbc(void **state)
{
	uint8_t key[16], pt[16], iv[8], out[16], want[16], buf[16];
	struct gp_des3 d;

	(void)state;
	hex(DK, key, sizeof(key));
	hex("00112233445566778899AABBCCDDEEFF", pt, sizeof(pt));
	hex("0102030405060708", iv, sizeof(iv));
	assert_int_equal(gp_des3_init(&d, key), 0);
	/*
	 * printf 00112233445566778899AABBCCDDEEFF | xxd -r -p |
	 *     openssl enc -des-ede -K $DK -nopad | h
	 */
	hex("31A7364CAC91CA39C0489F69BEC54FA2", want, sizeof(want));
	assert_int_equal(gp_des3_ecb_enc(&d, pt, 16, out), 0);
	assert_memory_equal(out, want, 16);
	assert_int_equal(gp_des3_ecb_dec(&d, out, 16, buf), 0);
	assert_memory_equal(buf, pt, 16);
	/* ... | openssl enc -des-ede-cbc -K $DK -iv 0102030405060708 -nopad */
	hex("C2498BDEB1160254889EC19856550130", want, sizeof(want));
	assert_int_equal(gp_des3_cbc_enc(&d, iv, pt, 16, out), 0);
	assert_memory_equal(out, want, 16);
	memcpy(buf, out, 16);
	assert_int_equal(gp_des3_cbc_dec(&d, iv, buf, 16, buf), 0);
	assert_memory_equal(buf, pt, 16);
	/*
	 * Single DES with K1:
	 * printf 0001020304050607 | xxd -r -p | openssl enc -des-ecb
	 *     -provider legacy -provider default -K 0123456789ABCDEF -nopad
	 */
	hex("0001020304050607", pt, sizeof(pt));
	hex("3260266C2CF202E2", want, sizeof(want));
	assert_int_equal(gp_des_ecb_k1(&d, pt, out), 0);
	assert_memory_equal(out, want, 8);
	assert_int_equal(gp_des3_ecb_enc(&d, pt, 7, out), GP_ERR_INVAL);
	assert_int_equal(gp_des3_ecb_dec(&d, pt, 9, out), GP_ERR_INVAL);
	assert_int_equal(gp_des3_cbc_enc(&d, iv, pt, 12, out), GP_ERR_INVAL);
	assert_int_equal(gp_des3_cbc_dec(&d, iv, pt, 4, out), GP_ERR_INVAL);
	gp_des3_free(&d);
	assert_null(d.ecb_e);
}

struct mac_case {
	const char	*msg;
	const char	*icv;
	const char	*mac;
};

/*
 * Retail MAC, key DK, derived with (P = pad80 of the message, L its last
 * block, F the blocks before it, when there are any):
 *   iv=$(printf F | xxd -r -p | openssl enc -des-cbc -provider legacy \
 *       -provider default -K 0123456789ABCDEF -iv ICV -nopad | h | tail -c 17)
 *   printf L | xxd -r -p | openssl enc -des-ede-cbc -K $DK -iv $iv -nopad | h
 * (with one block only, iv = ICV).
 */
static const struct mac_case retail_cases[] = {
	{ "", "0000000000000000", "F1FBCF2A56D19BA7" },
	{ "0001020304050607", "0000000000000000", "9506A7627D1E3D46" },
	{ "0001020304050607", "A0A1A2A3A4A5A6A7", "D99DE25F6A97B53A" },
	{ "000102030405060708090A0B0C0D0E0F1011121314", "A0A1A2A3A4A5A6A7",
	    "698082A696FA4466" },
};

static void
test_retail_mac(void **state)
{
	uint8_t key[16], msg[32], icv[8], want[8], out[8];
	struct gp_des3 d;
	size_t i, n, cut;

	(void)state;
	hex(DK, key, sizeof(key));
	assert_int_equal(gp_des3_init(&d, key), 0);
	for (i = 0; i < sizeof(retail_cases) / sizeof(retail_cases[0]); i++) {
		n = hex(retail_cases[i].msg, msg, sizeof(msg));
		hex(retail_cases[i].icv, icv, sizeof(icv));
		hex(retail_cases[i].mac, want, sizeof(want));
		for (cut = 0; cut <= n; cut++) {
			memset(out, 0, sizeof(out));
			assert_int_equal(gp_retail_mac(&d, icv, msg, cut,
			    msg + cut, n - cut, out), 0);
			assert_memory_equal(out, want, 8);
		}
	}
	gp_des3_free(&d);
}

/*
 * Full 3DES MAC: last block of
 *   printf <pad80(msg)> | xxd -r -p | openssl enc -des-ede-cbc -K $DK \
 *       -iv 0000000000000000 -nopad | h
 */
static const struct mac_case full_cases[] = {
	{ "000102030405060708090A0B0C", NULL, "49369A6097A6F298" },
	{ "000102030405060708090A0B0C0D0E0F", NULL, "08FFB8C0962F2050" },
};

static void
test_full_mac(void **state)
{
	uint8_t key[16], msg[32], want[8], out[8];
	struct gp_des3 d;
	size_t i, n;

	(void)state;
	hex(DK, key, sizeof(key));
	assert_int_equal(gp_des3_init(&d, key), 0);
	for (i = 0; i < sizeof(full_cases) / sizeof(full_cases[0]); i++) {
		n = hex(full_cases[i].msg, msg, sizeof(msg));
		hex(full_cases[i].mac, want, sizeof(want));
		memset(out, 0, sizeof(out));
		assert_int_equal(gp_des3_full_mac(&d, msg, n, out), 0);
		assert_memory_equal(out, want, 8);
	}
	gp_des3_free(&d);
}

static void
test_pad80(void **state)
{
	uint8_t in[40], out[48];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(0x11 * (i + 1));
	/* Empty: one full block of padding. */
	memset(out, 0xee, sizeof(out));
	assert_int_equal(gp_pad80(in, 0, 8, out, sizeof(out)), 8);
	assert_memory_equal(out, "\x80\0\0\0\0\0\0\0", 8);
	assert_int_equal(out[8], 0xee);
	assert_int_equal(gp_pad80(in, 0, 16, out, sizeof(out)), 16);
	assert_int_equal(out[0], 0x80);
	assert_memory_equal(out + 1, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15);
	/* One short of a block: a single 80. */
	assert_int_equal(gp_pad80(in, 7, 8, out, sizeof(out)), 8);
	assert_memory_equal(out, in, 7);
	assert_int_equal(out[7], 0x80);
	/* Exact block: a whole block is added. */
	assert_int_equal(gp_pad80(in, 8, 8, out, sizeof(out)), 16);
	assert_memory_equal(out, in, 8);
	assert_memory_equal(out + 8, "\x80\0\0\0\0\0\0\0", 8);
	assert_int_equal(gp_pad80(in, 16, 16, out, sizeof(out)), 32);
	assert_int_equal(out[16], 0x80);
	assert_int_equal(gp_pad80(in, 17, 16, out, sizeof(out)), 32);
	assert_int_equal(out[17], 0x80);
	assert_int_equal(out[31], 0x00);
	/* Capacity: exactly enough, one byte short. */
	assert_int_equal(gp_pad80(in, 8, 8, out, 16), 16);
	assert_int_equal(gp_pad80(in, 8, 8, out, 15), 0);
	assert_int_equal(gp_pad80(in, 0, 16, out, 15), 0);
	/* In place. */
	memcpy(out, in, 5);
	assert_int_equal(gp_pad80(out, 5, 8, out, sizeof(out)), 8);
	assert_memory_equal(out, in, 5);
	assert_memory_equal(out + 5, "\x80\0\0", 3);
}

struct unpad_case {
	const char	*in;
	long		 want;
};

static void
test_unpad80(void **state)
{
	static const struct unpad_case cases[] = {
		{ "", -1 },
		{ "80", 0 },
		{ "8000000000000000", 0 },
		{ "1180", 1 },
		{ "0080", 1 },			/* data may end in 00 */
		{ "808000", 1 },		/* ... or in 80 */
		{ "1122334455667780", 7 },
		{ "11223344556677888000000000000000", 8 },
		{ "00000000", -1 },		/* all zeros */
		{ "0000000000000000", -1 },
		{ "1122", -1 },			/* no marker */
		{ "118001", -1 },		/* non-zero after 80 */
		{ "1181000000", -1 },		/* 81 is not 80 */
		{ "7F", -1 },
	};
	uint8_t b[32];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = hex(cases[i].in, b, sizeof(b));
		assert_int_equal(gp_unpad80(b, n), cases[i].want);
	}
	/* pad80 then unpad80 gives the length back, for every length. */
	for (n = 0; n <= 20; n++) {
		uint8_t in[20], out[32];
		size_t pn;

		memset(in, 0x80, sizeof(in));
		pn = gp_pad80(in, n, 16, out, sizeof(out));
		assert_int_equal(pn, (n / 16 + 1) * 16);
		assert_int_equal(gp_unpad80(out, pn), (long)n);
	}
}

struct kcv_case {
	int		 aes;
	const char	*key;
	const char	*kcv;
};

/*
 * des3: printf 0000000000000000 | xxd -r -p | openssl enc -des-ede -K KEY -nopad
 * aes:  printf 01010101010101010101010101010101 | xxd -r -p |
 *           openssl enc -aes-128-ecb (or -aes-256-ecb) -K KEY -nopad
 * (first 3 bytes). 8BAF47 and 504A77 are also the well-known KCVs of the
 * GP test key 404142...4F.
 */
static const struct kcv_case kcv_cases[] = {
	{ 0, "404142434445464748494A4B4C4D4E4F", "8BAF47" },
	{ 0, "0123456789ABCDEFFEDCBA9876543210", "08D7B4" },
	{ 1, "404142434445464748494A4B4C4D4E4F", "504A77" },
	{ 1, "603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A3"
	    "0914DFF4", "B3738B" },
};

static void
test_kcv(void **state)
{
	uint8_t key[32], want[3], out[3];
	size_t i, kl;

	(void)state;
	for (i = 0; i < sizeof(kcv_cases) / sizeof(kcv_cases[0]); i++) {
		kl = hex(kcv_cases[i].key, key, sizeof(key));
		hex(kcv_cases[i].kcv, want, sizeof(want));
		memset(out, 0, sizeof(out));
		if (kcv_cases[i].aes)
			assert_int_equal(gp_kcv_aes(key, kl, out), 0);
		else
			assert_int_equal(gp_kcv_des3(key, out), 0);
		assert_memory_equal(out, want, 3);
	}
	assert_int_equal(gp_kcv_aes(key, 17, out), GP_ERR_INVAL);
}

/* The same context, used for other work in between, gives the same answers. */
static void
test_context_reuse(void **state)
{
	uint8_t key[32], msg[64], iv1[16], iv2[16], a1[16], a2[16], c1[32],
	    c2[32], c3[32], dkey[16], r1[8], r2[8], e1[16], e2[16];
	uint8_t zero[8] = { 0 };
	struct gp_aes a;
	struct gp_des3 d;
	int round;

	(void)state;
	hex(M64, msg, sizeof(msg));
	hex("2B7E151628AED2A6ABF7158809CF4F3C", key, sizeof(key));
	memset(iv1, 0x00, sizeof(iv1));
	memset(iv2, 0xa5, sizeof(iv2));
	assert_int_equal(gp_aes_init(&a, key, 16), 0);
	assert_int_equal(gp_aes_cmac(&a, msg, 64, a1), 0);
	assert_int_equal(gp_aes_cbc_enc(&a, iv1, msg, 32, c1), 0);
	for (round = 0; round < 3; round++) {
		assert_int_equal(gp_aes_cmac(&a, msg, 40, a2), 0);
		assert_memory_not_equal(a1, a2, 16);
		assert_int_equal(gp_aes_cbc_enc(&a, iv2, msg, 32, c2), 0);
		assert_memory_not_equal(c1, c2, 32);
		assert_int_equal(gp_aes_cbc_dec(&a, iv2, c2, 32, c3), 0);
		assert_memory_equal(c3, msg, 32);
		/* A partial MAC must not leak into the next one. */
		assert_int_equal(gp_aes_cmac(&a, msg, 64, a2), 0);
		assert_memory_equal(a1, a2, 16);
		assert_int_equal(gp_aes_cbc_enc(&a, iv1, msg, 32, c2), 0);
		assert_memory_equal(c1, c2, 32);
	}
	hex("51F0BEBF7E3B9D92FC49741779363CFE", a2, sizeof(a2));
	assert_memory_equal(a1, a2, 16);
	gp_aes_free(&a);

	hex(DK, dkey, sizeof(dkey));
	assert_int_equal(gp_des3_init(&d, dkey), 0);
	assert_int_equal(gp_retail_mac(&d, zero, msg, 8, NULL, 0, r1), 0);
	assert_int_equal(gp_des3_cbc_enc(&d, iv2, msg, 16, e1), 0);
	for (round = 0; round < 3; round++) {
		assert_int_equal(gp_retail_mac(&d, iv2, msg, 21, NULL, 0, r2),
		    0);
		assert_int_equal(gp_des3_cbc_enc(&d, zero, msg, 16, e2), 0);
		assert_int_equal(gp_retail_mac(&d, zero, msg, 8, NULL, 0, r2),
		    0);
		assert_memory_equal(r1, r2, 8);
		assert_int_equal(gp_des3_cbc_enc(&d, iv2, msg, 16, e2), 0);
		assert_memory_equal(e1, e2, 16);
	}
	/*
	 * Retail MAC of 6BC1BEE22E409F96, key DK, ICV 0, by the recipe above:
	 * iv = des-cbc(K1, IV 0, 6BC1BEE22E409F96) then des-ede-cbc(DK, iv,
	 * 8000000000000000).
	 */
	hex("2703F446F9E08D61", r2, sizeof(r2));
	assert_memory_equal(r1, r2, 8);
	gp_des3_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aes_cmac),
		cmocka_unit_test(test_aes_ecb_cbc),
		cmocka_unit_test(test_des3_ecb_cbc),
		cmocka_unit_test(test_retail_mac),
		cmocka_unit_test(test_full_mac),
		cmocka_unit_test(test_pad80),
		cmocka_unit_test(test_unpad80),
		cmocka_unit_test(test_kcv),
		cmocka_unit_test(test_context_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
