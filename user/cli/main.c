/* SPDX-License-Identifier: MIT */
/* The sbx binary; everything lives in sbx_main() so that tests can call it. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return sbx_main(argc, argv);
}
