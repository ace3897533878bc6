// SPDX-License-Identifier: MIT
/* A static program that does nothing: the target of bench/fs_loop.c's open
 * and exec loops (no shared libraries, so one exec is one program). */
int main(void)
{
	return 0;
}
