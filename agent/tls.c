/*
 * The HTTPS connection: TLS 1.2+ only, server certificate checked against
 * the configured CA and the URL's host name (or IP address), client
 * certificate (Ed25519 or ECDSA P-256, whichever the key file holds),
 * TCP_NODELAY, I/O timeouts, session resumption on reconnect. The socket
 * is driven through a small BIO that sends with MSG_NOSIGNAL, so a dropped
 * link is an error code, not a SIGPIPE that kills the process the library
 * is embedded in.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "agent_int.h"

#define AGENT_TLS12_CIPHERS	"ECDHE+AESGCM:ECDHE+CHACHA20"

int
agent_tls_ctx(const struct agent_config *cfg, SSL_CTX **out)
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

static int
make_bio(struct agent_conn *c, BIO **out)
{
	if (c->meth == NULL) {
		if ((c->meth = BIO_meth_new(BIO_get_new_index() |
		    BIO_TYPE_SOURCE_SINK, "agent socket")) == NULL)
			return AGENT_ERR_NOMEM;
		BIO_meth_set_write_ex(c->meth, sock_write);
		BIO_meth_set_read_ex(c->meth, sock_read);
		BIO_meth_set_ctrl(c->meth, sock_ctrl);
		BIO_meth_set_create(c->meth, sock_create);
	}
	if ((*out = BIO_new(c->meth)) == NULL)
		return AGENT_ERR_NOMEM;
	BIO_set_data(*out, &c->fd);
	return 0;
}

/* ---- TCP ---- */

static int
connect_one(const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd pfd;
	struct timeval tv;
	int fd, one = 1, err = 0;
	socklen_t el = sizeof(err);

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol)) < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (errno != EINPROGRESS || poll(&pfd, 1, timeout_ms) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 ||
		    err != 0)
			goto fail;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		goto fail;
	return fd;
 fail:
	close(fd);
	return -1;
}

static int
tcp_connect(const struct agent_url *u, int timeout_ms)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(u->host, u->port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, timeout_ms);
	freeaddrinfo(res);
	return fd;
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
agent_conn_open(struct agent_conn *c, const struct agent_url *u,
    int timeout_ms)
{
	BIO *bio = NULL;
	int r;

	agent_conn_close(c);
	if ((c->fd = tcp_connect(u, timeout_ms)) < 0)
		return AGENT_ERR_CONNECT;
	if ((c->ssl = SSL_new(c->ctx)) == NULL) {
		r = AGENT_ERR_NOMEM;
		goto out;
	}
	if ((r = make_bio(c, &bio)) != 0 || (r = set_peer(c->ssl,
	    u->host)) != 0)
		goto out;
	SSL_set_bio(c->ssl, bio, bio);
	bio = NULL;
	if (c->resume != NULL)
		SSL_set_session(c->ssl, c->resume);
	if (SSL_connect(c->ssl) != 1) {
		r = AGENT_ERR_TLS;
		goto out;
	}
	r = 0;
 out:
	BIO_free(bio);
	ERR_clear_error();
	if (r != 0)
		agent_conn_close(c);
	return r;
}

void
agent_conn_close(struct agent_conn *c)
{
	if (c->ssl != NULL) {
		/*
		 * No close_notify (the link may be gone), but a quiet shutdown:
		 * freeing an SSL that was not shut down marks its session not
		 * resumable, and the next connection would pay a full handshake.
		 */
		SSL_set_quiet_shutdown(c->ssl, 1);
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->used = 0;
}

/*
 * A fatal alert from the server (a refused or revoked client certificate
 * shows up here under TLS 1.3) is a TLS failure; anything else, an
 * unexpected EOF included, is a dropped link worth resuming.
 */
static int
io_err(struct agent_conn *c)
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
agent_conn_write(struct agent_conn *c, const uint8_t *p, size_t n)
{
	size_t done;

	while (n > 0) {
		if (c->ssl == NULL)
			return AGENT_ERR_LINK;
		if (SSL_write_ex(c->ssl, p, n, &done) != 1)
			return io_err(c);
		p += done;
		n -= done;
	}
	return 0;
}

static void
keep_session(struct agent_conn *c)
{
	SSL_SESSION *s;

	if ((s = SSL_get1_session(c->ssl)) == NULL)
		return;
	SSL_SESSION_free(c->resume);
	c->resume = s;
}

int
agent_conn_read(struct agent_conn *c, struct gp_wr *w,
    struct agent_http_rsp *rsp)
{
	size_t got, room;
	int r;

	gp_wr_reset(w);
	for (;;) {
		room = w->max - w->len < 16384 ? w->max - w->len : 16384;
		if (room == 0)
			return AGENT_ERR_TOOBIG;
		if (gp_wr_reserve(w, room) != 0)
			return AGENT_ERR_NOMEM;
		if (c->ssl == NULL)
			return AGENT_ERR_LINK;
		if (SSL_read_ex(c->ssl, w->p + w->len, w->cap - w->len,
		    &got) != 1)
			return io_err(c);
		w->len += got;
		if ((r = agent_http_parse(w->p, w->len, rsp)) <= 0)
			break;
	}
	if (r == 0) {
		c->used = 1;
		keep_session(c);
		if (rsp->close || rsp->total != w->len)
			agent_conn_close(c);
	}
	return r;
}

int
agent_cert_cn(const char *path, char *out, size_t cap)
{
	FILE *f;
	X509 *x = NULL;
	int n, i, r = AGENT_ERR_CONFIG;

	if ((f = fopen(path, "r")) == NULL)
		return AGENT_ERR_CONFIG;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL)
		goto out;
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, out, (int)cap);
	if (n <= 0 || (size_t)n >= cap)
		goto out;
	for (i = 0; i < n; i++)
		if (!((out[i] >= 'a' && out[i] <= 'z') ||
		    (out[i] >= 'A' && out[i] <= 'Z') ||
		    (out[i] >= '0' && out[i] <= '9') ||
		    strchr("-._~", out[i]) != NULL))
			goto out;
	r = 0;
 out:
	ERR_clear_error();
	X509_free(x);
	return r;
}
