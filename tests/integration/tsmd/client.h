/*
 * The test's own agent, written from docs/protocol/agent.md: OpenSSL TLS
 * with a client certificate, HTTP/1.1 keep-alive, libgp scripts, and a
 * libcardsim card. Bounded readers everywhere: it tests a server.
 */
#ifndef TSMD_CLIENT_H
#define TSMD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "tsmd_env.h"

struct tconn {
	SSL_CTX	*ctx;
	SSL	*ssl;
	int	 fd;
	char	 agent[64];
};

/* certdir NULL: no client certificate. min/max: TLS1_x_VERSION or 0. */
int	tconn_open(struct tconn *, int port, const char *certdir,
	    const char *cadir, const char *agent, int minv, int maxv);
void	tconn_close(struct tconn *);

struct trsp {
	int	 code;
	char	 sid[80];
	char	 result[256];
	char	 ctype[128];
	char	 proto[80];
	uint8_t	*body;
	size_t	 len;
};

void	trsp_clear(struct trsp *);

/* One POST. sid/status NULL for the first of a session. Raw: headers
 * given whole (extra, may be NULL) and no defaults for the others when
 * raw is set. */
int	tconn_post(struct tconn *, const char *sid, const char *status,
	    int resume, const uint8_t *body, size_t len, struct trsp *);
int	tconn_post_raw(struct tconn *, const char *headers,
	    const uint8_t *body, size_t len, struct trsp *);

/*
 * Runs a session to its 204 on card. stop_after > 0: the card is pulled
 * after that many commands of the second script (< 0: that many before
 * its end), reported as card-removed. drop_job: the job script runs on the card but its
 * responses never reach the server (link lost), and the session is left.
 */
struct tsess {
	int	 exchanges;
	char	 result[256];
	char	 sid[80];
	int	 stop_after;
	int	 drop_job;
	int	 commands;	/* commands sent to the card */
};

int	tsession_run(struct tconn *, struct tcard *, struct tsess *);
/* Runs one script on the card into an encoded response script. */
int	tscript_run(struct tcard *, const uint8_t *, size_t, int stop_after,
	    uint8_t **rsp, size_t *rlen, const char **status, int *ran);

#endif
