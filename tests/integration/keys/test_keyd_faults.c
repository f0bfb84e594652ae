/*
 * tsm-keyd under faults and hostile callers: wrong PIN, unknown key, a
 * caller with the wrong uid, keyd killed in the middle of a request (the
 * client gets a clean error and reconnects to the new keyd), oversized and
 * garbage frames, and an audit trail that names keys but never holds one.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gp/buf.h"
#include "gp/kdf.h"
#include "keyd_env.h"
#include "keys.h"
#include "keys_proto.h"

static struct keyd_env env;
static struct keys_client cl;
static const uint8_t mk[16] = { 0xC0, 0xFF, 0xEE, 0x01, 0x23, 0x45, 0x67,
    0x89, 0xAB, 0xCD, 0xEF, 0x10, 0x32, 0x54, 0x76, 0x98 };

static int
up(void **state)
{
	if (env_up(&env, &cl, 3000) != 0)
		return -1;
	return env_import(&cl, "isd", 1, KEYS_ROLE_MASTER, GP_DIV_EMV,
	    KEYS_ALG_DES3, mk, 16) == 0 ? 0 : -1;
}

static int
down(void **state)
{
	env_down(&env, &cl);
	return 0;
}

static void
test_wrong_pin(void **state)
{
	struct keyd_env e2 = env;
	char bad[160];
	FILE *f;
	const char *extra[] = { "-P", bad, NULL };

	snprintf(bad, sizeof(bad), "%s/badpin", env.dir);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("9999\n", f);
	fclose(f);
	snprintf(e2.sock, sizeof(e2.sock), "%s/bad.sock", env.dir);
	/* keyd refuses to start: exit status 3, nothing listens */
	assert_int_equal(env_start(&e2, extra), 3);
	assert_int_not_equal(access(e2.sock, F_OK), 0);
}

static void
test_unknown_key(void **state)
{
	uint8_t hc[8] = { 0 }, rsp[28] = { 0 }, kcv[9], kdd[10] = { 0 };
	struct keys_session ks;

	rsp[11] = 0x02;
	assert_int_equal(keys_open_channel(&cl, "nope", 1, 2, 0x15, 8, hc,
	    rsp, sizeof(rsp), &ks), KEYS_ERR_NOKEY);
	assert_int_equal(keys_card_kcv(&cl, "isd", 9, kdd, kcv),
	    KEYS_ERR_NOKEY);
	assert_int_equal(keys_card_kcv(&cl, "isd", 1, kdd, kcv), 0);
}

/* A label longer than the protocol's 32 characters is refused by the
 * client, never cut: cut, it would name "isd" + 29 characters' key set. */
static void
test_long_label(void **state)
{
	uint8_t hc[8] = { 0 }, rsp[28] = { 0 }, kcv[9], kdd[10] = { 0 };
	char fits[KEYS_LABEL_MAX + 1], over[KEYS_LABEL_MAX + 2];
	struct keys_putkey_req pk;
	struct keys_session ks;
	uint8_t buf[300];
	struct gp_wr w;

	(void)state;
	memset(fits, 'x', KEYS_LABEL_MAX);
	fits[KEYS_LABEL_MAX] = '\0';
	memset(over, 'x', KEYS_LABEL_MAX + 1);
	over[KEYS_LABEL_MAX + 1] = '\0';
	rsp[11] = 0x02;
	/* 32 characters reach keyd (no such key); 33 do not leave. */
	assert_int_equal(keys_open_channel(&cl, fits, 1, 2, 0x15, 8, hc,
	    rsp, sizeof(rsp), &ks), KEYS_ERR_NOKEY);
	assert_int_equal(keys_open_channel(&cl, over, 1, 2, 0x15, 8, hc,
	    rsp, sizeof(rsp), &ks), KEYS_ERR_INVAL);
	assert_int_equal(keys_card_kcv(&cl, fits, 1, kdd, kcv),
	    KEYS_ERR_NOKEY);
	assert_int_equal(keys_card_kcv(&cl, over, 1, kdd, kcv),
	    KEYS_ERR_INVAL);
	assert_int_equal(keys_card_kcv(&cl, NULL, 1, kdd, kcv),
	    KEYS_ERR_INVAL);
	memset(&pk, 0, sizeof(pk));
	pk.label = "isd";
	pk.version = 1;
	pk.new_label = over;
	pk.new_version = 2;
	gp_wr_init(&w, buf, sizeof(buf));
	assert_int_equal(keys_put_key(&cl, &pk, &w, kcv), KEYS_ERR_INVAL);
	assert_int_equal(w.len, 0);
	/* The connection is still good. */
	assert_int_equal(keys_card_kcv(&cl, "isd", 1, kdd, kcv), 0);
}

static void
test_wrong_uid(void **state)
{
	struct keyd_env e2 = env;
	struct keys_client c2;
	const char *extra[] = { "-u", "4242", NULL };
	uint8_t kcv[9], kdd[10] = { 0 };

	snprintf(e2.sock, sizeof(e2.sock), "%s/uid.sock", env.dir);
	assert_int_equal(env_start(&e2, extra), 0);
	keys_init(&c2, e2.sock, 3000);
	assert_int_equal(keys_ping(&c2), KEYS_ERR_DENIED);
	assert_int_equal(keys_card_kcv(&c2, "isd", 1, kdd, kcv),
	    KEYS_ERR_DENIED);
	keys_close(&c2);
	env_stop(&e2);
}

/* Freezes keyd (its process group) and kills it 300 ms later from a
 * helper process, so that what is sent meanwhile is in flight. */
static pid_t
kill_frozen(pid_t keyd)
{
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	pid_t helper;

	assert_int_equal(kill(-keyd, SIGSTOP), 0);
	if ((helper = fork()) == 0) {
		nanosleep(&ts, NULL);
		kill(-keyd, SIGKILL);
		kill(-keyd, SIGCONT);
		_exit(0);
	}
	assert_true(helper > 0);
	return helper;
}

/* The helper and the killed keyd waited for. */
static void
reap(pid_t helper, pid_t keyd)
{
	waitpid(helper, NULL, 0);
	waitpid(keyd, NULL, 0);
	env.pid = 0;
}

static void
test_killed_mid_request(void **state)
{
	uint8_t kcv[9], kdd[10] = { 0 };
	pid_t helper, keyd = env.pid;

	assert_int_equal(keys_ping(&cl), 0);
	/* Freeze keyd so the request is in flight, then kill it. */
	helper = kill_frozen(keyd);
	assert_int_equal(keys_card_kcv(&cl, "isd", 1, kdd, kcv), KEYS_ERR_IO);
	assert_int_equal(cl.fd, -1);	/* dropped, not left out of step */
	reap(helper, keyd);
	assert_int_equal(keys_ping(&cl), KEYS_ERR_IO);	/* nobody there */
	assert_int_equal(env_start(&env, NULL), 0);
	/* the same client reconnects on its own */
	assert_int_equal(keys_card_kcv(&cl, "isd", 1, kdd, kcv), 0);
}

/* The same with a pipelined batch in flight: every answer fails cleanly. */
static void
test_killed_mid_pipeline(void **state)
{
	uint8_t hc[8] = { 0 }, rsp[28] = { 0 };
	struct keys_open_req o[4];
	struct keys_session out[4];
	int res[4], i;
	pid_t helper, keyd = env.pid;

	rsp[11] = 0x02;
	for (i = 0; i < 4; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		o[i].label = "isd";
		o[i].version = 1;
		o[i].proto = 2;
		o[i].i = 0x55;
		o[i].s = 8;
		o[i].host_challenge = hc;
		o[i].rsp = rsp;
		o[i].rsplen = sizeof(rsp);
	}
	assert_int_equal(keys_ping(&cl), 0);
	helper = kill_frozen(keyd);
	assert_int_equal(keys_open_channels(&cl, o, 4, out, res), KEYS_ERR_IO);
	for (i = 0; i < 4; i++)
		assert_int_equal(res[i], KEYS_ERR_IO);
	assert_int_equal(cl.fd, -1);
	reap(helper, keyd);
	assert_int_equal(env_start(&env, NULL), 0);
	/* reconnects; a wrong cryptogram per answer, the stream in step */
	assert_int_equal(keys_open_channels(&cl, o, 4, out, res), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(res[i], KEYS_ERR_CARD_CRYPTOGRAM);
	assert_int_equal(keys_ping(&cl), 0);
}

/* A keyd that does not answer: KEYS_ERR_TIMEOUT after the timeout. */
static void
test_timeout(void **state)
{
	struct keys_client c2;
	struct timespec t0, t1;
	double ms;

	keys_init(&c2, env.sock, 300);
	assert_int_equal(keys_ping(&c2), 0);
	assert_int_equal(kill(-env.pid, SIGSTOP), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(keys_ping(&c2), KEYS_ERR_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(kill(-env.pid, SIGCONT), 0);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(ms >= 250 && ms < 2000);
	assert_int_equal(c2.fd, -1);	/* out of step: dropped */
	assert_int_equal(keys_ping(&c2), 0);
	keys_close(&c2);
}

static void
test_oversized(void **state)
{
	uint8_t hdr[4] = { 0x00, 0x01, 0x86, 0xA0 }, ans[64];
	size_t n;
	int fd = env_raw_connect(&env);

	assert_int_equal(write(fd, hdr, 4), 4);
	assert_int_equal(keys_frame_recv(fd, ans, sizeof(ans), &n, 3000), 0);
	assert_int_equal(n, 1);
	assert_int_equal(-(int)ans[0], KEYS_ERR_TOOLARGE);
	assert_int_equal(read(fd, ans, sizeof(ans)), 0);	/* closed */
	close(fd);
	assert_int_equal(keys_ping(&cl), 0);
}

static void
test_garbage(void **state)
{
	static const uint8_t bad[][8] = {
		{ 0xEE },			/* unknown type */
		{ 0x00 },			/* type zero */
		{ KEYS_REQ_OPEN, 0x03, 'i' },	/* truncated label */
		{ KEYS_REQ_CARD_KCV, 0x00 },	/* empty label */
		{ KEYS_REQ_PING, 0x00 },	/* trailing byte */
		{ KEYS_REQ_CARD_KCV, 0x02, 'a', '\n', 1 },	/* bad char */
	};
	uint8_t body[600], ans[KEYS_MSG_MAX];
	size_t i, n, len;
	unsigned seed = 1234;
	int fd, answered = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = env_raw_connect(&env);
		len = i == 0 || i == 1 ? 1 : i == 4 ? 2 : i == 2 ? 3 :
		    i == 3 ? 2 : 5;
		assert_int_equal(keys_frame_send(fd, bad[i], len, 3000), 0);
		assert_int_equal(keys_frame_recv(fd, ans, sizeof(ans), &n,
		    3000), 0);
		assert_int_equal(n, 1);
		assert_int_equal(-(int)ans[0], KEYS_ERR_PROTO);
		close(fd);
	}
	/* random bodies: every one gets an answer or a close, keyd lives */
	for (i = 0; i < 300; i++) {
		len = 1 + (size_t)(rand_r(&seed) % sizeof(body));
		for (n = 0; n < len; n++)
			body[n] = (uint8_t)rand_r(&seed);
		body[0] = (uint8_t)(1 + i % (KEYS_REQ_MAX + 2));
		fd = env_raw_connect(&env);
		assert_int_equal(keys_frame_send(fd, body, len, 3000), 0);
		if (keys_frame_recv(fd, ans, sizeof(ans), &n, 3000) == 0 &&
		    n >= 1)
			answered++;
		close(fd);
	}
	assert_int_equal(answered, 300);
	assert_int_equal(keys_ping(&cl), 0);
}

static void
test_audit(void **state)
{
	char line[512], hex[33], comp[33];
	uint8_t r[16];
	FILE *f;
	size_t i;
	int lines = 0, opens = 0, denied = 0;

	gp_hex_encode(mk, 16, hex);
	for (i = 0; i < 16; i++)
		r[i] = (uint8_t)(mk[i] ^ (uint8_t)(0x5A + 7 * i));
	gp_hex_encode(r, 16, comp);
	f = fopen(env.audit, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		lines++;
		assert_null(strstr(line, hex));
		assert_null(strstr(line, comp));
		if (strstr(line, "req=open key=nope/1") != NULL &&
		    strstr(line, "no such key") != NULL)
			opens++;
		if (strstr(line, "uid=") != NULL &&
		    strstr(line, "caller not allowed") != NULL)
			denied++;
	}
	fclose(f);
	assert_true(lines > 300);
	assert_int_equal(opens, 1);
	assert_true(denied >= 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrong_pin),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_long_label),
		cmocka_unit_test(test_wrong_uid),
		cmocka_unit_test(test_killed_mid_request),
		cmocka_unit_test(test_killed_mid_pipeline),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_audit),
	};

	return cmocka_run_group_tests(tests, up, down);
}
