/*
 * The TLS library behind libtsmagent's connection, wolfSSL flavour (the
 * contract is in agent_int.h). It exists for the agent's size: a process
 * that maps libssl and libcrypto is over 6 MB resident before its first
 * handshake, where a whole wolfSSL session fits in about 4 MB
 * (docs/BENCHMARKS.md, "tsm-agent"). What keeps it there:
 *  - key share X25519 only (P-256 stays offered in supported_groups, for a
 *    HelloRetryRequest);
 *  - Debian's wolfSSL (FP_ECC) builds a 1.5 MB fixed-point table for a
 *    P-256 point it meets twice, as when it verifies a P-256 CA and
 *    server key: this thread's tables are dropped after every handshake
 *    and their pages given back (glibc), which an agent that connects
 *    once per card contact does not notice;
 *  - no internal session cache (a static table of 1.2 MB once touched):
 *    the one session worth resuming is kept here, as in tls_openssl.c;
 *  - the library's own I/O callbacks replaced by send(MSG_NOSIGNAL) and
 *    recv, which also keeps SIGPIPE out of the embedding process.
 * An IP address in the URL is checked here (verify_ip), not by wolfSSL.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "agent_int.h"

/* TLS 1.3, then TLS 1.2 with ECDHE and an AEAD only: as tls_openssl.c. */
#define AGENT_WOLF_CIPHERS						\
	"TLS13-CHACHA20-POLY1305-SHA256:TLS13-AES128-GCM-SHA256:"	\
	"TLS13-AES256-GCM-SHA384:"					\
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:"	\
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"	\
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"

struct agent_tls {
	WOLFSSL_CTX	*ctx;
	WOLFSSL_SESSION	*resume;	/* for the next handshake */
};

struct agent_tls_conn {
	WOLFSSL		*ssl;
	int		 fd;
	unsigned char	 ip[16];	/* the URL's address, if it is one */
	size_t		 iplen;		/* 4, 16, or 0: a host name */
};

static int
io_send(WOLFSSL *ssl, char *p, int n, void *arg)
{
	int fd = *(int *)arg;
	ssize_t w;

	(void)ssl;
	do
		w = send(fd, p, (size_t)n, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w >= 0)
		return (int)w;
	if (errno == EAGAIN)	/* EWOULDBLOCK on Linux */
		return WOLFSSL_CBIO_ERR_TIMEOUT;	/* SO_SNDTIMEO */
	return WOLFSSL_CBIO_ERR_CONN_CLOSE;
}

static int
io_recv(WOLFSSL *ssl, char *p, int n, void *arg)
{
	int fd = *(int *)arg;
	ssize_t rd;

	(void)ssl;
	do
		rd = recv(fd, p, (size_t)n, 0);
	while (rd < 0 && errno == EINTR);
	if (rd > 0)
		return (int)rd;
	if (rd < 0 && errno == EAGAIN)
		return WOLFSSL_CBIO_ERR_TIMEOUT;	/* SO_RCVTIMEO */
	return WOLFSSL_CBIO_ERR_CONN_CLOSE;
}

static int
load_files(WOLFSSL_CTX *ctx, const struct agent_config *cfg)
{
	if (wolfSSL_CTX_load_verify_locations(ctx, cfg->ca, NULL) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_certificate_chain_file(ctx, cfg->cert) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_PrivateKey_file(ctx, cfg->key,
	    WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS)
		return AGENT_ERR_CONFIG;
	return 0;
}

static int
make_ctx(const struct agent_config *cfg, WOLFSSL_CTX **out)
{
	WOLFSSL_CTX *ctx;
	int groups[] = { WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1 };
	int r;

	*out = NULL;
	if ((ctx = wolfSSL_CTX_new(wolfSSLv23_client_method())) == NULL)
		return AGENT_ERR_NOMEM;
	r = AGENT_ERR_CONFIG;
	if (wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_cipher_list(ctx, AGENT_WOLF_CIPHERS) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_groups(ctx, groups, 2) != WOLFSSL_SUCCESS ||
	    (r = load_files(ctx, cfg)) != 0) {
		wolfSSL_CTX_free(ctx);
		return r;
	}
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
	wolfSSL_CTX_set_session_cache_mode(ctx,
	    WOLFSSL_SESS_CACHE_NO_INTERNAL);
	/* TLS 1.2 resumes by ticket, as with OpenSSL: without the internal
	 * cache wolfSSL does not resume a TLS 1.2 session by its id. */
	if (wolfSSL_CTX_UseSessionTicket(ctx) != WOLFSSL_SUCCESS) {
		wolfSSL_CTX_free(ctx);
		return AGENT_ERR_CONFIG;
	}
	wolfSSL_CTX_SetIOSend(ctx, io_send);
	wolfSSL_CTX_SetIORecv(ctx, io_recv);
	*out = ctx;
	return 0;
}

int
agent_tls_new(const struct agent_config *cfg, struct agent_tls **out)
{
	struct agent_tls *t;
	int r;

	*out = NULL;
	/* Reference-counted by wolfSSL: one per agent, undone in free. */
	if (wolfSSL_Init() != WOLFSSL_SUCCESS)
		return AGENT_ERR_NOMEM;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		wolfSSL_Cleanup();
		return AGENT_ERR_NOMEM;
	}
	if ((r = make_ctx(cfg, &t->ctx)) != 0) {
		agent_tls_free(t);
		return r;
	}
	*out = t;
	return 0;
}

void
agent_tls_free(struct agent_tls *t)
{
	if (t == NULL)
		return;
	wolfSSL_SESSION_free(t->resume);
	wolfSSL_CTX_free(t->ctx);
	free(t);
	wolfSSL_Cleanup();
}

const char *
agent_tls_library(void)
{
	return "wolfSSL " LIBWOLFSSL_VERSION_STRING;
}

/*
 * For a URL with an IP address: one of the server certificate's IP
 * address SANs must be that address, byte for byte, as OpenSSL checks.
 * wolfSSL 5.5's own check compares text against every kind of SAN, and
 * writes IPv6 SANs in a long form a literal such as ::1 never matches.
 * Checked in the verify callback, on the leaf's DER, so a mismatch ends
 * the handshake with an alert like any other certificate failure.
 */
static int
ip_san(const unsigned char *der, size_t n, const unsigned char *ip,
    size_t iplen)
{
	DecodedCert dc;
	DNS_entry *e;
	int ok = 0;

	wc_InitDecodedCert(&dc, der, (word32)n, NULL);
	if (wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) == 0)
		for (e = dc.altNames; e != NULL && !ok; e = e->next)
			ok = e->type == ASN_IP_TYPE && e->len >= 0 &&
			    (size_t)e->len == iplen &&
			    memcmp(e->name, ip, iplen) == 0;
	wc_FreeDecodedCert(&dc);
	return ok;
}

static int
verify_ip(int ok, WOLFSSL_X509_STORE_CTX *st)
{
	const struct agent_tls_conn *c = st->userCtx;

	if (!ok || st->error_depth != 0)
		return ok;
	if (c == NULL || st->certs == NULL || st->totalCerts < 1 ||
	    !ip_san(st->certs[0].buffer, st->certs[0].length, c->ip,
	    c->iplen))
		return 0;
	return 1;
}

/* IP address (checked by verify_ip), or host name check and SNI. */
static int
set_peer(struct agent_tls_conn *c, const char *host)
{
	if (inet_pton(AF_INET, host, c->ip) == 1)
		c->iplen = 4;
	else if (inet_pton(AF_INET6, host, c->ip) == 1)
		c->iplen = 16;
	if (c->iplen != 0) {
		wolfSSL_SetCertCbCtx(c->ssl, c);
		wolfSSL_set_verify(c->ssl, WOLFSSL_VERIFY_PEER, verify_ip);
		return 0;
	}
	if (wolfSSL_check_domain_name(c->ssl, host) != WOLFSSL_SUCCESS ||
	    wolfSSL_UseSNI(c->ssl, WOLFSSL_SNI_HOST_NAME, host,
	    (unsigned short)strlen(host)) != WOLFSSL_SUCCESS)
		return AGENT_ERR_CONFIG;
	return 0;
}

int
agent_tls_connect(struct agent_tls *t, int fd, const char *host,
    struct agent_tls_conn **out)
{
	struct agent_tls_conn *c;
	int r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return AGENT_ERR_NOMEM;
	c->fd = fd;
	if ((c->ssl = wolfSSL_new(t->ctx)) == NULL) {
		r = AGENT_ERR_NOMEM;
		goto out;
	}
	wolfSSL_SetIOReadCtx(c->ssl, &c->fd);
	wolfSSL_SetIOWriteCtx(c->ssl, &c->fd);
	if ((r = set_peer(c, host)) != 0)
		goto out;
	r = AGENT_ERR_TLS;
	if (wolfSSL_UseKeyShare(c->ssl, WOLFSSL_ECC_X25519) !=
	    WOLFSSL_SUCCESS)
		goto out;
	if (t->resume != NULL)
		(void)wolfSSL_set_session(c->ssl, t->resume);
	r = wolfSSL_connect(c->ssl) == WOLFSSL_SUCCESS ? 0 : AGENT_ERR_TLS;
#ifdef FP_ECC
	wc_ecc_fp_free();	/* this thread's tables: see the top */
#ifdef __GLIBC__
	malloc_trim(0);		/* their pages lie inside the heap */
#endif
#endif
	if (r != 0)
		goto out;
	*out = c;
	c = NULL;
	r = 0;
 out:
	agent_tls_close(c);
	return r;
}

void
agent_tls_close(struct agent_tls_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		wolfSSL_set_quiet_shutdown(c->ssl, 1);
		(void)wolfSSL_shutdown(c->ssl);
		wolfSSL_free(c->ssl);
	}
	free(c);
}

static int
io_err(struct agent_tls_conn *c, int ret)
{
	return wolfSSL_get_error(c->ssl, ret) == FATAL_ERROR ?
	    AGENT_ERR_TLS : AGENT_ERR_LINK;
}

int
agent_tls_write(struct agent_tls_conn *c, const uint8_t *p, size_t n,
    size_t *done)
{
	int w;

	*done = 0;
	if ((w = wolfSSL_write(c->ssl, p, n > INT_MAX ? INT_MAX :
	    (int)n)) <= 0)
		return io_err(c, w);
	*done = (size_t)w;
	return 0;
}

int
agent_tls_read(struct agent_tls_conn *c, uint8_t *p, size_t n, size_t *got)
{
	int rd;

	*got = 0;
	if ((rd = wolfSSL_read(c->ssl, p, n > INT_MAX ? INT_MAX :
	    (int)n)) <= 0)
		return io_err(c, rd);
	*got = (size_t)rd;
	return 0;
}

void
agent_tls_keep(struct agent_tls *t, struct agent_tls_conn *c)
{
	WOLFSSL_SESSION *s;

	if ((s = wolfSSL_get1_session(c->ssl)) == NULL)
		return;
	wolfSSL_SESSION_free(t->resume);
	t->resume = s;
}

int
agent_tls_resumed(const struct agent_tls_conn *c)
{
	return wolfSSL_session_reused(c->ssl);
}

/*
 * The CN through wolfCrypt's certificate parser: the OpenSSL-compatible
 * X509 loader of Debian's build refuses certificates with Ed25519 keys.
 * The file's first certificate is the agent's; 16 KiB is ample for it.
 */
#define AGENT_CERT_FILE_MAX	16384

static int
read_small(const char *path, uint8_t *p, size_t cap, size_t *n)
{
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return AGENT_ERR_CONFIG;
	*n = fread(p, 1, cap, f);
	if (ferror(f) || !feof(f)) {	/* unreadable, or over the cap */
		fclose(f);
		return AGENT_ERR_CONFIG;
	}
	fclose(f);
	return 0;
}

int
agent_cert_cn(const char *path, char *out, size_t cap)
{
	DecodedCert dc;
	uint8_t *pem, *der = NULL;
	size_t n;
	int dn, parsed = 0, r = AGENT_ERR_CONFIG;

	if ((pem = malloc(2 * AGENT_CERT_FILE_MAX)) == NULL)
		return AGENT_ERR_NOMEM;
	der = pem + AGENT_CERT_FILE_MAX;
	if (read_small(path, pem, AGENT_CERT_FILE_MAX, &n) != 0 ||
	    (dn = wc_CertPemToDer(pem, (int)n, der, AGENT_CERT_FILE_MAX,
	    CERT_TYPE)) <= 0)
		goto out;
	wc_InitDecodedCert(&dc, der, (word32)dn, NULL);
	parsed = 1;
	if (wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) != 0 ||
	    dc.subjectCN == NULL || dc.subjectCNLen <= 0 ||
	    (size_t)dc.subjectCNLen >= cap ||
	    !agent_id_ok(dc.subjectCN, (size_t)dc.subjectCNLen))
		goto out;
	memcpy(out, dc.subjectCN, (size_t)dc.subjectCNLen);
	out[dc.subjectCNLen] = '\0';
	r = 0;
 out:
	if (parsed)
		wc_FreeDecodedCert(&dc);
	free(pem);
	return r;
}
