#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Draw the pictures of BENCHMARKS.md from the reports of the last bench run
# (build/bench/LINE.txt, LINE a kernel line: 6.1, 6.12, 7.3, ...) with gnuplot's svg
# terminal (Debian's gnuplot-nox, tests/install-deps.sh), into docs/bench/:
#   sweep-LINE.svg        ns/page of each walk against range size, from the report's
#                         "sweep WALK BYTES NS_PER_PAGE" lines (gupnw_bench's sweep)
#   cdf-SERVER-LINE.svg   hot-request latency CDF of a server (tokio, bbolt), one curve
#                         per row, from its "cdf SERVER ROW MS@PCT ..." lines
# A report without such lines gets no such picture (said on stderr).
#   tests/bench/plot.sh [LINE]...     (default: every build/bench/LINE.txt)
# Each LINE's old pictures are removed first, so that none outlives its report; with
# no LINE, every picture in docs/bench/ is.  The SVGs carry no date: equal reports
# draw equal files.  Prints the path of each SVG written.
set -euo pipefail
bench_dir=$(cd "$(dirname "$0")" && pwd)
vm_dir=$(cd "$bench_dir/../vm" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$vm_dir/lib.sh"

command -v gnuplot >/dev/null || die "no gnuplot (tests/install-deps.sh installs gnuplot-nox)"
out_dir=$top/docs/bench
mkdir -p "$out_dir"

if [ $# -eq 0 ]; then
	rm -f "$out_dir"/sweep-*.svg "$out_dir"/cdf-*.svg
	for f in "$build"/bench/[0-9]*.txt; do
		[ -f "$f" ] || continue
		l=${f##*/}
		set -- "$@" "${l%.txt}"
	done
fi

# What every picture shares: size, font, a light grid.
common='set terminal svg size 760,470 dynamic font "sans,12"
set grid xtics ytics mxtics mytics lc rgb "#dddddd" lw 1
set key outside right top vertical Left reverse noenhanced
set border lw 1'

# sweep-LINE.svg from the sweep lines of $1 (the report), for line $2.
plot_sweep() {
	local f=$1 line=$2 svg=$out_dir/sweep-$2.svg
	if ! grep -q '^sweep ' "$f"; then
		echo "plot: $f has no sweep lines: no $svg" >&2
		return 0
	fi
	{
		printf '%s\n' "$common"
		echo "set output '$svg'"
		echo "set title 'ns per page against range size, Linux $line (QEMU TCG)' noenhanced"
		cat <<'EOF'
set logscale xy 2
set logscale y 10
set format y "%g"
set xlabel "range walked in one call (dense up to 256 MiB: every page present; sparse: 1 page in 16384)"
set ylabel "ns per page (median, log scale)"
set xtics ("4K" 4096, "64K" 65536, "1M" 1048576, "16M" 16777216, "256M" 268435456, "4G" 4294967296.0, "64G" 68719476736.0)
set mxtics 1
set xrange [2048:137438953472.0]
set arrow from 1073741824.0, graph 0 to 1073741824.0, graph 1 nohead dt 3 lc rgb "#777777"
set label "dense | sparse" at 1073741824.0, graph 0.97 center tc rgb "#555555"
EOF
		# One datablock and one curve per walk, in the order the report lists them.
		awk '
		/^sweep / { if (!($2 in seen)) { seen[$2] = ++n; name[n] = $2 }
			    d[$2] = d[$2] $3 " " $4 "\n" }
		END {
			color["NOWAIT"] = "#2ca02c"; color["NOFAULT"] = "#17becf"
			color["WAIT"] = "#7f7f7f"; color["mincore"] = "#1f77b4"
			color["pagemap"] = "#ff7f0e"; color["PM_SCAN"] = "#9467bd"
			color["gup_test"] = "#8c564b"
			extra[1] = "#d62728"; extra[2] = "#e377c2"; extra[3] = "#bcbd22"
			for (i = 1; i <= n; i++)
				printf "$w%d << EOD\n%sEOD\n", i, d[name[i]]
			printf "plot"
			for (i = 1; i <= n; i++) {
				c = (name[i] in color) ? color[name[i]] : extra[(i % 3) + 1]
				# the gupnw walks stand out
				lw = (name[i] ~ /^NO(WAIT|FAULT)$|^WAIT$/) ? 2.5 : 1.5
				printf "%s $w%d using 1:2 with linespoints lw %s pt 7 ps 0.6 lc rgb \"%s\" title \"%s\"", \
					(i > 1 ? ", \\\n    " : " "), i, lw, c, name[i]
			}
			printf "\n"
		}' "$f"
	} | gnuplot
	echo "$svg"
}

# cdf-SERVER-LINE.svg for each server of the cdf lines of $1, for line $2.  The y axis
# is a "nines" scale, -log10(1 - p): 90% at 1, 99% at 2, 99.9% at 3, 99.99% at 4, and
# the maximum (p = 100) drawn at 5.
plot_cdfs() {
	local f=$1 line=$2 server svg
	if ! grep -q '^cdf ' "$f"; then
		echo "plot: $f has no cdf lines: no cdf-*-$line.svg" >&2
		return 0
	fi
	while read -r server; do
		case $server in *[!A-Za-z0-9_-]*) echo "plot: $f: odd server name '$server', skipped" >&2; continue ;; esac
		svg=$out_dir/cdf-$server-$line.svg
		{
			printf '%s\n' "$common"
			echo "set output '$svg'"
			echo "set title '$server server, Linux $line (QEMU TCG): hot-request latency CDF' noenhanced"
			cat <<'EOF'
set logscale x 10
set format x "%g"
set xlabel "hot-request latency, ms from its scheduled send time (log scale)"
set ylabel "share of hot requests answered within x"
set ytics ("0%%" 0, "50%%" 0.30103, "90%%" 1, "99%%" 2, "99.9%%" 3, "99.99%%" 4, "max" 5)
set yrange [0:5.3]
set mytics 1
EOF
			awk -v server="$server" '
			$1 == "cdf" && $2 == server {
				row = $3
				if (!(row in seen)) { seen[row] = ++n; name[n] = row }
				d[row] = ""
				for (i = 4; i <= NF; i++) {
					split($i, v, "@")
					ms = v[1] + 0; p = v[2] + 0
					# a row without requests prints NaN: no point
					if (v[1] !~ /^[0-9]+([.][0-9]*)?$/ || ms <= 0 || v[2] == "") continue
					y = p >= 100 ? 5 : -log(1 - p / 100) / log(10)
					d[row] = d[row] sprintf("%s %.6f\n", v[1], y)
				}
			}
			END {
				# colour by what the row does (the slug before "-"), dashes by its
				# load: no cold traffic dashed, cold solid, other loads dash-dotted
				pal[1] = "#d62728"; pal[2] = "#1f77b4"; pal[3] = "#2ca02c"
				pal[4] = "#ff7f0e"; pal[5] = "#9467bd"; pal[6] = "#8c564b"
				fixed["plain"] = pal[1]; fixed["blocking"] = pal[2]
				fixed["pread"] = pal[4]; fixed["gupnw"] = pal[3]
				for (i = 1; i <= n; i++) {
					printf "$r%d << EOD\n%sEOD\n", i, d[name[i]]
				}
				for (i = 1; i <= n && d[name[i]] == ""; i++) ;
				if (i > n)	# no row answered a hot request: say so
					printf "set label \"no hot requests answered\" at graph 0.5, graph 0.5 center\nset xrange [1:10]\nplot NaN notitle\n"
				else
					printf "plot"
				sep = " "
				for (i = 1; i <= n; i++) {
					if (d[name[i]] == "") continue	# a row without requests
					how = name[i]; sub(/-.*/, "", how)
					load = name[i]; if (!sub(/^[^-]*-/, "", load)) load = ""
					if (!(how in fixed)) fixed[how] = pal[5 + (k++ % 2)]
					dt = load == "" ? 2 : load == "cold" ? 1 : 4
					lw = load == "" ? 1.5 : 2.5
					printf "%s$r%d using 1:2 with lines lw %s dt %d lc rgb \"%s\" title \"%s\"", \
						sep, i, lw, dt, fixed[how], name[i]
					sep = ", \\\n    "
				}
				printf "\n"
			}' "$f"
		} | gnuplot
		echo "$svg"
	done < <(awk '/^cdf / && !s[$2]++ { print $2 }' "$f")
}

for line in "$@"; do
	f=$build/bench/$line.txt
	rm -f "$out_dir/sweep-$line.svg" "$out_dir"/cdf-*-"$line".svg
	if [ ! -s "$f" ]; then
		echo "plot: no $f: no pictures for $line" >&2
		continue
	fi
	plot_sweep "$f" "$line"
	plot_cdfs "$f" "$line"
done
