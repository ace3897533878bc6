;; SPDX-License-Identifier: MIT
;; Prints its environment, one "NAME=VALUE" per line, and exits 0.
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get"
    (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)
  ;; 0: count, 4: buffer size, 16: iovec, 32: "\n",
  ;; 1024: pointers (up to 1024 variables), 8192: the strings
  (data (i32.const 32) "\n")
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 16) (local.get $ptr))
    (i32.store (i32.const 20) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))
  (func $strlen (param $p i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))
  (func (export "_start")
    (local $i i32)
    (local $s i32)
    (if (call $environ_sizes_get (i32.const 0) (i32.const 4))
      (then (call $proc_exit (i32.const 2))))
    (if (i32.or (i32.gt_u (i32.load (i32.const 0)) (i32.const 1024))
                (i32.gt_u (i32.load (i32.const 4)) (i32.const 120000)))
      (then (call $proc_exit (i32.const 3))))
    ;; as wasi-libc: no environ_get for an empty environment (node:wasi
    ;; refuses it with EINVAL then)
    (if (i32.eqz (i32.load (i32.const 0)))
      (then (call $proc_exit (i32.const 0))))
    (if (call $environ_get (i32.const 1024) (i32.const 8192))
      (then (call $proc_exit (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 0))))
        (local.set $s (i32.load (i32.add (i32.const 1024) (i32.mul (local.get $i) (i32.const 4)))))
        (call $write (local.get $s) (call $strlen (local.get $s)))
        (call $write (i32.const 32) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $proc_exit (i32.const 0))))
