/*
 * tsmctl db|inventory|card|audit ...: the store (tsm/store issue).
 * Placeholder until the store lands: says so and fails.
 */
#include <stdio.h>

#include "tsmctl.h"

static int
absent(const char *what)
{
	fprintf(stderr, "tsmctl %s: the store is not part of this build\n",
	    what);
	return 2;
}

int
tsmctl_db(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return absent("db");
}

int
tsmctl_inventory(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return absent("inventory");
}

int
tsmctl_card(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return absent("card");
}

int
tsmctl_audit(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return absent("audit");
}
