#include "tsmctl.h"
int
tsmctl_demo(int argc, char **argv)
{
	(void)argc; (void)argv;
	return 2;
}
