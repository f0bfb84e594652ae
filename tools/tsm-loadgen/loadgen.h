/*
 * tsm-loadgen: many simulated agents and cards against a running tsmd,
 * with the baselines of the same run (docs/BENCHMARKS.md, "tsmd end to
 * end"). Internal interface between its files; see main.c for the phases.
 */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "cardsim.h"
#include "gp/scp.h"

#define LG_KVN		0x30		/* the cards' ISD key version */
#define LG_LABEL	"isd"		/* keyd label of their master */
#define LG_AGENTS_MAX	256
#define LG_ECHO_LEN	1024		/* bare TLS loop request and reply */
#define LG_EXCH_MAX	16		/* the agent's own cap per session */

enum lg_err {
	LG_OK = 0,
	LG_ERR_INVAL = -1,
	LG_ERR_NOMEM = -2,
	LG_ERR_IO = -3,
	LG_ERR_TLS = -4,
	LG_ERR_CARD = -5,
	LG_ERR_KEYS = -6,
	LG_ERR_PROTO = -7,
};
const char *lg_strerror(int);

/* The cards' ISD master (KDF3, AES-128): a benchmark key, not a secret. */
extern const uint8_t lg_master[16];
/* The demo CAP's applet instance (tools/capgen: package AID ‖ 01). */
#define LG_APPLET_AID	"D27600017754534D0101"

/* ---- stats.c ---- */
struct lg_lat {
	double	*v;		/* microseconds */
	size_t	 n, cap;
};
int	lg_lat_add(struct lg_lat *, double us);
int	lg_lat_merge(struct lg_lat *, const struct lg_lat *);
/* Sorts, then the q-quantile (0..1); 0 when empty. */
double	lg_lat_q(struct lg_lat *, double q);
void	lg_lat_free(struct lg_lat *);
double	lg_now(void);			/* monotonic seconds */
/* VmRSS of pid in KiB, or -1. */
long	lg_rss_kb(pid_t);
/* The malloc a process runs on, from its mappings: "jemalloc", "glibc". */
const char *lg_allocator(pid_t);
double	lg_cpu_secs(pid_t);		/* user + system, -1: ? */
double	lg_cpu_secs_tree(pid_t);	/* the same with its children */
/* A gauge or counter from a Prometheus text page at 127.0.0.1:port. */
int	lg_metric(int port, const char *name, double *out);

/* ---- cards.c ---- */
struct lg_card {
	struct sim_card	*sim;
	uint8_t		 kdd[GP_KDD_LEN];
	char		 csn[32];
};
/* Card number n: KDD 00 00 4C 47 00 00 || n (big endian). */
void	lg_card_ids(uint32_t n, uint8_t kdd[GP_KDD_LEN], char csn[32]);
int	lg_card_new(uint32_t n, struct lg_card *);
void	lg_card_free(struct lg_card *);
/* Writes the inventory CSV of cards first..first+count-1. */
int	lg_cards_csv(const char *path, const char *product, uint32_t first,
	    uint32_t count);
/* INITIALIZE UPDATE response data (no SW) of card n for host challenge hc. */
int	lg_card_iu(uint32_t n, const uint8_t hc[8], uint8_t *rsp, size_t cap,
	    size_t *len);

/* ---- net.c: client sockets ---- */
/* TCP to 127.0.0.1:port from source address 127.0.0.src (0: any),
 * TCP_NODELAY, I/O timeouts; blocking. */
int	lg_tcp_connect(int port, int src, int timeout_ms);
/* A client TLS context with the agent's certificate (TLS 1.2+). */
SSL_CTX *lg_client_ctx(const char *cert, const char *key, const char *ca);
/* TLS over fd, resuming *sess when set; *sess then gets the new one. */
int	lg_tls_connect(SSL_CTX *, int fd, SSL_SESSION **sess, SSL **out);
/* After a reply was read: keeps the session for the next connection. */
void	lg_tls_keep(SSL *, SSL_SESSION **);
/* Frees ssl, after a close_notify when clean (keeps the session
 * resumable). */
void	lg_tls_close(SSL *, int clean);
int	lg_tls_read_n(SSL *, uint8_t *, size_t);
int	lg_tls_write(SSL *, const uint8_t *, size_t);

/* ---- echo.c: the bare TLS baseline ---- */
struct lg_echo {
	pid_t	 pid;
	int	 port;
};
/* Forks a minimal TLS echo server (libevent, loops threads). */
int	lg_echo_start(struct lg_echo *, const char *cert, const char *key,
	    const char *ca, int loops);
void	lg_echo_stop(struct lg_echo *);

struct lg_bare {
	double		 rate;		/* loops per second */
	size_t		 loops, fails, resumed;
	struct lg_lat	 hs;		/* connect + resumed handshake */
	struct lg_lat	 rr;		/* one request and its reply */
};
int	lg_bare_run(SSL_CTX *, int port, int threads, double secs,
	    struct lg_bare *);

/* ---- keyd.c: keyd's secure-channel opening rate ---- */
int	lg_keyd_import(const char *sock);
int	lg_keyd_run(const char *sock, int threads, double secs, double *rate,
	    struct lg_lat *lat);

/* ---- agents.c: install sessions ---- */
struct lg_sess_cfg {
	SSL_CTX		*ctx;
	const char	*agent_id;
	int		 port;
	int		 threads;
	int		 reconnect;	/* 1: a new (resumed) TLS connection a session */
	struct lg_card	*cards;
	size_t		 ncards;
	int		 hint;		/* 1: X-Admin-Card on the first POST */
	const char	*expect;	/* result prefix ("Installed ") */
};
struct lg_sess {
	size_t		 ok, failed;
	size_t		 exchanges;		/* over ok sessions */
	unsigned	 max_exchanges;
	double		 secs, rate;
	struct lg_lat	 ex;			/* every exchange */
	struct lg_lat	 by_ex[3];		/* exchange 1, 2, 3+ */
	struct lg_lat	 hs;			/* connections opened */
	size_t		 resumed;		/* of those, TLS resumed */
	char		 first_err[160];
};
int	lg_sessions_run(const struct lg_sess_cfg *, struct lg_sess *);
void	lg_sess_free(struct lg_sess *);

/* ---- idle.c: resident memory per idle connected agent ---- */
struct lg_idle {
	size_t		 want, open;
	long		 rss_before_kb, rss_after_kb;
	double		 server_conns;	/* tsmd_connections_active, -1: ? */
	double		 secs;
};
int	lg_idle_run(SSL_CTX *, int port, int mport, pid_t server, size_t n,
	    int threads, struct lg_idle *);

#endif
