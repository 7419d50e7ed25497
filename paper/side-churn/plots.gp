# Drawn by anysee-analyze; run again with: gnuplot plots.gp
do for [ext in 'svg png'] {
if (ext eq 'svg') { set terminal svg size 800,500 dynamic } else { set terminal pngcairo size 800,500 }
set grid
set key outside
set xlabel 'sweep point'
set offsets 0.3, 0.3, 0, 0
set output 'sweep_played.'.ext
set title 'Peers that played'
set ylabel 'share of peers'
plot 'sweep_played.dat' index 0 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'anysee', 'sweep_played.dat' index 1 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'anysee-intra', 'sweep_played.dat' index 2 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'coolstreaming'
set output 'sweep_startup.'.ext
set title 'Startup delay (median over peers)'
set ylabel 's'
plot 'sweep_startup.dat' index 0 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'anysee', 'sweep_startup.dat' index 1 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'anysee-intra', 'sweep_startup.dat' index 2 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'coolstreaming'
set output 'sweep_delay.'.ext
set title 'Source-to-end delay, steady state (median)'
set ylabel 'ms'
plot 'sweep_delay.dat' index 0 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'anysee', 'sweep_delay.dat' index 1 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'anysee-intra', 'sweep_delay.dat' index 2 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'coolstreaming'
set output 'sweep_continuity.'.ext
set title 'Continuity index'
set ylabel 'continuity'
plot 'sweep_continuity.dat' index 0 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'anysee', 'sweep_continuity.dat' index 1 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'anysee-intra', 'sweep_continuity.dat' index 2 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'coolstreaming'
set output 'sweep_utilization.'.ext
set title 'Resource utilization (upload used)'
set ylabel 'share'
plot 'sweep_utilization.dat' index 0 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'anysee', 'sweep_utilization.dat' index 1 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'anysee-intra', 'sweep_utilization.dat' index 2 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'coolstreaming'
set output 'sweep_height.'.ext
set title 'Tree height (mean overlay hops)'
set ylabel 'hops'
plot 'sweep_height.dat' index 0 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'anysee', 'sweep_height.dat' index 1 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'anysee-intra', 'sweep_height.dat' index 2 using 1:3:4:5:xtic(2) with yerrorlines lw 2 title 'coolstreaming'
}
