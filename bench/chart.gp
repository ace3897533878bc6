# SPDX-License-Identifier: MIT
# gnuplot -e "datafile='...'; outfile='...'" bench/chart.gp
# datafile (bench/report.py --chart-data): block 0 start-up (label median_ms
# p10_ms p90_ms), block 1 enforcement ratios (label ratio p10 p90).
set terminal pngcairo size 1500,1000 font "sans,10"
set output outfile
set multiplot layout 2,1
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics
set xtics rotate by -30 left nomirror
set key off

set title "Start-up: whole-process time to run /bin/true (median, p10-p90; log scale)"
set ylabel "ms"
set logscale y
plot datafile index 0 using 0:2:xtic(1) with boxes lc rgb "#4a7ab5", \
     '' index 0 using 0:2:3:4 with yerrorbars lc rgb "black" pt 0

unset logscale y
set title "Enforcement overhead: loop in sbx / same loop outside (median, p10-p90 of paired rounds)"
set ylabel "ratio"
set yrange [0:2.5]
plot datafile index 1 using 0:2:xtic(1) with boxes lc rgb "#b5884a", \
     '' index 1 using 0:2:3:4 with yerrorbars lc rgb "black" pt 0, \
     1.05 with lines dt 2 lc rgb "red" title "1.05", 1.15 with lines dt 3 lc rgb "red" title "1.15"
unset multiplot
