/*
 * Structured logs: one logfmt line per event on stderr,
 *
 *   ts=2024-07-01T10:00:00.123Z level=info event=session.end sid=... k=v
 *
 * Callers pass key=value pairs; values that may hold spaces are quoted by
 * the caller ("%s" in quotes). Nothing secret is ever passed here: no key,
 * no APDU data, no R-APDU data (status words and lengths only).
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/server.h"

static atomic_int log_level = TSM_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info",
    "debug" };

void
tsm_log_set_level(int level)
{
	atomic_store(&log_level, level);
}

void
tsm_log(int level, const char *event, const char *fmt, ...)
{
	char line[1024], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (level > atomic_load(&log_level) || level < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s event=%s", ts,
	    now.tv_nsec / 1000000, level_names[level], event);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	if (fmt != NULL && *fmt != '\0') {
		line[n++] = ' ';
		va_start(ap, fmt);
		(void)vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* One fputs per line: stdio locks the stream, lines never mix. */
	line[strcspn(line, "\n")] = '\0';
	fprintf(stderr, "%s\n", line);
}
