;; SPDX-License-Identifier: MIT
;; Never ends (for timeouts and for looking at the running runtime).
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $forever (br $forever))))
