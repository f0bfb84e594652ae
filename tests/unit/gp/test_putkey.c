/*
 * PUT KEY, key component encryption and STORE DATA key DGIs
 * (tsm/gp/putkey.c). Layouts are written out from GP 2.3.1 11.8.2.3 and
 * Amendment D; ciphertexts and KCVs are the ones openjavacard-tools,
 * GlobalPlatformPro and kaoh/globalplatform publish (../shared/vectors),
 * never values produced by the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "gp/buf.h"
#include "gp/crypto.h"
#include "gp/err.h"
#include "gp/putkey.h"

#define BUFSZ	512

static const uint8_t K40[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46,
    0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F };

static void
assert_hex(const uint8_t *got, size_t n, const char *hex)
{
	uint8_t want[BUFSZ];
	size_t wn;

	assert_int_equal(gp_hex_decode(hex, want, sizeof(want), &wn), 0);
	assert_int_equal(n, wn);
	assert_memory_equal(got, want, wn);
}

static void
test_keyenc(void **state)
{
	static const uint8_t zero[16];
	uint8_t out[16], buf[64];
	struct gp_des3 d;
	struct gp_aes a;
	struct gp_wr w;

	(void)state;
	/* openjavacard encrypt_sensitive, DEK 4041..4F used directly */
	assert_int_equal(gp_des3_init(&d, K40), 0);
	assert_int_equal(gp_keyenc_scp02(&d, zero, out), 0);
	assert_hex(out, 16, "8BAF473F2F8FD0948BAF473F2F8FD094");
	assert_int_equal(gp_keyenc_scp02(&d, K40, out), 0);
	assert_hex(out, 16, "B4BAA89A8CD0292B45210E1BC84B1C31");
	gp_des3_free(&d);
	assert_int_equal(gp_aes_init(&a, K40, 16), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_keyenc_scp03(&a, zero, 16, &w), 0);
	assert_hex(buf, w.len, "101899564A9DA8DE833D25C71739EAADCE");
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_keyenc_scp03(&a, K40, 24, &w), GP_ERR_INVAL);
	assert_int_equal(w.len, 0);
	gp_aes_free(&a);
}

static void
test_put_key_scp02(void **state)
{
	struct gp_putkey pk = { .old_kvn = 0x00, .new_kvn = 0x01,
	    .key_id = 0x01, .keys = { K40 }, .nkeys = 1, .key_len = 16 };
	uint8_t buf[BUFSZ];
	struct gp_des3 d;
	struct gp_wr w;

	(void)state;
	assert_int_equal(gp_des3_init(&d, K40), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_put_key_scp02(&pk, &d, &w), 0);
	/* 80 D8 old id Lc, KVN, 80 10 E(key), 03 KCV, Le */
	assert_hex(buf, w.len, "80D8000117" "01" "8010"
	    "B4BAA89A8CD0292B45210E1BC84B1C31" "038BAF47" "00");
	/* three keys: P2 b8 set, 1 + 3 x 22 bytes */
	pk.old_kvn = 0x20;
	pk.new_kvn = 0x21;
	pk.keys[1] = pk.keys[2] = K40;
	pk.nkeys = 3;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_put_key_scp02(&pk, &d, &w), 0);
	assert_int_equal(w.len, 5 + 67 + 1);
	assert_hex(buf, 7, "80D82081432180");
	assert_hex(buf + 5 + 1 + 22 * 2, 22, "8010"
	    "B4BAA89A8CD0292B45210E1BC84B1C31" "038BAF47");
	pk.nkeys = 4;
	assert_int_equal(gp_cmd_put_key_scp02(&pk, &d, &w), GP_ERR_INVAL);
	pk.nkeys = 0;
	assert_int_equal(gp_cmd_put_key_scp02(&pk, &d, &w), GP_ERR_INVAL);
	gp_des3_free(&d);
}

static void
test_put_key_scp03(void **state)
{
	struct gp_putkey pk = { .old_kvn = 0x30, .new_kvn = 0x30,
	    .key_id = 0x01, .keys = { K40 }, .nkeys = 1, .key_len = 16 };
	uint8_t buf[BUFSZ];
	struct gp_aes a;
	struct gp_wr w;

	(void)state;
	assert_int_equal(gp_aes_init(&a, K40, 16), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_cmd_put_key_scp03(&pk, &a, &w), 0);
	/* 88 LV(10 ‖ E(key)) 03 KCV(aes) */
	assert_hex(buf, w.len, "80D8300118" "30" "8811" "10"
	    "80D2A5B08FA0EE51143B459E638106DF" "03504A77" "00");
	pk.key_len = 24;
	assert_int_equal(gp_cmd_put_key_scp03(&pk, &a, &w), GP_ERR_INVAL);
	pk.key_len = 16;
	pk.key_id = 0x81;		/* b8 is the multiple-keys flag */
	assert_int_equal(gp_cmd_put_key_scp03(&pk, &a, &w), GP_ERR_INVAL);
	gp_aes_free(&a);
}

static void
test_put_key_verify(void **state)
{
	static const uint8_t ok[7] = { 0x21, 0x50, 0x4A, 0x77, 0x50, 0x4A,
	    0x77 };
	uint8_t bad[7];
	struct gp_putkey pk = { .new_kvn = 0x21, .key_id = 1,
	    .keys = { K40, K40 }, .nkeys = 2, .key_len = 16 };

	(void)state;
	assert_int_equal(gp_put_key_verify(&pk, 1, ok, 7), 0);
	memcpy(bad, ok, 7);
	bad[6] ^= 1;
	assert_int_equal(gp_put_key_verify(&pk, 1, bad, 7), GP_ERR_AUTH);
	bad[6] ^= 1;
	bad[0] = 0x22;
	assert_int_equal(gp_put_key_verify(&pk, 1, bad, 7), GP_ERR_AUTH);
	assert_int_equal(gp_put_key_verify(&pk, 1, ok, 4), GP_ERR_FORMAT);
	/* 3DES KCV of 4041..4F is 8BAF47, not the AES one */
	assert_int_equal(gp_put_key_verify(&pk, 0, ok, 7), GP_ERR_AUTH);
}

static void
test_storedata_keys(void **state)
{
	/* kaoh/globalplatform storeDataTest.c, SCP04 purpose case */
	static const uint8_t dek[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	    11, 12, 13, 14, 15 };
	static const uint8_t k1[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13, 14, 15, 16 };
	static const uint8_t k2[16] = { 17, 18, 19, 20, 21, 22, 23, 24, 25,
	    26, 27, 28, 29, 30, 31, 32 };
	const struct gp_key_ref refs[2] = { { 1, k1 }, { 2, k2 } };
	struct gp_sd_keys sk = { .type = 0x88, .key_len = 16, .kvn = 1,
	    .access = 2, .purpose = 0x0004, .keys = refs, .nkeys = 2 };
	uint8_t buf[BUFSZ];
	struct gp_aes a;
	struct gp_wr w;

	(void)state;
	assert_int_equal(gp_aes_init(&a, dek, 16), 0);
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(gp_storedata_keys(&a, &sk, &w), 0);
	assert_hex(buf, w.len, "00B926B710800188810110830101960102970200"
	    "04B9088201018403EDCC64B9088201028403FBEBDC8113100892085605BE8F"
	    "349F584AF993DF11F88113101814C5D95BB42F2278C1DD6B74837F42");
	sk.type = 0x80;
	assert_int_equal(gp_storedata_keys(&a, &sk, &w), GP_ERR_INVAL);
	gp_aes_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyenc),
		cmocka_unit_test(test_put_key_scp02),
		cmocka_unit_test(test_put_key_scp03),
		cmocka_unit_test(test_put_key_verify),
		cmocka_unit_test(test_storedata_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
