/*
 * tsmctl cap verify FILE.cap SIG.p7s --anchor CA.pem [--crl CRL.pem]:
 * the provider's detached CMS signature over a CAP file, checked against
 * the issuer's trust anchors (keys_cms_verify). Prints why on refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "tsmctl.h"

#define FILE_MAX	(16 * 1024 * 1024)

static int
slurp(const char *path, uint8_t **out, size_t *n)
{
	FILE *f;
	long len;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    len > FILE_MAX || fseek(f, 0, SEEK_SET) != 0 ||
	    (*out = malloc((size_t)len + 1)) == NULL ||
	    fread(*out, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(*out);
		*out = NULL;
		return -1;
	}
	fclose(f);
	*n = (size_t)len;
	return 0;
}

int
tsmctl_cap_verify(int argc, char **argv)
{
	const char *anchor = NULL, *crl = NULL;
	uint8_t *cap = NULL, *sig = NULL;
	size_t capn = 0, sign = 0;
	char why[256];
	int i, r, rc = 1;

	for (i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--anchor") == 0)
			anchor = argv[i + 1];
		else if (strcmp(argv[i], "--crl") == 0)
			crl = argv[i + 1];
		else
			break;
	}
	if (argc < 5 || i != argc || anchor == NULL) {
		fprintf(stderr, "usage: tsmctl cap verify FILE.cap SIG.p7s "
		    "--anchor CA.pem [--crl CRL.pem]\n");
		return 2;
	}
	if (slurp(argv[1], &cap, &capn) != 0 ||
	    slurp(argv[2], &sig, &sign) != 0) {
		fprintf(stderr, "tsmctl cap verify: cannot read %s\n",
		    cap == NULL ? argv[1] : argv[2]);
		goto out;
	}
	r = keys_cms_verify(cap, capn, sig, sign, anchor, crl, why,
	    sizeof(why));
	if (r != 0) {
		printf("refused: %s\n", why);
		goto out;
	}
	printf("verified: %s signed by a codeSigning certificate chaining to "
	    "%s\n", argv[1], anchor);
	rc = 0;
out:
	free(cap);
	free(sig);
	return rc;
}
