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

/*
 * Fault injection (test_faults.c). A POST split in its two halves, so a
 * test can lose the link (or the server) between them; and a dropped
 * link: no close_notify, a TCP reset.
 */
int	tconn_send(struct tconn *, const char *sid, const char *status,
	    int resume, const uint8_t *body, size_t len);
int	tconn_recv(struct tconn *, struct trsp *);
/* 0 once the reply has started to arrive, -1 after ms. */
int	tconn_wait_reply(struct tconn *, int ms);
void	tconn_drop(struct tconn *);

/*
 * tscript_run with a power cut: the card loses the power while it runs
 * command cut (mode SIM_TEAR_AFTER: its writes are kept, its response is
 * lost; SIM_TEAR_BEFORE: both are lost). The script then ends as
 * card-removed with the responses received before. cut < 0: no cut.
 * *ncmds gets the script's length.
 */
int	tscript_run_cut(struct tcard *, const uint8_t *, size_t, int cut,
	    int mode, uint8_t **rsp, size_t *rlen, const char **status,
	    int *ran, size_t *ncmds);

/*
 * A session step by step: tstep_send sends the pending POST (the first
 * one empty), tstep_recv reads the reply and, on 200, runs its script on
 * the card (with the power cut when it is script cut_script, 1-based)
 * and keeps the next POST pending. done once a 204 came.
 */
struct tstep {
	struct tcard	*card;
	char		 sid[80];
	int		 exchanges;	/* replies received */
	int		 scripts;	/* scripts run on the card */
	int		 code;		/* the last reply's status */
	int		 done;
	char		 result[256];
	const char	*status;	/* of the pending POST */
	uint8_t		*body;		/* the pending POST */
	size_t		 blen;
	int		 cut_script, cut_index, cut_mode;
	int		 cut;		/* the power was cut */
	size_t		 ncmds[8];	/* length of script i + 1 */
};

/* Powers the card up and prepares the empty first POST. */
int	tstep_init(struct tstep *, struct tcard *);
int	tstep_send(struct tconn *, struct tstep *, int resume);
int	tstep_recv(struct tconn *, struct tstep *);
/* Sends and receives until the 204 (at most 16 exchanges). */
int	tstep_finish(struct tconn *, struct tstep *);
void	tstep_free(struct tstep *);

#endif
