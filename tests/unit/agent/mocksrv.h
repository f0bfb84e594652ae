/*
 * A mock tsmd for the agent tests: an OpenSSL TLS server on 127.0.0.1 in
 * a thread, one connection at a time, that hands every HTTP request to
 * the test's handler and records it (head and body) for the test to
 * check from its own thread afterwards.
 */
#ifndef MOCKSRV_H
#define MOCKSRV_H

#include <stddef.h>
#include <stdint.h>

#define MOCK_REQS_MAX	32

struct mock_req {
	char		*head;		/* request line and headers */
	uint8_t		*body;
	size_t		 body_len;
	unsigned	 conn;		/* connection number, from 1 */
};

enum mock_action {
	MOCK_REPLY = 0,		/* send status, headers, body */
	MOCK_DROP,		/* close the connection without a reply */
	MOCK_RAW,		/* send raw bytes, then close */
};

struct mock_reply {
	enum mock_action action;
	int		 status;
	char		 session[64];	/* X-Admin-Session when set */
	char		 result[128];	/* X-Admin-Result when set */
	char		 headers[256];	/* more header lines, each + CRLF */
	uint8_t		 body[4096];
	size_t		 body_len;
	int		 close_after;	/* close once sent, silently */
	const uint8_t	*raw;		/* MOCK_RAW */
	size_t		 raw_len;
};

typedef void (*mock_handler)(void *arg, const struct mock_req *req,
    unsigned index, struct mock_reply *out);

struct mock_opts {
	const char	*dir;		/* from mkcerts.sh */
	const char	*cert;		/* "server" (default) or "other-server" */
	int		 max_version;	/* 0 or e.g. TLS1_1_VERSION */
	int		 ipv6;		/* listen on [::1], not 127.0.0.1 */
};

struct mocksrv;

int	mock_start(const struct mock_opts *, mock_handler, void *arg,
	    struct mocksrv **, int *port);
/* Stops the thread; the records stay readable until mock_free. */
void	mock_stop(struct mocksrv *);
void	mock_free(struct mocksrv *);
unsigned mock_nreq(const struct mocksrv *);
const struct mock_req *mock_get(const struct mocksrv *, unsigned);
unsigned mock_nconn(const struct mocksrv *);
unsigned mock_handshake_failures(const struct mocksrv *);
/* Connections whose handshake resumed an earlier TLS session. */
unsigned mock_nreused(const struct mocksrv *);
/* Header value of a recorded request into buf; 0 found, -1 absent. */
int	mock_header(const struct mock_req *, const char *name, char *buf,
	    size_t cap);

/* Makes the test PKI in a new temporary directory (path in dir). */
int	mock_pki(char *dir, size_t cap);
void	mock_rmdir(const char *dir);

#endif
