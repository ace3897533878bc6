;; SPDX-License-Identifier: MIT
;; Traps (unreachable) before it could exit.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    unreachable))
