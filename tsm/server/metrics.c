/*
 * Counters of the server and their Prometheus text exposition (version
 * 0.0.4), served on /metrics by the metrics listener.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server_int.h"

/* Exchange latency buckets, microseconds. */
static const uint64_t bucket_us[8] = { 250, 500, 1000, 2500, 5000, 10000,
    50000, 250000 };
static const char *const result_names[TSM_RES_N] = { "done", "failed",
    "unknown_card", "error", "expired" };
static const int error_codes[6] = { 400, 401, 403, 409, 413, 0 };
static const char *const error_names[6] = { "400", "401", "403", "409",
    "413", "other" };

void
tsm_metrics_http_error(struct tsm_metrics *m, int code)
{
	size_t i;

	for (i = 0; i < 5; i++)
		if (error_codes[i] == code)
			break;
	atomic_fetch_add(&m->http_errors[i], 1);
}

void
tsm_metrics_exchange(struct tsm_metrics *m, uint64_t us)
{
	size_t i;

	atomic_fetch_add(&m->exchanges, 1);
	atomic_fetch_add(&m->exchange_us_sum, us);
	for (i = 0; i < 8; i++)
		if (us <= bucket_us[i])
			atomic_fetch_add(&m->exchange_us_bucket[i], 1);
}

struct out {
	char	*p;
	size_t	 len, cap;
	int	 err;
};

static void
put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	char *np;
	int n;

	if (o->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->err = 1;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		if ((np = realloc(o->p, o->cap * 2 + (size_t)n)) == NULL) {
			o->err = 1;
			return;
		}
		o->p = np;
		o->cap = o->cap * 2 + (size_t)n;
	}
}

static void
counter(struct out *o, const char *name, const char *help,
    unsigned long long v)
{
	put(o, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name,
	    name, v);
}

static void
gauge(struct out *o, const char *name, const char *help, long long v)
{
	put(o, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help, name,
	    name, v);
}

static void
histogram(struct out *o, const struct tsm_metrics *m)
{
	const char *n = "tsmd_exchange_seconds";
	size_t i;

	put(o, "# HELP %s Agent request to server reply, per exchange.\n"
	    "# TYPE %s histogram\n", n, n);
	for (i = 0; i < 8; i++)
		put(o, "%s_bucket{le=\"%g\"} %llu\n", n,
		    (double)bucket_us[i] / 1e6,
		    (unsigned long long)atomic_load(&m->exchange_us_bucket[i]));
	put(o, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", n,
	    (unsigned long long)atomic_load(&m->exchanges), n,
	    (double)atomic_load(&m->exchange_us_sum) / 1e6, n,
	    (unsigned long long)atomic_load(&m->exchanges));
}

char *
tsm_metrics_render(const struct tsm_metrics *m, int draining, size_t *len)
{
	struct out o = { NULL, 0, 4096, 0 };
	size_t i;

	if ((o.p = malloc(o.cap)) == NULL)
		return NULL;
	counter(&o, "tsmd_sessions_started_total", "Sessions begun.",
	    atomic_load(&m->sessions_started));
	put(&o, "# HELP tsmd_sessions_ended_total Sessions ended, by result.\n"
	    "# TYPE tsmd_sessions_ended_total counter\n");
	for (i = 0; i < TSM_RES_N; i++)
		put(&o, "tsmd_sessions_ended_total{result=\"%s\"} %llu\n",
		    result_names[i],
		    (unsigned long long)atomic_load(&m->sessions_ended[i]));
	gauge(&o, "tsmd_sessions_active", "Sessions in progress.",
	    atomic_load(&m->sessions_active));
	gauge(&o, "tsmd_connections_active", "Agent TLS connections open.",
	    atomic_load(&m->connections_active));
	counter(&o, "tsmd_connections_total", "Agent TLS connections accepted.",
	    atomic_load(&m->connections_total));
	put(&o, "# HELP tsmd_http_errors_total Error replies, by code.\n"
	    "# TYPE tsmd_http_errors_total counter\n");
	for (i = 0; i < 6; i++)
		put(&o, "tsmd_http_errors_total{code=\"%s\"} %llu\n",
		    error_names[i],
		    (unsigned long long)atomic_load(&m->http_errors[i]));
	counter(&o, "tsmd_operations_done_total", "Operations done on cards.",
	    atomic_load(&m->ops_done));
	counter(&o, "tsmd_operations_failed_total", "Operations refused by "
	    "cards.", atomic_load(&m->ops_failed));
	counter(&o, "tsmd_operations_uncertain_total", "Operations left to "
	    "reconcile.", atomic_load(&m->ops_uncertain));
	counter(&o, "tsmd_operations_requeued_total", "Operations back in the "
	    "queue, not started.", atomic_load(&m->ops_requeued));
	counter(&o, "tsmd_precomputed_total", "Job scripts pre-computed in "
	    "the first exchange.", atomic_load(&m->precomputed));
	counter(&o, "tsmd_precompute_misses_total", "Pre-computed scripts "
	    "the card did not match (discovery followed).",
	    atomic_load(&m->precompute_misses));
	gauge(&o, "tsmd_jobs_pending", "Store and keyd jobs waiting or running.",
	    atomic_load(&m->jobs_pending));
	gauge(&o, "tsmd_draining", "1 while draining after SIGTERM.",
	    draining);
	histogram(&o, m);
	if (o.err) {
		free(o.p);
		return NULL;
	}
	*len = o.len;
	return o.p;
}
