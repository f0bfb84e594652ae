/*
 * tsmctl keys ...: the key ceremony (keys/ issue). Placeholder until
 * tsm-keyd lands: says so and fails.
 */
#include <stdio.h>

#include "tsmctl.h"

int
tsmctl_keys(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tsmctl keys: key custody is not part of this build\n");
	return 2;
}
