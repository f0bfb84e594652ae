/*
 * tsm-loadgen: many concurrent simulated agents and cards over real TLS
 * against a running tsmd, with the baselines of the same run on the same
 * machine, printed against the bars of ../shared/DESIGN.md
 * (docs/BENCHMARKS.md, "tsmd end to end"). run.sh sets up tsm-keyd,
 * tsmd, the store and the card batch around it.
 *
 *   tsm-loadgen prepare --keyd SOCK --csv FILE --cards N [--product P]
 *   tsm-loadgen run --port P --metrics-port M --pid PID --keyd SOCK
 *       --ca-dir DIR --agent DIR --cards N [--agents 16] [--idle 10000]
 *       [--seconds 3] [--keyd-clients 4] [--loops 2] [--idle-threads 8]
 *       [--keyd-pid PID] [--phases keyd,bare,idle,reconnect,keep,precomp]
 *
 * Phases of run, one after the other: keyd's secure-channel openings per
 * second; the bare TLS loop against the load generator's own echo server;
 * tsmd's resident memory with --idle idle connected agents (on a server
 * that holds no finished session yet); install sessions with agents that
 * reconnect per session (resumed TLS), on cards 1..N/2; with agents that
 * keep their connection, on the rest.
 */
#include <sys/resource.h>

#include <err.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_int.h"
#include "loadgen.h"
#include "store/ops.h"
#include "store/store.h"

struct opts {
	const char	*keyd, *csv, *product, *ca_dir, *agent;
	int		 port, mport, agents, keyd_clients, loops, idle_threads;
	long		 pid, keyd_pid;
	const char	*phases;	/* NULL: all */
	size_t		 cards, idle;
	double		 secs;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: tsm-loadgen prepare --keyd SOCK --csv FILE "
	    "--cards N [--product NAME]\n"
	    "       tsm-loadgen run --port P --metrics-port M --pid PID "
	    "--keyd SOCK --ca-dir DIR --agent DIR --cards N [--agents N] "
	    "[--idle N] [--seconds S] [--keyd-clients N] [--loops N] "
	    "[--idle-threads N] [--keyd-pid PID] [--phases LIST]\n");
	exit(2);
}

static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

/* --phases: names from the list below, comma separated, else usage. */
static const char *
phases_ok(const char *v)
{
	static const char *const known[] = { "keyd", "bare", "idle",
	    "reconnect", "keep", "precomp" };
	const char *p = v;
	size_t n, i;

	for (;;) {
		n = strcspn(p, ",");
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strlen(known[i]) == n && strncmp(p, known[i], n) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			usage();
		if (p[n] == '\0')
			return v;
		p += n + 1;
	}
}

static void
parse(int argc, char **argv, struct opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->product = "LOADGEN-SCP03";
	o->agents = 16;
	o->idle = 10000;
	o->secs = 3;
	o->keyd_clients = 4;
	o->loops = 2;
	o->idle_threads = 8;
	for (i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (strcmp(k, "--keyd") == 0) o->keyd = v;
		else if (strcmp(k, "--csv") == 0) o->csv = v;
		else if (strcmp(k, "--product") == 0) o->product = v;
		else if (strcmp(k, "--ca-dir") == 0) o->ca_dir = v;
		else if (strcmp(k, "--agent") == 0) o->agent = v;
		else if (strcmp(k, "--port") == 0) o->port = (int)num(v, 1, 65535);
		else if (strcmp(k, "--metrics-port") == 0)
			o->mport = (int)num(v, 1, 65535);
		else if (strcmp(k, "--pid") == 0) o->pid = num(v, 1, 1L << 30);
		else if (strcmp(k, "--phases") == 0) o->phases = phases_ok(v);
		else if (strcmp(k, "--keyd-pid") == 0)
			o->keyd_pid = num(v, 1, 1L << 30);
		else if (strcmp(k, "--cards") == 0)
			o->cards = (size_t)num(v, 2, 1000000);
		else if (strcmp(k, "--agents") == 0)
			o->agents = (int)num(v, 1, LG_AGENTS_MAX);
		else if (strcmp(k, "--idle") == 0)
			o->idle = (size_t)num(v, 1, 60000);
		else if (strcmp(k, "--seconds") == 0)
			o->secs = (double)num(v, 1, 600);
		else if (strcmp(k, "--keyd-clients") == 0)
			o->keyd_clients = (int)num(v, 1, 64);
		else if (strcmp(k, "--loops") == 0) o->loops = (int)num(v, 1, 16);
		else if (strcmp(k, "--idle-threads") == 0)
			o->idle_threads = (int)num(v, 1, 64);
		else
			usage();
	}
	if (i != argc || o->keyd == NULL || o->cards == 0)
		usage();
}

static int
prepare(const struct opts *o)
{
	int r;

	if (o->csv == NULL)
		usage();
	if ((r = lg_keyd_import(o->keyd)) != 0)
		errx(1, "import of the cards' master into %s: %s", o->keyd,
		    lg_strerror(r));
	if ((r = lg_cards_csv(o->csv, o->product, 1, (uint32_t)o->cards)) != 0)
		errx(1, "%s: %s", o->csv, lg_strerror(r));
	return 0;
}

/*
 * Whether a phase runs: all of them unless --phases names some (for a
 * profile of one phase; the bars of a partial run are not judged).
 */
static int
phase_on(const struct opts *o, const char *name)
{
	size_t n = strlen(name);
	const char *p = o->phases;

	if (p == NULL)
		return 1;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == o->phases || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ','))
			return 1;
		p += n;
	}
	return 0;
}

/* CPU seconds of the three processes over one phase (-1: unknown). */
struct cpu {
	double		 tsmd, keyd, self;
};

static void
cpu_now(const struct opts *o, struct cpu *c)
{
	struct rusage ru;

	c->tsmd = lg_cpu_secs((pid_t)o->pid);
	c->keyd = o->keyd_pid > 0 ? lg_cpu_secs_tree((pid_t)o->keyd_pid) : -1;
	c->self = -1;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		c->self = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) /
		    1e6;
}

static void
cpu_since(const struct opts *o, struct cpu *c)
{
	struct cpu now;

	cpu_now(o, &now);
	c->tsmd = c->tsmd < 0 || now.tsmd < 0 ? -1 : now.tsmd - c->tsmd;
	c->keyd = c->keyd < 0 || now.keyd < 0 ? -1 : now.keyd - c->keyd;
	c->self = c->self < 0 || now.self < 0 ? -1 : now.self - c->self;
}

/* Everything the run measured. */
struct figures {
	double		 keyd_rate;
	struct lg_lat	 keyd_lat;
	struct lg_bare	 bare;
	struct lg_sess	 sess[3];	/* reconnect, keep, pre-computed */
	struct cpu	 cpu[3];	/* of each session phase */
	double		 bare_cpu_server, bare_cpu_clients;	/* seconds */
	double		 queue_secs;	/* queueing the pre-computed phase */
	struct lg_idle	 idle;
	long		 rss_end_kb;
};

static void
print_sessions(const char *mode, struct lg_sess *s)
{
	printf("sessions %-9s %zu ok, %zu failed in %.2f s: %.1f sessions/s; "
	    "exchanges/session %.2f (max %u); exchange p50 %.0f us p99 %.0f us "
	    "(1: %.0f/%.0f, 2: %.0f/%.0f, 3: %.0f/%.0f); %zu connections "
	    "(%zu resumed), connect+handshake p50 %.0f us\n", mode, s->ok,
	    s->failed, s->secs, s->rate,
	    s->ok ? (double)s->exchanges / (double)s->ok : 0, s->max_exchanges,
	    lg_lat_q(&s->ex, .5), lg_lat_q(&s->ex, .99),
	    lg_lat_q(&s->by_ex[0], .5), lg_lat_q(&s->by_ex[0], .99),
	    lg_lat_q(&s->by_ex[1], .5), lg_lat_q(&s->by_ex[1], .99),
	    lg_lat_q(&s->by_ex[2], .5), lg_lat_q(&s->by_ex[2], .99),
	    s->hs.n, s->resumed, lg_lat_q(&s->hs, .5));
	if (s->failed)
		printf("sessions %-9s first failure: %s\n", mode, s->first_err);
}

/* CPU per session of each process (clock ticks: 10 ms resolution). */
static void
print_cpu(const char *mode, const struct cpu *c, size_t n)
{
	double k;

	if (n == 0)		/* a phase not run, or nothing ok in it */
		return;
	k = 1e6 / (double)n;
	printf("cpu      %-9s per session: tsmd %.0f us, tsm-keyd %.0f us, "
	    "tsm-loadgen (agents and cards) %.0f us\n", mode,
	    c->tsmd < 0 ? -1 : c->tsmd * k, c->keyd < 0 ? -1 : c->keyd * k,
	    c->self < 0 ? -1 : c->self * k);
}

static void bar(const char *, int, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * One bar's line. A bar whose phases did not all run (--phases) is not
 * judged: zero against zero is neither met nor missed.
 */
static void
bar(const char *what, int ran, int met, const char *fmt, ...)
{
	char fig[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fig, sizeof(fig), fmt, ap);
	va_end(ap);
	printf("bar  %-58s %-34s %s\n", what, ran ? fig : "",
	    !ran ? "not run" : met ? "MET" : "NOT MET");
}

static void
print_bars(const struct opts *o, struct figures *f)
{
	struct lg_sess *rc = &f->sess[0], *kp = &f->sess[1];
	double bp99 = lg_lat_q(&f->bare.rr, .99), ex99;
	unsigned mx = rc->max_exchanges > kp->max_exchanges ?
	    rc->max_exchanges : kp->max_exchanges;
	double mb = (double)f->idle.rss_after_kb / 1024;

	ex99 = lg_lat_q(&rc->ex, .99) > lg_lat_q(&kp->ex, .99) ?
	    lg_lat_q(&rc->ex, .99) : lg_lat_q(&kp->ex, .99);
	int rcon = phase_on(o, "reconnect"), keep = phase_on(o, "keep");
	int bare = phase_on(o, "bare");

	bar("at most 3 HTTP exchanges per session", rcon || keep,
	    mx <= 3 && mx > 0, "max %u in %zu sessions", mx, rc->ok + kp->ok);
	bar("reconnect (resumed TLS) sessions/s >= 1/2 bare TLS loop/s",
	    rcon && bare, rc->rate >= f->bare.rate / 2, "%.1f vs %.1f / 2",
	    rc->rate, f->bare.rate);
	bar("kept-connection sessions/s >= 1/2 keyd openings/s",
	    keep && phase_on(o, "keyd"), kp->rate >= f->keyd_rate / 2,
	    "%.1f vs %.1f / 2", kp->rate, f->keyd_rate);
	printf("bar  %-58s %-34s %s\n", "10,000 idle agents under 200 MB "
	    "server resident", "", "");
	bar("  (measured: tsmd VmRSS with the idle agents)",
	    phase_on(o, "idle"), f->idle.open >= 10000 && mb < 200, "%.1f MB with %.0f idle", mb,
	    (double)f->idle.open);
	bar("exchange p99 <= 2 x bare TLS request/reply p99",
	    (rcon || keep) && bare, ex99 <= 2 * bp99, "%.0f us vs 2 x %.0f us", ex99, bp99);
}

static void
print_figures(const struct opts *o, struct figures *f)
{
	struct lg_idle *i = &f->idle;

	printf("keyd      %d clients: %.0f secure-channel openings/s "
	    "(keys_open_channel p50 %.0f us p99 %.0f us)\n", o->keyd_clients,
	    f->keyd_rate, lg_lat_q(&f->keyd_lat, .5),
	    lg_lat_q(&f->keyd_lat, .99));
	printf("bare-tls  %d clients: %.1f loops/s (%zu loops, %zu resumed, "
	    "%zu failed); connect+handshake p50 %.0f us p99 %.0f us; 1 KiB "
	    "request/reply p50 %.0f us p99 %.0f us\n", o->agents,
	    f->bare.rate, f->bare.loops, f->bare.resumed, f->bare.fails,
	    lg_lat_q(&f->bare.hs, .5), lg_lat_q(&f->bare.hs, .99),
	    lg_lat_q(&f->bare.rr, .5), lg_lat_q(&f->bare.rr, .99));
	print_sessions("reconnect", &f->sess[0]);
	print_sessions("keep", &f->sess[1]);
	print_sessions("precomp", &f->sess[2]);
	if (f->bare.loops > 0 && f->bare_cpu_server >= 0)
		printf("cpu      bare-tls  per loop: echo server %.0f us, "
		    "clients %.0f us\n", f->bare_cpu_server * 1e6 /
		    (double)f->bare.loops, f->bare_cpu_clients * 1e6 /
		    (double)f->bare.loops);
	print_cpu("reconnect", &f->cpu[0], f->sess[0].ok);
	print_cpu("keep", &f->cpu[1], f->sess[1].ok);
	print_cpu("precomp", &f->cpu[2], f->sess[2].ok);
	printf("precomp   a lock of the demo applet queued for each card of "
	    "the keep phase (%.2f s, in process through the store), then "
	    "sessions with kept connections whose first POST names the card "
	    "(X-Admin-Card): tsmd pre-computes the whole job\n",
	    f->queue_secs);
	printf("idle      %zu of %zu connections open in %.1f s (tsmd counts "
	    "%.0f); tsmd VmRSS %.1f MB -> %.1f MB: %.1f KB per idle agent\n",
	    i->open, i->want, i->secs, i->server_conns,
	    (double)i->rss_before_kb / 1024, (double)i->rss_after_kb / 1024,
	    i->open ? (double)(i->rss_after_kb - i->rss_before_kb) /
	    (double)i->open : 0);
	printf("tsmd      VmRSS after the sessions: %.1f MB (finished sessions "
	    "are kept session_timeout_ms for a resumed request)\n",
	    (double)f->rss_end_kb / 1024);
	print_bars(o, f);
}

static void
make_cards(const struct opts *o, struct lg_card *cards)
{
	double t0 = lg_now();
	size_t i;

	for (i = 0; i < o->cards; i++)
		if (lg_card_new((uint32_t)i + 1, &cards[i]) != 0)
			errx(1, "simulated card %zu could not be made", i + 1);
	printf("cards     %zu simulated cards made in %.2f s\n", o->cards,
	    lg_now() - t0);
}

static void
sessions(const struct opts *o, SSL_CTX *ctx, const char *id,
    struct lg_card *cards, struct figures *f)
{
	struct lg_sess_cfg sc;
	size_t half = o->cards / 2;
	int m, r;

	for (m = 0; m < 2; m++) {
		if (!phase_on(o, m == 0 ? "reconnect" : "keep"))
			continue;
		memset(&sc, 0, sizeof(sc));
		sc.ctx = ctx;
		sc.agent_id = id;
		sc.port = o->port;
		sc.threads = o->agents;
		sc.reconnect = m == 0;
		sc.cards = m == 0 ? cards : cards + half;
		sc.ncards = m == 0 ? half : o->cards - half;
		sc.expect = "Installed ";
		cpu_now(o, &f->cpu[m]);
		if ((r = lg_sessions_run(&sc, &f->sess[m])) != 0)
			errx(1, "sessions: %s", lg_strerror(r));
		cpu_since(o, &f->cpu[m]);
	}
}

/* A lock of the demo applet for each card, queued as tsmctl would. */
static void
queue_locks(struct lg_card *cards, size_t n, double *secs)
{
	const char *db = getenv("TSM_DB");
	struct tsm_store_opts so = { NULL, 0 };
	struct tsm_store *st;
	char idem[64];
	double t0 = lg_now();
	int64_t id;
	size_t i;
	int r, existed;

	if (db == NULL)
		errx(1, "TSM_DB: the store tsmd uses (run.sh sets it)");
	if ((r = tsm_store_open(&st, db, &so)) != 0)
		errx(1, "%s: %s", db, tsm_store_strerror(r));
	for (i = 0; i < n; i++) {
		snprintf(idem, sizeof(idem), "loadgen-lock:%s", cards[i].csn);
		if ((r = tsm_store_op_queue(st, cards[i].csn, "lock",
		    "{\"aid\":\"" LG_APPLET_AID "\"}", idem, "tsm-loadgen",
		    &id, &existed)) != 0)
			errx(1, "queue lock %s: %s", cards[i].csn,
			    tsm_store_strerror(r));
	}
	tsm_store_close(st);
	*secs = lg_now() - t0;
}

/* The keep phase's cards again, each with a lock, the card named. */
static void
precomputed(const struct opts *o, SSL_CTX *ctx, const char *id,
    struct lg_card *cards, struct figures *f)
{
	struct lg_sess_cfg sc;
	size_t half = o->cards / 2;
	int r;

	queue_locks(cards + half, o->cards - half, &f->queue_secs);
	memset(&sc, 0, sizeof(sc));
	sc.ctx = ctx;
	sc.agent_id = id;
	sc.port = o->port;
	sc.threads = o->agents;
	sc.cards = cards + half;
	sc.ncards = o->cards - half;
	sc.hint = 1;
	sc.expect = "Updated 1 application";
	cpu_now(o, &f->cpu[2]);
	if ((r = lg_sessions_run(&sc, &f->sess[2])) != 0)
		errx(1, "sessions: %s", lg_strerror(r));
	cpu_since(o, &f->cpu[2]);
}

/* The bare TLS loop against the echo server, with its CPU per loop. */
static void
bare(const struct opts *o, SSL_CTX *ctx, const struct lg_echo *echo,
    struct figures *f)
{
	struct cpu c;
	double e0, e1;
	int r;

	cpu_now(o, &c);
	e0 = lg_cpu_secs(echo->pid);
	if ((r = lg_bare_run(ctx, echo->port, o->agents, o->secs,
	    &f->bare)) != 0)
		errx(1, "bare TLS loop: %s", lg_strerror(r));
	cpu_since(o, &c);
	e1 = lg_cpu_secs(echo->pid);
	f->bare_cpu_server = e0 < 0 || e1 < 0 ? -1 : e1 - e0;
	f->bare_cpu_clients = c.self;
}

static int
run(const struct opts *o)
{
	static struct figures f;
	char cert[512], key[512], ca[512], scert[512], skey[512], id[65];
	struct lg_card *cards;
	struct lg_echo echo;
	SSL_CTX *ctx;
	size_t i;
	int r, ok;

	if (o->port == 0 || o->pid == 0 || o->ca_dir == NULL ||
	    o->agent == NULL)
		usage();
	snprintf(cert, sizeof(cert), "%s/agent.crt", o->agent);
	snprintf(key, sizeof(key), "%s/agent.key", o->agent);
	snprintf(ca, sizeof(ca), "%s/ca.crt", o->agent);
	snprintf(scert, sizeof(scert), "%s/server.crt", o->ca_dir);
	snprintf(skey, sizeof(skey), "%s/server.key", o->ca_dir);
	/* Before any thread: the echo server is a child process. */
	if ((r = lg_echo_start(&echo, scert, skey, ca, o->loops)) != 0)
		errx(1, "echo server: %s", lg_strerror(r));
	if ((ctx = lg_client_ctx(cert, key, ca)) == NULL ||
	    agent_cert_cn(cert, id, sizeof(id)) != 0)
		errx(1, "%s: agent certificate, key or CA unusable", o->agent);
	if ((cards = calloc(o->cards, sizeof(*cards))) == NULL)
		errx(1, "out of memory");
	printf("tsm-loadgen: tsmd pid %ld port %d, %d agents, %zu cards, "
	    "%zu idle, %.0f s baselines, %ld cores; malloc: tsmd %s, "
	    "tsm-loadgen and its echo server %s\n", o->pid, o->port,
	    o->agents, o->cards, o->idle, o->secs,
	    sysconf(_SC_NPROCESSORS_ONLN), lg_allocator((pid_t)o->pid),
	    lg_allocator(getpid()));
	make_cards(o, cards);
	fflush(stdout);
	if (phase_on(o, "keyd") && (r = lg_keyd_run(o->keyd, o->keyd_clients,
	    o->secs, &f.keyd_rate, &f.keyd_lat)) != 0)
		errx(1, "keyd baseline: %s", lg_strerror(r));
	if (phase_on(o, "bare"))
		bare(o, ctx, &echo, &f);
	lg_echo_stop(&echo);
	/* Idle agents on a server that holds no finished session yet. */
	if (phase_on(o, "idle") && (r = lg_idle_run(ctx, o->port, o->mport,
	    (pid_t)o->pid, o->idle, o->idle_threads, &f.idle)) != 0)
		errx(1, "idle connections: %s", lg_strerror(r));
	sessions(o, ctx, id, cards, &f);
	if (phase_on(o, "precomp"))
		precomputed(o, ctx, id, cards, &f);
	f.rss_end_kb = lg_rss_kb((pid_t)o->pid);
	print_figures(o, &f);
	ok = f.sess[0].failed == 0 && f.sess[1].failed == 0 &&
	    f.sess[0].ok > 0 && f.sess[1].ok > 0 &&
	    f.sess[2].failed == 0 && f.sess[2].ok > 0 &&
	    f.sess[2].max_exchanges <= 2 &&
	    f.sess[0].max_exchanges <= 3 && f.sess[1].max_exchanges <= 3 &&
	    f.bare.loops > 0 && f.keyd_rate > 0 && f.idle.open == o->idle &&
	    f.idle.rss_after_kb > 0;
	printf("result    %s\n", o->phases != NULL ? "partial run (--phases): "
	    "the bars of phases not run are not judged" : ok ? "all figures "
	    "produced, every session installed in at most 3 exchanges, every "
	    "pre-computed one in 2" : "INCOMPLETE (see above)");
	for (i = 0; i < o->cards; i++)
		lg_card_free(&cards[i]);
	free(cards);
	SSL_CTX_free(ctx);
	lg_sess_free(&f.sess[0]);
	lg_sess_free(&f.sess[1]);
	lg_sess_free(&f.sess[2]);
	lg_lat_free(&f.keyd_lat);
	lg_lat_free(&f.bare.hs);
	lg_lat_free(&f.bare.rr);
	return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct rlimit rl;
	struct opts o;

	if (argc < 2)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	parse(argc, argv, &o);
	if (strcmp(argv[1], "prepare") == 0)
		return prepare(&o);
	if (strcmp(argv[1], "run") == 0)
		return run(&o);
	usage();
}
