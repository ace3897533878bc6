;; SPDX-License-Identifier: MIT
;; fileio read PATH:  prints the file PATH of the first preopened directory
;;                    (file descriptor 3) and exits 0;
;; fileio write PATH: creates or truncates PATH there, writes "written\n", exits 0.
;; A failed path_open exits 100 + the WASI errno (e.g. 144 ENOENT,
;; 176 ENOTCAPABLE, 169 EROFS, 102 EACCES, 108 EBADF when nothing is
;; preopened); other failures exit 1 to 9.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get"
    (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; 0: argc, 4: argv size, 16: iovec, 24: count, 28: opened fd,
  ;; 40: "written\n", 64: argv pointers (16), 256: argv strings (< 4096),
  ;; 8192: read buffer (4096)
  (data (i32.const 40) "written\n")
  (func $strlen (param $p i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))
  (func (export "_start")
    (local $path i32)
    (local $write i32)
    (local $err i32)
    (local $fd i32)
    (if (call $args_sizes_get (i32.const 0) (i32.const 4))
      (then (call $proc_exit (i32.const 1))))
    (if (i32.or (i32.ne (i32.load (i32.const 0)) (i32.const 3))
                (i32.gt_u (i32.load (i32.const 4)) (i32.const 3800)))
      (then (call $proc_exit (i32.const 2))))
    (if (call $args_get (i32.const 64) (i32.const 256))
      (then (call $proc_exit (i32.const 3))))
    ;; argv[1] starting with 'w' (119) means write
    (local.set $write (i32.eq (i32.load8_u (i32.load (i32.const 68))) (i32.const 119)))
    (local.set $path (i32.load (i32.const 72)))
    (local.set $err
      (call $path_open (i32.const 3) (i32.const 1)
        (local.get $path) (call $strlen (local.get $path))
        (select (i32.const 9) (i32.const 0) (local.get $write))  ;; creat|trunc
        (select (i64.const 64) (i64.const 2) (local.get $write)) ;; fd_write / fd_read
        (i64.const 0) (i32.const 0) (i32.const 28)))
    (if (local.get $err)
      (then (call $proc_exit (i32.add (i32.const 100) (local.get $err)))))
    (local.set $fd (i32.load (i32.const 28)))
    (if (local.get $write)
      (then
        (i32.store (i32.const 16) (i32.const 40))
        (i32.store (i32.const 20) (i32.const 8))
        (if (call $fd_write (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24))
          (then (call $proc_exit (i32.const 4))))
        (drop (call $fd_close (local.get $fd)))
        (call $proc_exit (i32.const 0))))
    (block $eof
      (loop $more
        (i32.store (i32.const 16) (i32.const 8192))
        (i32.store (i32.const 20) (i32.const 4096))
        (if (call $fd_read (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24))
          (then (call $proc_exit (i32.const 5))))
        (br_if $eof (i32.eqz (i32.load (i32.const 24))))
        (i32.store (i32.const 20) (i32.load (i32.const 24)))
        (if (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))
          (then (call $proc_exit (i32.const 6))))
        (br $more)))
    (drop (call $fd_close (local.get $fd)))
    (call $proc_exit (i32.const 0))))
