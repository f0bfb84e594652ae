/*
 * The TLS library behind libtsmagent's connection, OpenSSL flavour (the
 * contract is in agent_int.h): certificate checks by OpenSSL against the
 * configured CA and the URL's host name or IP address, client
 * certificate Ed25519 or ECDSA P-256 (whichever the key file holds), and
 * the socket driven through a small BIO that sends with MSG_NOSIGNAL, so a
 * dropped link is an error code, not a SIGPIPE that kills the process the
 * library is embedded in.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "agent_int.h"

#define AGENT_TLS12_CIPHERS	"ECDHE+AESGCM:ECDHE+CHACHA20"

struct agent_tls {
	SSL_CTX		*ctx;
	SSL_SESSION	*resume;	/* for the next handshake */
	BIO_METHOD	*meth;		/* send(MSG_NOSIGNAL): no SIGPIPE */
};

struct agent_tls_conn {
	SSL		*ssl;
	int		 fd;
};

static int
make_ctx(const struct agent_config *cfg, SSL_CTX **out)
{
	SSL_CTX *ctx;
	int r = AGENT_ERR_CONFIG;

	*out = NULL;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return AGENT_ERR_NOMEM;
	/*
	 * TLS 1.2 suites offered: ECDHE with an AEAD only. Short, too: tsmd
	 * keeps the list a client offers for as long as the connection
	 * lasts (OpenSSL's default list is 30 suites).
	 */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, AGENT_TLS12_CIPHERS) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, cfg->ca, NULL) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/*
	 * The certificate chain sent is the certificate file's (the agent's
	 * certificate and any intermediates in it), never one completed from
	 * the trust store: the CA's own certificate would only cost tsmd a
	 * parsed copy for as long as the connection lasts (4.5 KB with a
	 * P-256 CA), and tsmd has it already.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_AUTO_RETRY | SSL_MODE_NO_AUTO_CHAIN);
	*out = ctx;
	ctx = NULL;
	r = 0;
 out:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return r;
}

/* ---- the socket BIO ---- */

static int
sock_write(BIO *b, const char *p, size_t n, size_t *done)
{
	int *fd = BIO_get_data(b);
	ssize_t w;

	BIO_clear_retry_flags(b);
	do
		w = send(*fd, p, n, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		*done = 0;
		return 0;
	}
	*done = (size_t)w;
	return 1;
}

static int
sock_read(BIO *b, char *p, size_t n, size_t *done)
{
	int *fd = BIO_get_data(b);
	ssize_t rd;

	BIO_clear_retry_flags(b);
	do
		rd = recv(*fd, p, n, 0);
	while (rd < 0 && errno == EINTR);
	if (rd <= 0) {		/* EOF, timeout (EAGAIN) or error */
		*done = 0;
		return 0;
	}
	*done = (size_t)rd;
	return 1;
}

static long
sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
sock_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *
make_meth(void)
{
	BIO_METHOD *m;

	if ((m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "agent socket")) == NULL)
		return NULL;
	if (BIO_meth_set_write_ex(m, sock_write) != 1 ||
	    BIO_meth_set_read_ex(m, sock_read) != 1 ||
	    BIO_meth_set_ctrl(m, sock_ctrl) != 1 ||
	    BIO_meth_set_create(m, sock_create) != 1) {
		BIO_meth_free(m);
		return NULL;
	}
	return m;
}

int
agent_tls_new(const struct agent_config *cfg, struct agent_tls **out)
{
	struct agent_tls *t;
	int r;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return AGENT_ERR_NOMEM;
	if ((r = make_ctx(cfg, &t->ctx)) != 0 ||
	    (t->meth = make_meth()) == NULL) {
		if (r == 0)
			r = AGENT_ERR_NOMEM;
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
	SSL_SESSION_free(t->resume);
	BIO_meth_free(t->meth);
	SSL_CTX_free(t->ctx);
	free(t);
}

const char *
agent_tls_library(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}

/* Host name or IP address check, and SNI for names. */
static int
set_peer(SSL *ssl, const char *host)
{
	unsigned char a[16];
	char sni[256];		/* the macro below wants a writable name */

	if (inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) == 1 ? 0 : AGENT_ERR_CONFIG;
	snprintf(sni, sizeof(sni), "%s", host);
	if (SSL_set1_host(ssl, host) != 1 ||
	    SSL_set_tlsext_host_name(ssl, sni) != 1)
		return AGENT_ERR_CONFIG;
	return 0;
}

int
agent_tls_connect(struct agent_tls *t, int fd, const char *host,
    struct agent_tls_conn **out)
{
	struct agent_tls_conn *c;
	BIO *bio = NULL;
	int r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return AGENT_ERR_NOMEM;
	c->fd = fd;
	if ((c->ssl = SSL_new(t->ctx)) == NULL ||
	    (bio = BIO_new(t->meth)) == NULL) {
		r = AGENT_ERR_NOMEM;
		goto out;
	}
	BIO_set_data(bio, &c->fd);
	if ((r = set_peer(c->ssl, host)) != 0)
		goto out;
	SSL_set_bio(c->ssl, bio, bio);
	bio = NULL;
	if (t->resume != NULL)
		SSL_set_session(c->ssl, t->resume);
	if (SSL_connect(c->ssl) != 1) {
		r = AGENT_ERR_TLS;
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
 out:
	BIO_free(bio);
	ERR_clear_error();
	agent_tls_close(c);
	return r;
}

void
agent_tls_close(struct agent_tls_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		/*
		 * No close_notify (the link may be gone), but a quiet shutdown:
		 * freeing an SSL that was not shut down marks its session not
		 * resumable, and the next connection would pay a full handshake.
		 */
		SSL_set_quiet_shutdown(c->ssl, 1);
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	free(c);
}

static int
io_err(void)
{
	unsigned long e = ERR_peek_error();
	int r = AGENT_ERR_LINK;

	if (e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET)
		r = AGENT_ERR_TLS;
	ERR_clear_error();
	return r;
}

int
agent_tls_write(struct agent_tls_conn *c, const uint8_t *p, size_t n,
    size_t *done)
{
	return SSL_write_ex(c->ssl, p, n, done) == 1 ? 0 : io_err();
}

int
agent_tls_read(struct agent_tls_conn *c, uint8_t *p, size_t n, size_t *got)
{
	return SSL_read_ex(c->ssl, p, n, got) == 1 ? 0 : io_err();
}

void
agent_tls_keep(struct agent_tls *t, struct agent_tls_conn *c)
{
	SSL_SESSION *s;

	if ((s = SSL_get1_session(c->ssl)) == NULL)
		return;
	SSL_SESSION_free(t->resume);
	t->resume = s;
}

int
agent_tls_resumed(const struct agent_tls_conn *c)
{
	return SSL_session_reused(c->ssl);
}

int
agent_cert_cn(const char *path, char *out, size_t cap)
{
	FILE *f;
	X509 *x = NULL;
	int n, r = AGENT_ERR_CONFIG;

	if ((f = fopen(path, "r")) == NULL)
		return AGENT_ERR_CONFIG;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		goto out;
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, out, (int)cap);
	if (n <= 0 || (size_t)n >= cap || !agent_id_ok(out, (size_t)n))
		goto out;
	r = 0;
 out:
	ERR_clear_error();
	X509_free(x);
	return r;
}
