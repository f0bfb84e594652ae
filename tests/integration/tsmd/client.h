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
	char	 card[32];	/* X-Admin-Card (a 204 names the card) */
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
/* tconn_post with X-Admin-Card: hint (NULL: none; sent as given, so a
 * test can send a malformed one). */
int	tconn_post_hint(struct tconn *, const char *hint, const char *sid,
	    const char *status, int resume, const uint8_t *body, size_t len,
	    struct trsp *);

/*
 * Runs a session to its 204 on card. stop_after > 0: the card is pulled
 * after that many commands of the second script (< 0: that many before
 * its end), reported as card-removed. drop_job: the job script runs on the card but its
 * responses never reach the server (link lost), and the session is left.
 * hint: the first POST names the card (X-Admin-Card, pre-computed
 * sessions); NULL: no hint. Scripts are run as an agent must: a command
 * whose R-APDU is not the expected one (DF 20) ends the script, reported
 * as unexpected-response.
 */
#define TSESS_SCRIPTS	8
struct tsess {
	int	 exchanges;
	char	 result[256];
	char	 sid[80];
	int	 stop_after;
	int	 drop_job;
	int	 commands;	/* commands sent to the card */
	const char *hint;	/* X-Admin-Card of the first POST */
	char	 card[32];	/* X-Admin-Card of the 204 ("": none) */
	int	 scripts;	/* scripts run on the card */
	/* Per script run (i + 1): its length, its expected R-APDUs (DF 20),
	 * the commands that ran and the status posted. */
	size_t	 ncmds[TSESS_SCRIPTS];
	size_t	 expects[TSESS_SCRIPTS];
	int	 ran[TSESS_SCRIPTS];
	const char *statuses[TSESS_SCRIPTS];
};

int	tsession_run(struct tconn *, struct tcard *, struct tsess *);

/* Checks (cmocka): the connection of the enrolled agent id (kiosk-1...)
 * with its certificate; a whole session and its exchanges and sentence. */
void	tconn_agent(struct tconn *, const struct tsmd_env *, const char *id);
void	tsession_expect(struct tconn *, struct tcard *, int exchanges,
	    const char *result);
/* Runs one script on the card into an encoded response script. */
int	tscript_run(struct tcard *, const uint8_t *, size_t, int stop_after,
	    uint8_t **rsp, size_t *rlen, const char **status, int *ran);

/*
 * Both of the above and tscript_run_cut (below) in one: the script is
 * decoded with its expectations (gp_script_decode_x) and run as the agent
 * runs it (61xx / 6Cxx, stop after a failing SW or after an R-APDU that
 * differs from the expected one: status "unexpected-response").
 */
struct trun {
	int		 stop_after;	/* as tscript_run; 0: none */
	int		 cut;		/* as tscript_run_cut; < 0: none */
	int		 cut_mode;
	/* out */
	const char	*status;
	int		 ran;		/* commands that ran */
	size_t		 ncmds;		/* the script's length */
	size_t		 expects;	/* its DF 20 expectations */
	int		 mismatch;	/* command whose answer differed; -1 */
};
int	tscript_exec(struct tcard *, const uint8_t *, size_t, struct trun *,
	    uint8_t **rsp, size_t *rlen);

/*
 * Fault injection (test_faults.c). A POST split in its two halves, so a
 * test can lose the link (or the server) between them; and a dropped
 * link: no close_notify, a TCP reset.
 */
int	tconn_send(struct tconn *, const char *sid, const char *status,
	    int resume, const uint8_t *body, size_t len);
int	tconn_send_hint(struct tconn *, const char *hint, const char *sid,
	    const char *status, int resume, const uint8_t *body, size_t len);
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
 * one empty, with X-Admin-Card: hint when set), tstep_recv reads the
 * reply and, on 200, runs its script on the card (with the power cut
 * when it is script cut_script, 1-based) and keeps the next POST
 * pending. done once a 204 came (csn: its X-Admin-Card).
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
	size_t		 ncmds[TSESS_SCRIPTS];	/* length of script i + 1 */
	const char	*hint;		/* X-Admin-Card of the first POST */
	char		 csn[32];	/* X-Admin-Card of the 204 ("": none) */
	size_t		 expects[TSESS_SCRIPTS];	/* DF 20 in script i + 1 */
	int		 ran[TSESS_SCRIPTS];	/* commands script i + 1 ran */
	const char	*statuses[TSESS_SCRIPTS];	/* how script i + 1 ended */
};

/* Powers the card up and prepares the empty first POST. */
int	tstep_init(struct tstep *, struct tcard *);
int	tstep_send(struct tconn *, struct tstep *, int resume);
int	tstep_recv(struct tconn *, struct tstep *);
/* Sends and receives until the 204 (at most 16 exchanges). */
int	tstep_finish(struct tconn *, struct tstep *);
void	tstep_free(struct tstep *);

#endif
