# SPDX-License-Identifier: MIT
# Helpers of the tests that watch the monitor (`sbx run`) itself
# (test_monitor_trim.sh, test_ring_release_attack.sh). Sourced after
# tests/integration/lib.sh.

# ring_maps PID: mappings of a BPF map in PID (the audit ring's consumer is
# the monitor's only one: libbpf maps it in two parts)
ring_maps()
{
	grep -c 'anon_inode:bpf-map' "/proc/$1/maps" 2>/dev/null
}

# wait_ring_released PID: until the idle monitor PID maps no ring (10 s at
# most): its 256 KiB (the default ring) would count in its Pss
wait_ring_released()
{
	local n
	for _ in $(seq 200); do
		n=$(ring_maps "$1")
		[ "$n" = 0 ] && return 0
		sleep 0.05
	done
	fail "the idle monitor still maps ${n:-?} BPF map(s) (its audit ring)"
}

# wait_for_child PID: until PID has a child (the workload)
wait_for_child()
{
	for _ in $(seq 200); do
		pgrep -P "$1" >/dev/null && return 0
		sleep 0.05
	done
	fail "no workload under $1: $(cat "$T_TMP"/*.err 2>/dev/null | tail -c 300)"
}
