/*
 * The tsmd integration environment (tsmd_env.h): keyd on SoftHSMv2, the
 * agent CA, a SQLite store, tsmd; test cards on libcardsim; and the
 * checks the tests share.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
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
#include <sqlite3.h>

#include "gp/apdu.h"
#include "gp/cmd.h"
#include "gp/registry.h"
#include "store/ops.h"
#include "tsmd_env.h"

/* The cards' ISD master key (KDF3, AES-128), known to the test only to
 * build the simulated cards. */
static const uint8_t master[16] = { 0x4D, 0x41, 0x53, 0x54, 0x45, 0x52,
    0x2D, 0x54, 0x53, 0x4D, 0x44, 0x2D, 0x54, 0x45, 0x53, 0x54 };

/* The issuer's master key (KDF3): the key set cards rotate to. */
static const uint8_t issuer[16] = { 0x49, 0x53, 0x53, 0x55, 0x45, 0x52,
    0x2D, 0x4D, 0x41, 0x53, 0x54, 0x45, 0x52, 0x2D, 0x30, 0x31 };

void
tenv_msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int
tenv_tsmctl(struct tsmd_env *e, char *out, size_t cap, const char *fmt, ...)
{
	char args[2048], cmd[4096];
	va_list ap;
	FILE *p;
	size_t n = 0;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "TSM_DB='%s' %s %s 2>&1", e->db,
	    TSMCTL_PATH, args);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (out != NULL && cap > 0) {
		n = fread(out, 1, cap - 1, p);
		out[n] = '\0';
	} else {
		char sink[512];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
write_conf(struct tsmd_env *e)
{
	FILE *f;

	snprintf(e->conf, sizeof(e->conf), "%s/tsmd.conf", e->dir);
	if ((f = fopen(e->conf, "w")) == NULL)
		return -1;
	fprintf(f, "# tsmd integration test\n"
	    "listen = 127.0.0.1:0\nmetrics_listen = 127.0.0.1:0\n"
	    "port_file = %s/ports\n"
	    "tls_cert = %s/server.crt\ntls_key = %s/server.key\n"
	    "agent_ca = %s/ca.crt\nagent_crl = %s/crl.pem\n"
	    "db = %s\nkeyd = %s\nkey_label = isd\n"
	    "loops = 2\nworkers = 2\nsession_timeout_ms = 2000\n"
	    "drain_timeout_ms = 10000\nlog_level = debug\n",
	    e->dir, e->ca, e->ca, e->ca, e->ca, e->db, e->keyd.sock);
	return fclose(f);
}

int
tenv_tsmd_start(struct tsmd_env *e)
{
	char ports[256];
	FILE *f;
	int i, st, fd;

	snprintf(ports, sizeof(ports), "%s/ports", e->dir);
	unlink(ports);
	if ((e->pid = fork()) == 0) {
		if ((fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND,
		    0600)) >= 0)
			dup2(fd, 2);
		execl(TSMD_PATH, "tsmd", "-c", e->conf, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		if (waitpid(e->pid, &st, WNOHANG) == e->pid) {
			fprintf(stderr, "tsmd exited at start; log %s\n",
			    e->log);
			e->pid = 0;
			return -1;
		}
		if ((f = fopen(ports, "r")) != NULL) {
			int ok = fscanf(f, "%d %d", &e->port, &e->mport) == 2;

			fclose(f);
			if (ok)
				return 0;
		}
		tenv_msleep(20);
	}
	return -1;
}

int
tenv_tsmd_stop(struct tsmd_env *e, int ms)
{
	int st, waited;

	if (e->pid <= 0)
		return -1;
	kill(e->pid, SIGTERM);
	for (waited = 0; waited < ms; waited += 20) {
		if (waitpid(e->pid, &st, WNOHANG) == e->pid) {
			e->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		}
		tenv_msleep(20);
	}
	kill(e->pid, SIGKILL);
	waitpid(e->pid, NULL, 0);
	e->pid = 0;
	return -1;
}

int
tenv_start(struct tsmd_env *e)
{
	struct keys_client c;
	int r;

	memset(e, 0, sizeof(*e));
	if (env_setup(&e->keyd) != 0 || env_start(&e->keyd, NULL) != 0) {
		fprintf(stderr, "keyd did not start\n");
		return -1;
	}
	snprintf(e->dir, sizeof(e->dir), "%s", e->keyd.dir);
	keys_init(&c, e->keyd.sock, 5000);
	r = env_import(&c, "isd", ENV_KVN, KEYS_ROLE_MASTER, GP_DIV_KDF3,
	    KEYS_ALG_AES, master, sizeof(master));
	keys_close(&c);
	if (r != 0) {
		fprintf(stderr, "master key import: %s\n", keys_strerror(r));
		return -1;
	}
	snprintf(e->db, sizeof(e->db), "sqlite:%s/tsm.db", e->dir);
	snprintf(e->ca, sizeof(e->ca), "%s/ca", e->dir);
	snprintf(e->log, sizeof(e->log), "%s/tsmd.log", e->dir);
	if (tenv_tsmctl(e, NULL, 0, "db migrate") != 0 ||
	    tenv_tsmctl(e, NULL, 0, "inventory product %s --gp 2.3.1 "
	    "--scp 3 --i 70 --div kdf3", ENV_PRODUCT) != 0 ||
	    tenv_tsmctl(e, NULL, 0, "agent enrol --id kiosk-1 --ca-dir %s "
	    "--out %s/kiosk-1", e->ca, e->dir) != 0 ||
	    /* kiosk-2 on ECDSA P-256, the other key type tsmd takes. */
	    tenv_tsmctl(e, NULL, 0, "agent enrol --id kiosk-2 --ca-dir %s "
	    "--out %s/kiosk-2 --key p256", e->ca, e->dir) != 0 ||
	    write_conf(e) != 0) {
		fprintf(stderr, "tsmctl setup failed\n");
		return -1;
	}
	return tenv_tsmd_start(e);
}

int
tenv_issuer_import(struct tsmd_env *e, uint8_t kvn)
{
	struct keys_client c;
	int r;

	keys_init(&c, e->keyd.sock, 5000);
	r = env_import(&c, "isd", kvn, KEYS_ROLE_MASTER, GP_DIV_KDF3,
	    KEYS_ALG_AES, issuer, sizeof(issuer));
	keys_close(&c);
	return r;
}

/* A sanitizer report in tsmd's log fails the run. */
static int
log_clean(const struct tsmd_env *e)
{
	char line[1024];
	FILE *f;
	int clean = 1;

	if ((f = fopen(e->log, "r")) == NULL)
		return 1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "Sanitizer") != NULL ||
		    strstr(line, "runtime error") != NULL) {
			fprintf(stderr, "tsmd: %s", line);
			clean = 0;
		}
	fclose(f);
	return clean;
}

int
tenv_stop(struct tsmd_env *e)
{
	char cmd[300];
	int r = 0;

	if (e->pid > 0 && tenv_tsmd_stop(e, 15000) != 0) {
		fprintf(stderr, "tsmd did not stop cleanly\n");
		r = -1;
	}
	if (!log_clean(e))
		r = -1;
	if (getenv("TSMD_TEST_KEEP") != NULL) {
		env_stop(&e->keyd);
		fprintf(stderr, "kept %s\n", e->dir);
		return r;
	}
	snprintf(cmd, sizeof(cmd), "cat %s/tsmd.log >&2", e->dir);
	if (getenv("TSMD_TEST_LOG") != NULL && system(cmd) != 0)
		fprintf(stderr, "no log\n");
	env_teardown(&e->keyd);
	return r;
}

int
tcard_new(struct tsmd_env *e, unsigned n, int import,
    const char *csn_override, struct tcard *c)
{
	char kdd[2 * GP_KDD_LEN + 1], ser[9], csv[300];
	FILE *f;

	memset(c, 0, sizeof(*c));
	memcpy(c->kdd, "\x00\x00\x54\x53\x4D\x44\x00\x00\x00\x00", 10);
	c->kdd[8] = (uint8_t)(n >> 8);
	c->kdd[9] = (uint8_t)n;
	if (gp_keyset_diversify(&c->ks, GP_DIV_KDF3, master, sizeof(master),
	    c->kdd) != 0)
		return -1;
	if (tcard_sim_open(c, NULL) != 0)
		return -1;
	/* CPLC of the simulator: fabricator 4790, type 5040, serial = the
	 * last 4 KDD bytes, batch 0000 (tools/cardsim/profile.c). */
	gp_hex_encode(c->kdd + 6, 4, ser);
	snprintf(c->csn, sizeof(c->csn), "47905040%s0000", ser);
	if (!import)
		return 0;
	gp_hex_encode(c->kdd, GP_KDD_LEN, kdd);
	snprintf(csv, sizeof(csv), "%s/cards-%u.csv", e->dir, n);
	if ((f = fopen(csv, "w")) == NULL)
		return -1;
	fprintf(f, "csn,kdd,product,batch,tkv\n%s,%s,%s,LOT-1,%d\n",
	    csn_override != NULL ? csn_override : c->csn, kdd, ENV_PRODUCT,
	    ENV_KVN);
	fclose(f);
	if (csn_override != NULL)
		snprintf(c->csn, sizeof(c->csn), "%s", csn_override);
	return tenv_tsmctl(e, NULL, 0, "inventory import %s", csv) == 0 ?
	    0 : -1;
}

int
tcard_issuer_keys(struct tcard *c)
{
	gp_keyset_wipe(&c->ks);
	return gp_keyset_diversify(&c->ks, GP_DIV_KDF3, issuer,
	    sizeof(issuer), c->kdd) == 0 ? 0 : -1;
}

int
tcard_sim_open(struct tcard *c, const char *state_path)
{
	struct sim_opts so;
	struct sim_keys k;

	memset(&so, 0, sizeof(so));
	memset(&k, 0, sizeof(k));
	so.state_path = state_path;
	k.proto = 3;
	k.i = 0x70;
	k.s = 8;
	k.kvn = ENV_KVN;
	k.enc = c->ks.enc;
	k.mac = c->ks.mac;
	k.dek = c->ks.dek;
	k.len = 16;
	k.kdd = c->kdd;
	k.seq = 1;
	sim_card_free(c->sim);
	c->sim = NULL;
	return sim_card_open_keys(&so, &k, &c->sim) == 0 ? 0 : -1;
}

void
tcard_free(struct tcard *c)
{
	sim_card_free(c->sim);
	gp_keyset_wipe(&c->ks);
	memset(c, 0, sizeof(*c));
}

static int
xmit(struct tcard *c, const uint8_t *cmd, size_t n, uint8_t *rsp,
    size_t *rlen, uint16_t *sw)
{
	if (sim_card_transmit(c->sim, cmd, n, rsp, 258, rlen) != 0 ||
	    *rlen < 2)
		return -1;
	*sw = (uint16_t)(rsp[*rlen - 2] << 8 | rsp[*rlen - 1]);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts the comma-separated items of s in place. */
static void
sort_items(char *s)
{
	char *items[128], copy[4096], *p, *save = NULL;
	size_t n = 0, i;

	snprintf(copy, sizeof(copy), "%s", s);
	for (p = strtok_r(copy, ",", &save); p != NULL && n < 128;
	    p = strtok_r(NULL, ",", &save))
		items[n++] = p;
	qsort(items, n, sizeof(items[0]), cmp_str);
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		strcat(s, i ? "," : "");
		strcat(s, items[i]);
	}
}

/* Host side of the test's own secure channel (C-MAC) and GET STATUS. */
int
tcard_registry(struct tcard *c, char *out, size_t cap)
{
	static const uint8_t sel[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0,
	    0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00, 0x00 };
	uint8_t hc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, buf[300], rsp[300];
	uint8_t plain[300];
	struct gp_registry_entry e[32];
	struct gp_scp scp;
	struct gp_wr w, pw;
	size_t rl, n = 0, i;
	uint16_t sw;
	char aid[33];
	const char *lc;
	int r = -1;

	memset(&scp, 0, sizeof(scp));
	out[0] = '\0';
	gp_wr_init(&w, buf, sizeof(buf));
	if (xmit(c, sel, sizeof(sel), rsp, &rl, &sw) != 0 || sw != 0x9000 ||
	    gp_scp_host_init(&scp, 3, 0x70, 8, 0, hc, &w) != 0 ||
	    xmit(c, w.p, w.len, rsp, &rl, &sw) != 0 || sw != 0x9000 ||
	    gp_scp_host_auth(&scp, &c->ks, rsp, rl - 2) != 0)
		goto out;
	gp_wr_init(&w, buf, sizeof(buf));
	if (gp_scp_host_ext_auth(&scp, GP_SL_CMAC, &w) != 0 ||
	    xmit(c, w.p, w.len, rsp, &rl, &sw) != 0 ||
	    gp_scp_host_confirm(&scp, sw) != 0)
		goto out;
	gp_wr_init(&pw, plain, sizeof(plain));
	gp_wr_init(&w, buf, sizeof(buf));
	if (gp_cmd_get_status(GP_STATUS_APPS, GP_STATUS_TAGGED, NULL, 0,
	    &pw) != 0 || gp_scp_wrap(&scp, pw.p, pw.len, &w) != 0 ||
	    xmit(c, w.p, w.len, rsp, &rl, &sw) != 0)
		goto out;
	if (sw == 0x6A88) {	/* no application */
		r = 0;
		goto out;
	}
	if (sw != 0x9000 || gp_registry_parse(rsp, rl - 2, e, 32, &n) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		gp_hex_encode(e[i].aid.p, e[i].aid.len, aid);
		lc = gp_lifecycle_name(GP_LC_APP, e[i].lifecycle);
		if (strlen(out) + strlen(aid) + 20 >= cap)
			goto out;
		snprintf(out + strlen(out), cap - strlen(out), "%s%s:%s",
		    i ? "," : "", aid, lc != NULL ? lc : "?");
	}
	sort_items(out);
	r = 0;
 out:
	gp_scp_free(&scp);
	return r;
}

struct inst_acc {
	char	*out;
	size_t	 cap;
};

static int
inst_one(void *arg, const struct tsm_instance *in)
{
	struct inst_acc *a = arg;
	size_t l = strlen(a->out);

	snprintf(a->out + l, a->cap - l, "%s%s:%s", l ? "," : "", in->aid,
	    in->gp_state);
	return 0;
}

int
tenv_store_instances(struct tsmd_env *e, const char *csn, char *out,
    size_t cap)
{
	struct tsm_store *s;
	struct tsm_card k;
	struct inst_acc a = { out, cap };
	int r;

	out[0] = '\0';
	if (tsm_store_open(&s, e->db, NULL) != 0)
		return -1;
	if ((r = tsm_store_card_get(s, csn, &k)) == 0)
		r = tsm_store_instance_list(s, k.id, inst_one, &a);
	tsm_store_close(s);
	sort_items(out);
	return r;
}

int
tenv_op_state(struct tsmd_env *e, int64_t id, char *state, size_t cap)
{
	struct tsm_store *s;
	struct tsm_op op;
	int r;

	if (tsm_store_open(&s, e->db, NULL) != 0)
		return -1;
	memset(&op, 0, sizeof(op));
	if ((r = tsm_store_op_get(s, id, &op)) == 0)
		snprintf(state, cap, "%s", op.state);
	tsm_op_clear(&op);
	tsm_store_close(s);
	return r;
}

int
tenv_vector(const char *name, char *out, size_t cap)
{
	const char *v = getenv("TSM_VECTORS");

	snprintf(out, cap, "%s/%s", v != NULL ? v : TSM_VECTORS_DIR, name);
	if (access(out, R_OK) != 0) {
		fprintf(stderr, "%s: missing\n", out);
		return -1;
	}
	return 0;
}

int
tenv_demo_cap(struct tsmd_env *e, char *out, size_t cap)
{
	snprintf(out, cap, "%s/demo.cap", e->dir);
	return tenv_tsmctl(e, NULL, 0, "cap demo %s", out);
}

int
tenv_http_get(struct tsmd_env *e, const char *path, char *out, size_t cap)
{
	struct sockaddr_in sa;
	char req[256];
	size_t n = 0;
	ssize_t k;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)e->mport);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	while (n + 1 < cap && (k = read(fd, out + n, cap - 1 - n)) > 0)
		n += (size_t)k;
	out[n] = '\0';
	close(fd);
	return 0;
}

/* ---- checks (cmocka) ------------------------------------------------ */

int64_t
tenv_vqueue(struct tsmd_env *e, const char *csn, const char *idem,
    const char *fmt, va_list ap)
{
	char what[700], out[512];
	long long id = 0;

	vsnprintf(what, sizeof(what), fmt, ap);
	if (idem != NULL)
		assert_int_equal(tenv_tsmctl(e, out, sizeof(out), "op queue "
		    "--card %s %s --idem %s", csn, what, idem), 0);
	else
		assert_int_equal(tenv_tsmctl(e, out, sizeof(out), "op queue "
		    "--card %s %s", csn, what), 0);
	assert_int_equal(sscanf(out, "op %lld", &id), 1);
	return id;
}

int64_t
tenv_queue(struct tsmd_env *e, const char *csn, const char *idem,
    const char *fmt, ...)
{
	va_list ap;
	int64_t id;

	va_start(ap, fmt);
	id = tenv_vqueue(e, csn, idem, fmt, ap);
	va_end(ap);
	return id;
}

void
tenv_assert_op(struct tsmd_env *e, int64_t id, const char *state)
{
	char st[32];

	assert_int_equal(tenv_op_state(e, id, st, sizeof(st)), 0);
	if (strcmp(st, state) != 0)
		fprintf(stderr, "op %lld is %s, wanted %s\n", (long long)id,
		    st, state);
	assert_string_equal(st, state);
}

void
tenv_op_audit(struct tsmd_env *e, int64_t id, char *out, size_t cap)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	long long op;
	char st[16];
	const char *d;

	out[0] = '\0';
	assert_int_equal(strncmp(e->db, "sqlite:", 7), 0);
	assert_int_equal(sqlite3_open_v2(e->db + 7, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT detail FROM audit_log "
	    "WHERE action = 'op.result' ORDER BY seq", -1, &q, NULL),
	    SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		d = (const char *)sqlite3_column_text(q, 0);
		if (d == NULL || sscanf(d, "{\"op\":%lld,\"state\":\"%15[a-z]",
		    &op, st) != 2 || op != id)
			continue;
		snprintf(out + strlen(out), cap - strlen(out), "%s%s",
		    out[0] ? "," : "", st);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* The operation is done; its audited states into a, from the first
 * "done" on (NULL: none). */
static const char *
done_audit(struct tsmd_env *e, int64_t id, char *a, size_t cap)
{
	tenv_assert_op(e, id, "done");
	tenv_op_audit(e, id, a, cap);
	return strstr(a, "done");
}

void
tenv_assert_done_once(struct tsmd_env *e, int64_t id)
{
	char a[1024];
	const char *p;

	p = done_audit(e, id, a, sizeof(a));
	if (p == NULL || strcmp(p, "done") != 0) {
		fprintf(stderr, "op %lld audit: %s\n", (long long)id, a);
		fail();
	}
}

void
tenv_assert_done_audited(struct tsmd_env *e, int64_t id)
{
	char a[1024];
	const char *p;

	assert_non_null(p = done_audit(e, id, a, sizeof(a)));
	assert_null(strstr(p + 4, "done"));
}

void
tenv_assert_agree(struct tsmd_env *e, struct tcard *card, const char *want)
{
	char reg[1024], st[1024];

	assert_int_equal(tcard_registry(card, reg, sizeof(reg)), 0);
	assert_int_equal(tenv_store_instances(e, card->csn, st, sizeof(st)),
	    0);
	assert_string_equal(reg, want);
	assert_string_equal(st, want);
}

void
tenv_assert_agree_check(struct tsmd_env *e, struct tcard *card,
    const char *want)
{
	char why[128];

	tenv_assert_agree(e, card, want);
	assert_int_equal(sim_card_check(card->sim, why, sizeof(why)), 0);
}

unsigned long long
tenv_metric(struct tsmd_env *e, const char *name)
{
	char out[32768], key[128];
	const char *p;
	unsigned long long v = 0;

	assert_int_equal(tenv_http_get(e, "/metrics", out, sizeof(out)), 0);
	snprintf(key, sizeof(key), "\n%s ", name);
	if ((p = strstr(out, key)) == NULL)
		fprintf(stderr, "metrics: no %s\n", name);
	assert_non_null(p);
	assert_int_equal(sscanf(p + strlen(key), "%llu", &v), 1);
	return v;
}

void
tenv_tsmd_kill9(struct tsmd_env *e)
{
	int st;

	assert_true(e->pid > 0);
	assert_int_equal(kill(e->pid, SIGKILL), 0);
	assert_int_equal(waitpid(e->pid, &st, 0), e->pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	e->pid = 0;
	assert_int_equal(tenv_tsmd_start(e), 0);
}
