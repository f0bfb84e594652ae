/*
 * libFuzzer harness for the card file row parsers (tsm/store): the first
 * byte picks CSV (header + rows, one per line) or JSON (the stream
 * splitter feeding each complete object to the cJSON row parser).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/store_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_csv(const char *p, size_t n)
{
	struct tsm_csv_cols cols;
	struct tsm_import_row row;
	char why[200];
	const char *nl;
	size_t len;
	int have = 0;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		len = nl != NULL ? (size_t)(nl - p) : n;
		if (len <= TSM_LINE_MAX) {
			if (!have)
				have = tsm_csv_header(p, len, &cols, why,
				    sizeof(why)) == 0;
			else
				(void)tsm_csv_row(&cols, p, len, &row, why,
				    sizeof(why));
		}
		p += len;
		n -= len;
		if (n > 0) {
			p++;
			n--;
		}
	}
}

static void
fuzz_json(const uint8_t *p, size_t n)
{
	struct tsm_json_split j;
	struct tsm_import_row row;
	char why[200];
	size_t i;
	int r;

	tsm_json_split_init(&j);
	for (i = 0; i < n; i++) {
		if ((r = tsm_json_split_byte(&j, p[i], why, sizeof(why))) < 0)
			return;
		if (r == 1)
			(void)tsm_json_row(j.buf, j.len, &row, why,
			    sizeof(why));
	}
	(void)tsm_json_split_end(&j, why, sizeof(why));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_json(data + 1, size - 1);
	else
		fuzz_csv((const char *)data + 1, size - 1);
	return 0;
}
