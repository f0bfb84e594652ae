/*
 * Client sockets and TLS, the same for the agents, the bare TLS loop and
 * the idle connections: TCP_NODELAY, I/O timeouts, an optional loopback
 * source address (127.0.0.x: a source port range per address), TLS 1.2+
 * with the agent's certificate and the agent's settings (agent/tls.c),
 * the server checked against the agent CA's server certificate for
 * 127.0.0.1, resumption with the last session.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "loadgen.h"

int
lg_tcp_connect(int port, int src, int timeout_ms)
{
	struct sockaddr_in sa, me;
	struct timeval tv;
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		goto fail;
	if (src > 0) {
		memset(&me, 0, sizeof(me));
		me.sin_family = AF_INET;
		me.sin_addr.s_addr = htonl(0x7F000000u | (uint32_t)(src & 0xFF));
		/* The port is picked at connect, per destination. */
		if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one)) != 0 ||
		    bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0)
			goto fail;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	return fd;
 fail:
	close(fd);
	return -1;
}

SSL_CTX *
lg_client_ctx(const char *cert, const char *key, const char *ca)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	/* TLS 1.2 suites as the agent's (agent/tls.c). */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx),
	    "127.0.0.1") != 1) {
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* As the agent (agent/tls.c): the certificate file's chain only, not
	 * one completed with the CA from the trust store. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_AUTO_RETRY |
	    SSL_MODE_NO_AUTO_CHAIN);
	return ctx;
}

int
lg_tls_connect(SSL_CTX *ctx, int fd, SSL_SESSION **sess, SSL **out)
{
	SSL *ssl;

	*out = NULL;
	if ((ssl = SSL_new(ctx)) == NULL)
		return LG_ERR_NOMEM;
	if (SSL_set_fd(ssl, fd) != 1 || (sess != NULL && *sess != NULL &&
	    SSL_set_session(ssl, *sess) != 1) || SSL_connect(ssl) != 1) {
		ERR_clear_error();
		SSL_free(ssl);
		return LG_ERR_TLS;
	}
	*out = ssl;
	return 0;
}

void
lg_tls_close(SSL *ssl, int clean)
{
	/* A close_notify after a clean end: OpenSSL marks the session of an
	 * SSL freed without one as not resumable. */
	if (ssl != NULL && clean && SSL_shutdown(ssl) < 0)
		ERR_clear_error();
	SSL_free(ssl);
}

void
lg_tls_keep(SSL *ssl, SSL_SESSION **sess)
{
	SSL_SESSION *s;

	/* Under TLS 1.3 the ticket comes after the handshake: called after
	 * a reply was read, this keeps a resumable session. */
	if ((s = SSL_get1_session(ssl)) == NULL)
		return;
	if (!SSL_SESSION_is_resumable(s)) {
		SSL_SESSION_free(s);
		return;
	}
	SSL_SESSION_free(*sess);
	*sess = s;
}

int
lg_tls_read_n(SSL *ssl, uint8_t *p, size_t n)
{
	size_t got;

	while (n > 0) {
		if (SSL_read_ex(ssl, p, n, &got) != 1) {
			ERR_clear_error();
			return LG_ERR_IO;
		}
		p += got;
		n -= got;
	}
	return 0;
}

int
lg_tls_write(SSL *ssl, const uint8_t *p, size_t n)
{
	size_t done;

	while (n > 0) {
		if (SSL_write_ex(ssl, p, n, &done) != 1) {
			ERR_clear_error();
			return LG_ERR_IO;
		}
		p += done;
		n -= done;
	}
	return 0;
}
