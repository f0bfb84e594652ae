/*
 * Latency samples, quantiles, the server's resident memory and one
 * figure from its /metrics page.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"

#define LAT_MAX		(8u << 20)	/* samples per series */
#define METRICS_MAX	(256 * 1024)	/* bytes of /metrics read */

const char *
lg_strerror(int e)
{
	static const char *const names[] = { "ok", "invalid argument",
	    "out of memory", "I/O error", "TLS error", "card error",
	    "tsm-keyd error", "protocol error" };

	if (e > 0 || -e >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown error";
	return names[-e];
}

double
lg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
lg_lat_add(struct lg_lat *l, double us)
{
	double *v;
	size_t cap;

	if (l->n == l->cap) {
		if (l->cap >= LAT_MAX)
			return LG_ERR_NOMEM;
		cap = l->cap ? l->cap * 2 : 1024;
		if ((v = realloc(l->v, cap * sizeof(*v))) == NULL)
			return LG_ERR_NOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = us;
	return 0;
}

int
lg_lat_merge(struct lg_lat *to, const struct lg_lat *from)
{
	size_t i;
	int r;

	for (i = 0; i < from->n; i++)
		if ((r = lg_lat_add(to, from->v[i])) != 0)
			return r;
	return 0;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
lg_lat_q(struct lg_lat *l, double q)
{
	size_t i;

	if (l->n == 0)
		return 0;
	qsort(l->v, l->n, sizeof(double), cmpd);
	i = (size_t)(q * (double)l->n);
	return l->v[i < l->n ? i : l->n - 1];
}

void
lg_lat_free(struct lg_lat *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

long
lg_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

const char *
lg_allocator(pid_t pid)
{
	char path[64], line[512];
	const char *name = "glibc";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/maps", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return "unknown";
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "/libjemalloc.so") != NULL) {
			name = "jemalloc";
			break;
		}
	fclose(f);
	return name;
}

/*
 * CPU seconds (user + system) a process has used: fields 14 and 15 of
 * /proc/PID/stat, after the command name in parentheses (which may hold
 * spaces, hence the last ')'). -1 when unknown.
 */
double
lg_cpu_secs(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * The same for pid and its children (one level: tsm-keyd's workers are
 * processes of their own), from /proc/PID/task/PID/children.
 */
double
lg_cpu_secs_tree(pid_t pid)
{
	char path[96];
	double t, c;
	long kid;
	FILE *f;

	if ((t = lg_cpu_secs(pid)) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
	    (long)pid, (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return t;
	while (fscanf(f, "%ld", &kid) == 1)
		if (kid > 0 && (c = lg_cpu_secs((pid_t)kid)) > 0)
			t += c;
	fclose(f);
	return t;
}

/* GET /metrics over plain HTTP/1.0; the page into buf (NUL ended). */
static int
fetch_metrics(int port, char *buf, size_t cap)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	size_t got = 0;
	ssize_t n;
	int fd, r = LG_ERR_IO;

	if ((fd = lg_tcp_connect(port, 0, 5000)) < 0)
		return LG_ERR_IO;
	if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
		goto out;
	while (got < cap - 1 && (n = read(fd, buf + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	r = got > 0 ? 0 : LG_ERR_IO;
 out:
	close(fd);
	return r;
}

int
lg_metric(int port, const char *name, double *out)
{
	char *buf, *p;
	size_t nl = strlen(name);
	int r;

	*out = -1;
	if (port <= 0)
		return LG_ERR_INVAL;
	if ((buf = malloc(METRICS_MAX)) == NULL)
		return LG_ERR_NOMEM;
	if ((r = fetch_metrics(port, buf, METRICS_MAX)) != 0)
		goto out;
	r = LG_ERR_PROTO;
	for (p = buf; (p = strstr(p, name)) != NULL; p += nl)
		if ((p == buf || p[-1] == '\n') && p[nl] == ' ') {
			*out = strtod(p + nl + 1, NULL);
			r = 0;
			break;
		}
 out:
	free(buf);
	return r;
}
