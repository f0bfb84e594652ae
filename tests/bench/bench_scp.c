/*
 * bench_scp: SCP03 wrapping and session establishment rates of libgp,
 * beside the raw OpenSSL work they stand on, measured in the same run.
 *
 *   wrap:   C-MAC + C-DECRYPTION of a 255-byte command at level 03
 *           (gp_scp_wrap), against raw EVP work on the same bytes: the
 *           counter ICV (one AES-ECB block), AES-CBC over the padded 256
 *           bytes, and AES-CMAC over chaining value + header + 256 bytes.
 *   open:   host-side session establishment (INITIALIZE UPDATE built,
 *           response parsed, S-ENC/S-MAC/S-RMAC derived, both
 *           cryptograms), SCP03 AES-128 and SCP02.
 * Single-threaded: every figure is per core. Bar (DESIGN.md): wrapping
 * costs at most twice the raw work; the verdict is printed, the exit
 * status does not depend on it. Usage: bench_scp [--seconds N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "gp/apdu.h"
#include "gp/scp.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef int (*bench_fn)(void *);

/* Runs fn in batches until secs have passed; returns operations/s. */
static double
rate(bench_fn fn, void *arg, double secs)
{
	double t0 = now(), t;
	unsigned long n = 0, i;

	do {
		for (i = 0; i < 256; i++)
			if (fn(arg) != 0) {
				fprintf(stderr, "benchmark step failed\n");
				exit(1);
			}
		n += 256;
	} while ((t = now() - t0) < secs);
	return (double)n / t;
}

static const uint8_t key16[16] = {
	0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
	0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f };

struct raw {
	EVP_CIPHER_CTX	*ecb, *cbc;
	EVP_MAC_CTX	*mac;
	uint8_t		 buf[16 + 5 + 256];
	uint8_t		 out[256], icv[16], m[16];
};

static int
raw_step(void *arg)
{
	struct raw *r = arg;
	size_t ml;
	int l;

	if (EVP_EncryptUpdate(r->ecb, r->icv, &l, r->buf, 16) != 1 ||
	    EVP_EncryptInit_ex(r->cbc, NULL, NULL, NULL, r->icv) != 1 ||
	    EVP_EncryptUpdate(r->cbc, r->buf + 21, &l, r->buf + 21, 256) != 1 ||
	    EVP_MAC_init(r->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(r->mac, r->buf, sizeof(r->buf)) != 1 ||
	    EVP_MAC_final(r->mac, r->m, &ml, 16) != 1)
		return -1;
	return 0;
}

static int
raw_init(struct raw *r)
{
	OSSL_PARAM p[2];
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	char cipher[] = "AES-128-CBC";

	memset(r, 0, sizeof(*r));
	r->ecb = EVP_CIPHER_CTX_new();
	r->cbc = EVP_CIPHER_CTX_new();
	if (mac == NULL || r->ecb == NULL || r->cbc == NULL ||
	    (r->mac = EVP_MAC_CTX_new(mac)) == NULL)
		return -1;
	EVP_MAC_free(mac);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
	    cipher, 0);
	p[1] = OSSL_PARAM_construct_end();
	if (EVP_EncryptInit_ex(r->ecb, EVP_aes_128_ecb(), NULL, key16,
	    NULL) != 1 ||
	    EVP_EncryptInit_ex(r->cbc, EVP_aes_128_cbc(), NULL, key16,
	    NULL) != 1 ||
	    EVP_MAC_init(r->mac, key16, 16, p) != 1)
		return -1;
	EVP_CIPHER_CTX_set_padding(r->ecb, 0);
	EVP_CIPHER_CTX_set_padding(r->cbc, 0);
	return 0;
}

struct wrap {
	struct gp_scp	s;
	uint8_t		cmd[5 + 255];
	uint8_t		out[GP_APDU_WIRE_MAX];
};

static int
wrap_step(void *arg)
{
	struct wrap *w = arg;
	struct gp_wr wr;

	gp_wr_init(&wr, w->out, sizeof(w->out));
	return gp_scp_wrap(&w->s, w->cmd, sizeof(w->cmd), &wr);
}

struct open {
	int		proto;
	struct gp_keyset ks;
	uint8_t		hc[8], rsp[64];
	size_t		rspn;
};

static int
open_step(void *arg)
{
	struct open *o = arg;
	struct gp_scp s;
	uint8_t buf[64];
	struct gp_wr w;
	int r;

	memset(&s, 0, sizeof(s));
	gp_wr_init(&w, buf, sizeof(buf));
	if ((r = gp_scp_host_init(&s, o->proto, o->proto == 3 ? 0x70 : 0x15,
	    8, 0, o->hc, &w)) == 0)
		r = gp_scp_host_auth(&s, &o->ks, o->rsp, o->rspn);
	gp_scp_free(&s);
	return r;
}

/* The card role answers once; the host then re-opens against it. */
static int
open_init(struct open *o, int proto)
{
	struct gp_scp_card_cfg cfg = { .proto = proto, .s = 8,
	    .i = proto == 3 ? 0x70 : 0x15, .seq = 7 };
	uint8_t cmd[64], rsp[64];
	struct gp_wr w, rw;
	struct gp_scp c, h;
	int r;

	memset(o, 0, sizeof(*o));
	memset(&c, 0, sizeof(c));
	memset(&h, 0, sizeof(h));
	o->proto = proto;
	memcpy(o->ks.enc, key16, 16);
	memcpy(o->ks.mac, key16, 16);
	memcpy(o->ks.dek, key16, 16);
	o->ks.len = 16;
	memset(o->hc, 0xA5, 8);
	memset(cfg.kdd, 0x11, sizeof(cfg.kdd));
	gp_wr_init(&w, cmd, sizeof(cmd));
	if ((r = gp_scp_host_init(&h, proto, cfg.i, 8, 0, o->hc, &w)) != 0)
		return r;
	gp_scp_free(&h);
	cfg.sd_aid = (const uint8_t *)"\xA0\x00\x00\x01\x51\x00\x00\x00";
	cfg.sd_aid_len = 8;
	gp_wr_init(&rw, rsp, sizeof(rsp));
	if ((r = gp_scp_card_init_update(&c, &cfg, &o->ks, cmd, w.len,
	    &rw)) != 0)
		return r;
	o->rspn = 13 + 16 + 3;
	if (proto == 2)
		o->rspn = 28;
	memcpy(o->rsp, rsp, o->rspn);
	gp_scp_free(&c);
	return 0;
}

static int
wrap_init(struct wrap *w)
{
	uint8_t zero[16] = { 0 };
	int r;

	memset(w, 0, sizeof(*w));
	w->cmd[0] = 0x80;
	w->cmd[1] = 0xE2;
	w->cmd[4] = 255;
	memset(w->cmd + 5, 0x5A, 255);
	if ((r = gp_scp_from_session_keys(&w->s, 3, GP_SCP_HOST, 0x70, 8,
	    0x03, key16, key16, key16, 16)) != 0)
		return r;
	return gp_scp_set_wrap_state(&w->s, zero, 16, 1);
}

int
main(int argc, char **argv)
{
	static struct wrap w;
	struct raw raw;
	struct open o3, o2;
	double secs = 2.0, rw, rr, s3, s2;

	if (argc == 3 && strcmp(argv[1], "--seconds") == 0)
		secs = atof(argv[2]);
	if (secs <= 0 || raw_init(&raw) != 0 || wrap_init(&w) != 0 ||
	    open_init(&o3, 3) != 0 || open_init(&o2, 2) != 0) {
		fprintf(stderr, "usage: bench_scp [--seconds N]; setup failed\n");
		return 1;
	}
	rr = rate(raw_step, &raw, secs);
	rw = rate(wrap_step, &w, secs);
	s3 = rate(open_step, &o3, secs);
	s2 = rate(open_step, &o2, secs);
	printf("raw OpenSSL ECB+CBC(256)+CMAC(277) : %10.0f /s  %6.2f us\n",
	    rr, 1e6 / rr);
	printf("SCP03 wrap 255-byte cmd, level 03  : %10.0f /s  %6.2f us\n",
	    rw, 1e6 / rw);
	printf("wrap cost / raw cost               : %10.2f  (bar <= 2.00: %s)\n",
	    rr / rw, rr / rw <= 2.0 ? "met" : "MISSED");
	printf("SCP03 AES-128 host session opens   : %10.0f /s per core\n", s3);
	printf("SCP02 host session opens           : %10.0f /s per core\n", s2);
	gp_scp_free(&w.s);
	/* A figure, not a test: a loaded machine must not fail CI. */
	return 0;
}
