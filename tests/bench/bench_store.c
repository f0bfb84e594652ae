/*
 * bench_store: bulk import rate and card lookup latency of the store.
 *
 *   bench_store [--cards N] [--lookups M] [--url URL] [--dir DIR]
 *
 * Writes a manufacturer CSV of N cards (not timed), imports it (timed:
 * cards/s), then looks up M random CSNs one by one (p50, p99) and prints
 * bytes per card on disk. Default: 1,000,000 cards into a fresh SQLite
 * file under DIR (/tmp). --cards 10000000 gives the 10M figure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
write_csv(const char *path, long n)
{
	FILE *fp;
	long i;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fprintf(fp, "csn,iin,cin,kdd,product,batch,tkv\n");
	for (i = 0; i < n; i++)
		fprintf(fp, "4790%012lX,42%06lX,45%010lX,0000%016lX,BENCH,"
		    "LOT-%04ld,255\n", (unsigned long)i, (unsigned long)(i & 0xff),
		    (unsigned long)i, (unsigned long)i, i / 100000);
	return fclose(fp);
}

static int
bench_import(struct tsm_store *s, const char *csv, long n)
{
	struct tsm_product p = { "BENCH", "2.3.1", "3.0.4", 3, 0x70, "kdf3",
	    "1,2", 0 };
	struct tsm_import_opts o;
	struct tsm_import_result res;
	double t0, t;
	int r, applied;

	if ((r = tsm_store_migrate(s, 0, &applied)) != 0 ||
	    (r = tsm_store_product_add(s, &p, NULL)) != 0)
		return r;
	memset(&o, 0, sizeof(o));
	o.commit_every = 100000;
	t0 = now_s();
	r = tsm_store_import_file(s, csv, &o, &res);
	t = now_s() - t0;
	if (r != 0 || (long)res.imported != n) {
		fprintf(stderr, "import: %s (%s), %llu imported\n",
		    tsm_store_strerror(r), tsm_store_errmsg(s),
		    (unsigned long long)res.imported);
		return r != 0 ? r : -1;
	}
	printf("import:  %ld cards in %.2f s = %.0f cards/s\n", n, t,
	    (double)n / t);
	return 0;
}

static int
bench_lookup(struct tsm_store *s, long n, long m)
{
	struct tsm_card c;
	double *lat, t0;
	char csn[32];
	long i;
	int r = 0;

	if ((lat = calloc((size_t)m, sizeof(*lat))) == NULL)
		return -1;
	srand(7);
	for (i = 0; i < m && r == 0; i++) {
		snprintf(csn, sizeof(csn), "4790%012lX",
		    (unsigned long)(((long)rand() * 65536L + rand()) % n));
		t0 = now_s();
		r = tsm_store_card_get(s, csn, &c);
		lat[i] = (now_s() - t0) * 1e6;
	}
	if (r == 0) {
		qsort(lat, (size_t)m, sizeof(*lat), cmp_d);
		printf("lookup:  %ld random CSNs at %ld cards: p50 %.1f us, "
		    "p99 %.1f us, max %.1f us\n", m, n, lat[m / 2],
		    lat[m * 99 / 100], lat[m - 1]);
	} else
		fprintf(stderr, "lookup %s: %s\n", csn, tsm_store_strerror(r));
	free(lat);
	return r;
}

int
main(int argc, char **argv)
{
	const char *dir = "/tmp", *url = NULL;
	char csv[700], db[600];
	struct tsm_store *s;
	long n = 1000000, m = 100000;
	int64_t bytes = 0;
	int i, r;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--cards") == 0)
			n = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--lookups") == 0)
			m = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--url") == 0)
			url = argv[i + 1];
		else if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
	}
	if (n <= 0 || m <= 0)
		return 2;
	snprintf(csv, sizeof(csv), "%s/bench_store_%ld.csv", dir, n);
	snprintf(db, sizeof(db), "sqlite:%s/bench_store_%d.db", dir,
	    (int)getpid());
	if (url == NULL)
		url = db;
	if (write_csv(csv, n) != 0 || (r = tsm_store_open(&s, url, NULL)) != 0)
		return 1;
	printf("store:   %s (%s)\n", tsm_store_backend(s), url);
	if ((r = bench_import(s, csv, n)) == 0 &&
	    (r = bench_lookup(s, n, m)) == 0 &&
	    tsm_store_disk_bytes(s, &bytes) == 0)
		printf("disk:    %.1f MB, %.0f bytes/card\n",
		    (double)bytes / 1e6, (double)bytes / (double)n);
	tsm_store_close(s);
	unlink(csv);
	if (url == db) {
		unlink(db + 7);
		snprintf(csv, sizeof(csv), "%s-wal", db + 7);
		unlink(csv);
		snprintf(csv, sizeof(csv), "%s-shm", db + 7);
		unlink(csv);
	}
	return r == 0 ? 0 : 1;
}
