/*
 * Secure channel openings per second through tsm-keyd, with request
 * latency p50/p99, beside the raw PKCS#11 rate of the same work in the same
 * run: (raw) the same SoftHSMv2 calls and software cryptograms called
 * in-process (keyd_open, no socket, no parsing, no audit) by as many
 * processes as keyd has workers, each with its own PKCS#11 session (the
 * like-for-like figure), and by 1 process; (p11) only the PKCS#11 CMACs of
 * the card key derivation.
 *
 * Through keyd: synchronous callers (one request per round trip,
 * keys_open_channel) and pipelined callers (keys_open_channels, BATCH
 * requests per round trip; latency is then per batch).
 *
 *   bench_keyd [seconds per figure, default 3] [clients, default 2]
 *
 * Makes its own SoftHSMv2 token in a temporary directory and starts keyd
 * with as many workers as clients, writing its audit file there (needs
 * softhsm2-util on PATH).
 */
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gp/buf.h"
#include "gp/kdf.h"
#include "gp/scp.h"
#include "keyd_int.h"
#include "keys.h"

#define NRSP	64
#define BATCH	16

static const uint8_t MK[16] = { 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46,
    0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F };
static uint8_t rsp[NRSP][64], hc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static size_t rsplen[NRSP];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* INITIALIZE UPDATE responses of NRSP cards (libgp card role, KDF3). */
static void
make_cards(int proto)
{
	uint8_t iu[14] = { 0x80, 0x50, 0x01, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7,
	    8, 0x00 }, cc[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	struct gp_scp_card_cfg cfg;
	struct gp_keyset ks;
	struct gp_scp card;
	struct gp_wr w;
	int n;

	for (n = 0; n < NRSP; n++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.proto = proto;
		cfg.s = 8;
		cfg.i = proto == 2 ? 0x55 : 0x00;
		cfg.kdd[9] = (uint8_t)n;
		cfg.kdd[4] = 0x42;
		cfg.seq = (uint32_t)n + 1;
		cfg.card_challenge = cc;
		memset(&ks, 0, sizeof(ks));
		gp_keyset_diversify(&ks, proto == 2 ? GP_DIV_EMV : GP_DIV_KDF3,
		    MK, 16, cfg.kdd);
		ks.kvn = 1;
		memset(&card, 0, sizeof(card));
		gp_wr_init(&w, rsp[n], sizeof(rsp[n]));
		if (gp_scp_card_init_update(&card, &cfg, &ks, iu, sizeof(iu),
		    &w) != 0) {
			fprintf(stderr, "card init failed\n");
			exit(1);
		}
		rsplen[n] = w.len - 2;
		gp_scp_free(&card);
		gp_keyset_wipe(&ks);
	}
}

static void
import(struct keys_client *c, const char *label, int method, int alg)
{
	uint8_t b[16], kcv[3];
	struct keys_component comp[2];
	int i;

	for (i = 0; i < 16; i++)
		b[i] = MK[i] ^ 0x5A;
	comp[0].value = b;
	comp[1].value = (const uint8_t *)"\x5A\x5A\x5A\x5A\x5A\x5A\x5A\x5A"
	    "\x5A\x5A\x5A\x5A\x5A\x5A\x5A\x5A";
	comp[0].len = comp[1].len = 16;
	keys_kcv(alg, comp[0].value, 16, comp[0].kcv);
	keys_kcv(alg, comp[1].value, 16, comp[1].kcv);
	if (keys_import_components(c, label, 1, KEYS_ROLE_MASTER, method, alg,
	    comp, 2, kcv) != 0) {
		fprintf(stderr, "import failed\n");
		exit(1);
	}
}

static const char *
label_of(int proto)
{
	return proto == 2 ? "emv" : "kdf3";
}

/*
 * One client: opens channels for secs (batch 1: keys_open_channel; more:
 * keys_open_channels), writes the count then the latencies (us) to fd.
 */
static void
client(const char *sock, int proto, double secs, int batch, int fd)
{
	static double lat[200000];
	struct keys_open_req o[BATCH];
	struct keys_session s[BATCH];
	struct keys_client c;
	double t0 = now(), t, cnt = 0;
	int res[BATCH], b;
	size_t n = 0;

	keys_init(&c, sock, 5000);
	for (b = 0; b < BATCH; b++) {
		memset(&o[b], 0, sizeof(o[b]));
		o[b].label = label_of(proto);
		o[b].version = 1;
		o[b].proto = proto;
		o[b].i = proto == 2 ? 0x55 : 0x00;
		o[b].s = 8;
		o[b].host_challenge = hc;
	}
	while ((t = now()) - t0 < secs && n < 200000) {
		if (batch == 1) {
			if (keys_open_channel(&c, label_of(proto), 1, proto,
			    proto == 2 ? 0x55 : 0x00, 8, hc,
			    rsp[(size_t)cnt % NRSP], rsplen[(size_t)cnt % NRSP],
			    &s[0]) != 0) {
				fprintf(stderr, "open failed\n");
				_exit(1);
			}
		} else {
			for (b = 0; b < batch; b++) {
				o[b].rsp = rsp[((size_t)cnt + (size_t)b) % NRSP];
				o[b].rsplen = rsplen[((size_t)cnt + (size_t)b) %
				    NRSP];
			}
			if (keys_open_channels(&c, o, (size_t)batch, s,
			    res) != 0) {
				fprintf(stderr, "pipelined open failed\n");
				_exit(1);
			}
			for (b = 0; b < batch; b++)
				if (res[b] != 0) {
					fprintf(stderr, "open %d: %s\n", b,
					    keys_strerror(res[b]));
					_exit(1);
				}
		}
		cnt += batch;
		lat[n++] = (now() - t) * 1e6;
	}
	for (b = 0; b < BATCH; b++)
		keys_session_wipe(&s[b]);
	if (write(fd, &cnt, sizeof(cnt)) < 0 ||
	    write(fd, lat, n * sizeof(double)) < 0)
		_exit(1);
	_exit(0);
}

static double
via_keyd(const char *sock, int proto, double secs, int nc, int batch)
{
	static double all[800000];
	int p[8][2], i;
	size_t n = 0;
	ssize_t got;
	double cnt, total = 0;
	pid_t pid[8];

	for (i = 0; i < nc; i++) {
		if (pipe(p[i]) != 0)
			exit(1);
		if ((pid[i] = fork()) == 0)
			client(sock, proto, secs, batch, p[i][1]);
		close(p[i][1]);
	}
	for (i = 0; i < nc; i++) {
		if (read(p[i][0], &cnt, sizeof(cnt)) == sizeof(cnt))
			total += cnt;
		while ((got = read(p[i][0], (char *)all + n * sizeof(double),
		    sizeof(all) - n * sizeof(double))) > 0)
			n += (size_t)got / sizeof(double);
		close(p[i][0]);
		waitpid(pid[i], NULL, 0);
	}
	qsort(all, n, sizeof(double), cmpd);
	printf("keyd  SCP0%d %d client%s %-14s %8.0f openings/s  p50 %6.0f us"
	    "  p99 %6.0f us%s\n", proto, nc, nc > 1 ? "s" : " ",
	    batch == 1 ? "synchronous:" : "pipelined 16:", total / secs,
	    n ? all[n / 2] : 0, n ? all[n * 99 / 100] : 0,
	    batch == 1 ? "" : " (per batch)");
	fflush(stdout);
	return total / secs;
}

/* The same work in-process: keyd_open without socket, parse or audit. */
static double
raw_loop(struct keyd *k, int proto, double secs)
{
	uint8_t buf[256];
	struct keys_req q;
	struct gp_wr w;
	double t0 = now();
	size_t n = 0;

	memset(&q, 0, sizeof(q));
	snprintf(q.label, sizeof(q.label), "%s", label_of(proto));
	q.ver = 1;
	q.proto = (uint8_t)proto;
	q.i = proto == 2 ? 0x55 : 0x00;
	q.s = 8;
	q.hc = hc;
	q.hclen = 8;
	while (now() - t0 < secs) {
		q.rsp = rsp[n % NRSP];
		q.rsplen = rsplen[n % NRSP];
		gp_wr_init(&w, buf, sizeof(buf));
		if (keyd_open(k, &q, &w) != 0) {
			fprintf(stderr, "raw open failed\n");
			exit(1);
		}
		n++;
	}
	gp_wipe(buf, sizeof(buf));
	return (double)n;
}

/* np processes, each with its own PKCS#11 session, as keyd's workers. */
static double
raw(int proto, double secs, int np)
{
	struct keyd k;
	int p[8][2], i;
	double n, total = 0;
	pid_t pid[8];

	for (i = 0; i < np; i++) {
		if (pipe(p[i]) != 0)
			exit(1);
		if ((pid[i] = fork()) == 0) {
			if (keyd_p11_open(&k, "/usr/lib/softhsm/libsofthsm2.so",
			    "tsm", "1234") != 0)
				_exit(1);
			n = raw_loop(&k, proto, secs);
			keyd_p11_close(&k);
			if (write(p[i][1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
		close(p[i][1]);
	}
	for (i = 0; i < np; i++) {
		if (read(p[i][0], &n, sizeof(n)) == sizeof(n))
			total += n;
		close(p[i][0]);
		waitpid(pid[i], NULL, 0);
	}
	printf("raw   SCP0%d %d process%s %8.0f openings/s (same PKCS#11 "
	    "calls and cryptograms in-process)\n", proto, np, np > 1 ? "es:" :
	    ":  ", total / secs);
	fflush(stdout);
	return total / secs;
}

/* Only the HSM part of a KDF3 opening: two CMACs by the master. */
static void
p11_only(struct keyd *k, double secs)
{
	struct keyd_obj *o;
	uint8_t dd[16] = { 1, 0, 0, 0, 1, 0 }, out[16];
	double t0 = now();
	size_t n = 0;

	if (keyd_find(k, "kdf3", 1, KEYS_ROLE_MASTER, &o) != 0)
		exit(1);
	while (now() - t0 < secs) {
		dd[4] = (uint8_t)(1 + n % 2);
		if (keyd_cmac(k, o->ses, dd, 16, out) != 0)
			exit(1);
		n++;
	}
	printf("p11   KDF3 derivations: %8.0f CMAC/s = %6.0f openings/s "
	    "(2 per opening, 1 process)\n", (double)n / secs,
	    (double)n / secs / 2);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3;
	int nc = argc > 2 ? atoi(argv[2]) : 2, i;
	char dir[] = "/tmp/bench-keyd.XXXXXX", conf[128], sock[128], pin[128];
	char cmd[512], wk[8], audit[160];
	double r1, rn, ks, kp;
	struct keys_client c;
	struct keyd k;
	FILE *f;
	pid_t kd;

	if (nc < 1 || nc > 8 || mkdtemp(dir) == NULL)
		return 2;
	snprintf(conf, sizeof(conf), "%s/s.conf", dir);
	snprintf(sock, sizeof(sock), "%s/k.sock", dir);
	snprintf(pin, sizeof(pin), "%s/pin", dir);
	if ((f = fopen(conf, "w")) == NULL)
		return 1;
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\n"
	    "log.level = ERROR\n", dir);
	fclose(f);
	if ((f = fopen(pin, "w")) == NULL)
		return 1;
	fputs("1234\n", f);
	fclose(f);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(cmd, sizeof(cmd), "softhsm2-util --init-token --free --label "
	    "tsm --pin 1234 --so-pin 87654321 >/dev/null");
	if (system(cmd) != 0)
		return 1;
	snprintf(wk, sizeof(wk), "%d", nc);
	snprintf(audit, sizeof(audit), "%s/audit", dir);
	if ((kd = fork()) == 0) {
		execl(KEYD_PATH, KEYD_PATH, "-s", sock, "-P", pin, "-w", wk,
		    "-a", audit, (char *)NULL);
		_exit(127);
	}
	keys_init(&c, sock, 5000);
	for (i = 0; i < 200 && keys_ping(&c) != 0; i++)
		usleep(20000);
	import(&c, "kdf3", GP_DIV_KDF3, KEYS_ALG_AES);
	import(&c, "emv", GP_DIV_EMV, KEYS_ALG_DES3);
	keys_close(&c);
	if (keyd_p11_open(&k, "/usr/lib/softhsm/libsofthsm2.so", "tsm",
	    "1234") != 0)
		return 1;
	printf("tsm-keyd benchmark: %.1f s per figure, %d clients / %d "
	    "workers, %ld cores online\n", secs, nc, nc,
	    sysconf(_SC_NPROCESSORS_ONLN));
	make_cards(3);
	p11_only(&k, secs);
	keyd_p11_close(&k);
	r1 = raw(3, secs, 1);
	rn = raw(3, secs, nc);
	ks = via_keyd(sock, 3, secs, nc, 1);
	kp = via_keyd(sock, 3, secs, nc, BATCH);
	via_keyd(sock, 3, secs, 1, 1);
	printf("ratio SCP03 keyd/raw (%d processes): synchronous %.0f%%, "
	    "pipelined %.0f%% (raw 1 process: %.0f)\n", nc, 100 * ks / rn,
	    100 * kp / rn, r1);
	make_cards(2);
	rn = raw(2, secs, nc);
	ks = via_keyd(sock, 2, secs, nc, 1);
	kp = via_keyd(sock, 2, secs, nc, BATCH);
	printf("ratio SCP02 keyd/raw (%d processes): synchronous %.0f%%, "
	    "pipelined %.0f%%\n", nc, 100 * ks / rn, 100 * kp / rn);
	kill(kd, SIGTERM);
	waitpid(kd, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
