/*
 * libtsmagent internals: shared by the library's files and its unit
 * tests, never installed.
 */
#ifndef AGENT_AGENT_INT_H
#define AGENT_AGENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "gp/buf.h"

/* ---- protocol constants (docs/protocol/agent.md) ---- */
#define AGENT_PATH_DEFAULT	"/gp/v1/admin"
#define AGENT_PROTOCOL		"globalplatform-remote-admin/1.0"
#define AGENT_CT_REQUEST \
	"application/vnd.globalplatform.card-content-mgt-response;version=1.0"
#define AGENT_CT_RESPONSE \
	"application/vnd.globalplatform.card-content-mgt;version=1.0"

#define AGENT_BODY_MAX		(1024 * 1024)	/* both directions */
#define AGENT_HEAD_MAX		(16 * 1024)	/* status line + headers */
#define AGENT_HEADERS_MAX	64
#define AGENT_SESSION_MAX	128
#define AGENT_RESULT_MAX	200
/* Commands of one script. Past 255 a count takes two bytes (80 02, our
 * extension of TS 102 226): the agent says so in X-TSM-Script-Max, and a
 * TSM that does not know the header keeps to 255. */
#define AGENT_SCRIPT_MAX	1024
#define AGENT_EXCHANGES_MAX	16	/* per session: the TSM needs 3 */
#define AGENT_CSN_LEN		20	/* X-Admin-Card: 20 hex digits */

/* ---- url.c ---- */
struct agent_url {
	char	host[256];
	char	port[6];
	char	path[256];
};
int	agent_url_parse(const char *, struct agent_url *);

/* ---- http.c: a bounded HTTP/1.1 response parser ---- */
struct agent_http_rsp {
	int		 status;		/* 100..599 */
	int		 close;			/* Connection: close */
	int		 proto_ok;		/* X-Admin-Protocol matched */
	int		 ctype_ok;		/* script media type */
	char		 session[AGENT_SESSION_MAX + 1];	/* "" absent */
	char		 result[AGENT_RESULT_MAX + 1];	/* cleaned */
	char		 card[AGENT_CSN_LEN + 1];	/* "" absent or bad */
	const uint8_t	*body;			/* into the caller's bytes */
	size_t		 body_len;
	size_t		 total;			/* head + body */
};

/*
 * Parses the response at the start of p[0..n). 0: complete (rsp filled,
 * rsp->total bytes used); 1: incomplete, read more; else a negative
 * agent_err (AGENT_ERR_TOOBIG as soon as the head or a Content-Length
 * exceeds the caps, before any body is read).
 */
int	agent_http_parse(const uint8_t *, size_t, struct agent_http_rsp *);
/* 1 when s[0..n) is a CSN: exactly 20 digits 0-9 A-F (uppercase). */
int	agent_csn_ok(const char *, size_t);
/* 1 when s[0..n) is an agent id: 1..64 of A-Z a-z 0-9 - . _ ~ */
int	agent_id_ok(const char *, size_t);

/*
 * ---- tls_openssl.c or tls_wolfssl.c: the TLS library ----
 * One of the two is built into a libtsmagent (tsmagent: OpenSSL,
 * tsmagent_wolfssl: wolfSSL); conn.c holds everything else. Both give the
 * same contract: TLS 1.2 or 1.3 only, the server's certificate checked
 * against the configured CA and the URL's host (name or IP address), the
 * client certificate and key from the configured files, resumption of
 * the last session kept, and no SIGPIPE on a dropped link. I/O errors:
 * AGENT_ERR_TLS for a fatal alert from the server (a refused or revoked
 * certificate shows up there under TLS 1.3), AGENT_ERR_LINK otherwise.
 */
struct agent_tls;		/* CA, certificate, key, session to resume */
struct agent_tls_conn;		/* one TLS connection over a socket */

int	agent_tls_new(const struct agent_config *, struct agent_tls **);
void	agent_tls_free(struct agent_tls *);
/* Handshake over the connected socket fd (which stays the caller's). */
int	agent_tls_connect(struct agent_tls *, int fd, const char *host,
	    struct agent_tls_conn **);
/* Quiet close (no close_notify: the link may be gone), session kept. */
void	agent_tls_close(struct agent_tls_conn *);
int	agent_tls_write(struct agent_tls_conn *, const uint8_t *, size_t,
	    size_t *);
int	agent_tls_read(struct agent_tls_conn *, uint8_t *, size_t, size_t *);
/* Keeps the connection's session for the next handshake. */
void	agent_tls_keep(struct agent_tls *, struct agent_tls_conn *);
int	agent_tls_resumed(const struct agent_tls_conn *);
const char *agent_tls_library(void);
/* The certificate's CN, when it is a safe identifier ([A-Za-z0-9-._~]). */
int	agent_cert_cn(const char *cert, char *out, size_t cap);

/* ---- conn.c: one HTTPS connection ---- */
struct agent_conn {
	struct agent_tls	*tls;
	struct agent_tls_conn	*ssl;	/* NULL: not connected */
	int			 fd;
	int			 used;	/* a response was read on it */
};

int	agent_conn_open(struct agent_conn *, const struct agent_url *,
	    int timeout_ms);
void	agent_conn_close(struct agent_conn *);
int	agent_conn_write(struct agent_conn *, const uint8_t *, size_t);
/* Reads one whole response into w (which owns the bytes rsp points to). */
int	agent_conn_read(struct agent_conn *, struct gp_wr *,
	    struct agent_http_rsp *);

/* ---- exec.c: one command script on the card ---- */
enum agent_script_status {
	AGENT_SS_OK = 0,
	AGENT_SS_SECURITY,
	AGENT_SS_UNKNOWN_APP,
	AGENT_SS_CARD_REMOVED,
	AGENT_SS_LINK,
	AGENT_SS_UNEXPECTED,	/* an R-APDU differed from its DF 20 */
};
const char *agent_script_status_name(enum agent_script_status);

struct agent_exec {
	unsigned	 executed;	/* commands run, the failing one too */
	uint16_t	 last_sw;
	enum agent_script_status status;
	int		 card_err;	/* the card link's error, 0: none */
};

/*
 * Runs the command script (AA ...) on the card and writes the response
 * script (AB ...) to out. A script that does not decode is answered with
 * executed 0 and a Bad format TLV (TS 102 226), not run at all. A
 * command whose final R-APDU differs from its expected one (DF 20) ends
 * the run with AGENT_SS_UNEXPECTED; it counts as executed.
 */
int	agent_exec_script(const struct agent_card *, const uint8_t *, size_t,
	    struct gp_wr *out, struct agent_exec *);

/* ---- backoff.c ---- */
/* Delay before retry number attempt (0-based): equal jitter. */
unsigned agent_backoff_ms(unsigned base, unsigned max, unsigned attempt,
	    uint32_t rnd);

/* ---- agent.c ---- */
struct agent {
	struct agent_config	 cfg;
	struct agent_url	 url;
	struct agent_conn	 conn;
	char			 id[65];
	/* The CSN the TSM named at the end of the last session ("" none):
	 * sent on the next session's first POST to skip discovery. */
	char			 card_hint[AGENT_CSN_LEN + 1];
};

void	agent_logf(const struct agent *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
