# SPDX-License-Identifier: MIT
# Run inside a process-provider sandbox by test_init_replace.sh: every way
# to reach PID 1's binary (sbx-init, or sbx before sbx-init's exec), its
# memory and its descriptors from the workload. One line per attempt:
# LABEL refused ERRNO | LABEL open (the attempt succeeded).
import errno
import os
import sys

init_path = sys.argv[1]	# the host's sbx-init, as the view may show it


def attempt(label, fn):
    try:
        fn()
        print(label, "open")
    except OSError as e:
        print(label, "refused", errno.errorcode.get(e.errno, str(e.errno)))


def opener(path, flags):
    return lambda: os.close(os.open(path, flags))


attempt("readlink_exe", lambda: os.readlink("/proc/1/exe"))
attempt("exe_read", opener("/proc/1/exe", os.O_RDONLY))
attempt("exe_write", opener("/proc/1/exe", os.O_WRONLY))
attempt("exe_path", opener("/proc/1/exe", os.O_PATH))
attempt("mem_read", opener("/proc/1/mem", os.O_RDONLY))
attempt("environ_read", opener("/proc/1/environ", os.O_RDONLY))
attempt("root_list", lambda: os.listdir("/proc/1/root/"))
attempt("fd_open", opener("/proc/1/fd/0", os.O_RDONLY))
attempt("map_files", lambda: os.listdir("/proc/1/map_files/"))
attempt("path_write", opener(init_path, os.O_WRONLY))
attempt("path_rename", lambda: os.rename(init_path, init_path + ".x"))
attempt("path_chmod", lambda: os.chmod(init_path, 0o777))
