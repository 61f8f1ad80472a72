#!/usr/bin/env bash
# Berth demo lab: berthd and real DHCP clients in network namespaces.
#
#   contrib/demo/lab.sh [--log | --no-follow]     (as root; else it asks sudo)
#
# Builds berthd if needed, creates a server namespace (bridge br0,
# 192.0.2.1/24) and client namespaces bridged to it, and starts:
#   squatter a namespace holding pool address 192.0.2.103 by hand, before
#            berthd starts: its first ARP sweep finds it (Pools view)
#   webhook  a receiver on the server namespace's loopback that keeps each
#            arrival berthd POSTs
#   berthd   with contrib/demo/berth.toml: a registration range for unknown
#            clients (1 minute leases), a phone range and class, and a hook
#            script that logs each commit
#   printer  ISC dhclient with the MAC of the known host "printer"
#   guest    ISC dhclient with a random MAC (registration range)
#   phone    busybox udhcpc sending vendor class snom370: its own range,
#            TFTP server and boot file from the "snom" class
# prints what each got, the hook's log and the arrivals the receiver got,
# then opens berth's TUI on this berthd (q quits and removes the lab).
# --log: follow berthd's log, the hook's and the receiver's instead of the
#        TUI, until Ctrl-C (also the fallback when there is no terminal or
#        no berth binary).
# --no-follow: print what the clients got and exit.
#
# Nothing is created outside the namespaces (all named bd<pid>...), only
# documentation addresses are used, and everything is removed on exit,
# Ctrl-C or error. Only the processes this script started are ended, by PID.
#
# Environment: BERTHD_BIN (default target/debug/berthd), BERTH_BIN (the TUI),
# WEBHOOK_SINK_BIN (the receiver, default target/debug/webhook-sink).

set -euo pipefail

FOLLOW=1
MODE=tui
for arg in "$@"; do
	case "$arg" in
	--no-follow) FOLLOW=0 ;;
	--log) MODE=log ;;
	-h | --help)
		sed -n '2,32p' "$0"
		exit 0
		;;
	*)
		echo "lab.sh: unknown argument $arg" >&2
		exit 2
		;;
	esac
done

if [[ $EUID -ne 0 ]]; then
	# Network namespaces need root: use sudo where there is one; in a root
	# shell (a container, a VM) the script just runs.
	if command -v sudo >/dev/null; then
		exec sudo -- "$0" "$@"
	fi
	echo "lab.sh: run as root (it creates network namespaces); there is no sudo here" >&2
	exit 1
fi
export PATH="$PATH:/usr/sbin:/sbin"
missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v dhclient >/dev/null || missing+=(isc-dhcp-client)
command -v udhcpc >/dev/null || missing+=(udhcpc)
if ((${#missing[@]})); then
	echo "lab.sh: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONFIG_SRC="$ROOT/contrib/demo/berth.toml"
BERTHD=${BERTHD_BIN:-$ROOT/target/debug/berthd}
BERTH=${BERTH_BIN:-$ROOT/target/debug/berth}
SINK=${WEBHOOK_SINK_BIN:-$ROOT/target/debug/webhook-sink}
if [[ ! -x $BERTHD || ! -x $BERTH || ! -x $SINK ]]; then
	echo "lab.sh: building berthd and berth (cargo build --workspace --bins)..."
	if command -v cargo >/dev/null; then
		(cd "$ROOT" && cargo build --workspace --bins)
	elif [[ -n ${SUDO_USER:-} ]]; then
		# Under sudo, root's PATH usually lacks the user's rustup toolchain.
		runuser -u "$SUDO_USER" -- bash -lc "cd '$ROOT' && cargo build --workspace --bins"
	else
		echo "lab.sh: cargo not found: install Rust (rustup) or set BERTHD_BIN and BERTH_BIN" >&2
		exit 1
	fi
fi

TAG="bd$$"
SRV="${TAG}s"
WORK=$(mktemp -d /tmp/berth-demo.XXXXXX)
NAMESPACES=()
PIDS=()

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 30); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$WORK"
	echo "lab.sh: cleaned up (namespaces ${NAMESPACES[*]:-none})"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- namespaces -------------------------------------------------------------
ip netns add "$SRV"
NAMESPACES+=("$SRV")
ip -n "$SRV" link set lo up
ip -n "$SRV" link add br0 type bridge forward_delay 0 stp_state 0
ip -n "$SRV" link set br0 up
ip -n "$SRV" addr add 192.0.2.1/24 dev br0

# add_client NAME MAC: namespace ${TAG}NAME with eth0 bridged to br0.
K=0
add_client() {
	local name=$1 mac=$2 ns="${TAG}$1"
	K=$((K + 1))
	ip netns add "$ns"
	NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up
	ip -n "$SRV" link add "p$K" type veth peer name eth0 netns "$ns"
	ip -n "$SRV" link set "p$K" master br0
	ip -n "$SRV" link set "p$K" up
	ip -n "$ns" link set eth0 address "$mac"
	ip -n "$ns" link set eth0 up
}

random_mac() {
	printf '02:%02x:%02x:%02x:%02x:%02x\n' $((RANDOM % 256)) $((RANDOM % 256)) \
		$((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256))
}

# --- squatter ---------------------------------------------------------------------
# Holds a pool address by hand, without DHCP: berthd's start-up sweep hears
# it answer ARP, and the TUI's Pools view (4) shows it as a squatter.
SQUATTED=192.0.2.103
add_client squatter "$(random_mac)"
ip -n "${TAG}squatter" addr add "$SQUATTED/24" dev eth0

# --- hook and webhook receiver --------------------------------------------------
# berthd runs hooks as `nobody`: the hook may pass through $WORK and write
# to its own directory, nothing else of the lab.
chmod 0711 "$WORK"
mkdir -m 1777 "$WORK/hooks"
COMMITS="$WORK/hooks/commits.log"
cat >"$WORK/commit-hook.sh" <<EOF
#!/bin/sh
# berthd runs this for each commit: EVENT IP MAC HOSTNAME.
echo "\$(date +%H:%M:%S) \$*" >> "$COMMITS"
EOF
chmod 0755 "$WORK/commit-hook.sh"
ARRIVALS="$WORK/arrivals.jsonl"
ip netns exec "$SRV" "$SINK" --listen 127.0.0.1:8787 --out "$ARRIVALS" >"$WORK/webhook.log" 2>&1 &
PIDS+=("$!")

# --- berthd -------------------------------------------------------------------
CONTROL_SOCKET="$WORK/control.sock"
sed -e "s|^store = .*|store = \"$WORK/leases.db\"|" \
	-e "s|^control_socket = .*|control_socket = \"$CONTROL_SOCKET\"|" \
	-e "s|^run = .*|run = \"$WORK/commit-hook.sh\"|" \
	"$CONFIG_SRC" >"$WORK/berth.toml"
# The lab lives in a root-only temporary directory, so berthd stays root
# here; a real deployment runs as user berth (see the README).
echo "lab.sh: berthd --config $WORK/berth.toml --user root (in netns $SRV)"
ip netns exec "$SRV" env NO_COLOR=1 "$BERTHD" --config "$WORK/berth.toml" --user root >"$WORK/berthd.log" 2>&1 &
BERTHD_PID=$!
PIDS+=("$BERTHD_PID")
ready=0
for _ in $(seq 200); do # at most 20 s
	if grep -qiE 'listening|serving' "$WORK/berthd.log"; then
		ready=1
		break
	fi
	kill -0 "$BERTHD_PID" 2>/dev/null || break
	sleep 0.1
done
if [[ $ready -ne 1 ]]; then
	echo "lab.sh: berthd did not become ready; its log:" >&2
	cat "$WORK/berthd.log" >&2
	exit 1
fi
echo "lab.sh: berthd is serving (pid $BERTHD_PID)"

# --- clients --------------------------------------------------------------------
# A client script: put the address on eth0 (inside the namespace), record the env.
client_script() {
	local name=$1
	cat >"$WORK/$name.script" <<EOF
#!/bin/sh
PATH=/usr/sbin:/sbin:/usr/bin:/bin
r=\${reason:-\$1}
case "\$r" in
  BOUND|RENEW|REBIND|REBOOT) ip addr replace "\$new_ip_address/\${new_subnet_mask:-255.255.255.0}" dev "\$interface" ;;
  bound|renew) ip -4 addr flush dev "\$interface"; ip addr add "\$ip/\${subnet:-255.255.255.0}" dev "\$interface" ;;
  deconfig|EXPIRE|FAIL|RELEASE|STOP) ip -4 addr flush dev "\$interface" ;;
esac
{ echo "=== \$r"; env; echo "=== end"; } >> "$WORK/$name.env"
exit 0
EOF
	chmod +x "$WORK/$name.script"
}

start_dhclient() {
	local name=$1 ns="${TAG}$1"
	client_script "$name"
	printf 'send host-name "%s";\ninitial-interval 1;\nbackoff-cutoff 2;\n' "$name" >"$WORK/$name.conf"
	ip netns exec "$ns" dhclient -4 -d -v -cf "$WORK/$name.conf" -sf "$WORK/$name.script" \
		-lf "$WORK/$name.leases" -pf "$WORK/$name.pid" eth0 >"$WORK/$name.log" 2>&1 &
	PIDS+=("$!")
}

# start_udhcpc NAME [ARGS...]: extra ARGS go to udhcpc.
start_udhcpc() {
	local name=$1 ns="${TAG}$1"
	shift
	client_script "$name"
	ip netns exec "$ns" env -i PATH=/usr/sbin:/sbin:/usr/bin:/bin udhcpc -f -i eth0 -x "hostname:$name" -s "$WORK/$name.script" \
		-p "$WORK/$name.pid" -t 5 -T 2 -A 2 "$@" >"$WORK/$name.log" 2>&1 &
	PIDS+=("$!")
}

PRINTER_MAC=02:42:00:00:00:10
add_client printer "$PRINTER_MAC"
add_client guest "$(random_mac)"
add_client phone "$(random_mac)"
start_dhclient printer
start_dhclient guest
# A snom phone: vendor class snom370, asking for TFTP server (66) and boot file (67).
start_udhcpc phone -V snom370 -O 66 -O 67

# last_lease NAME: the last complete lease record (BOUND, RENEW, ...) of NAME.
last_lease() {
	awk '/^=== (BOUND|REBOOT|RENEW|REBIND|bound|renew)$/ { inrec = 1; buf = ""; next }
	     /^=== end$/ { if (inrec) last = buf; inrec = 0; next }
	     /^=== / { inrec = 0; next }
	     inrec { buf = buf $0 "\n" }
	     END { printf "%s", last }' "$WORK/$1.env" 2>/dev/null
}

# show NAME: wait (at most 20 s) for a lease record and print it.
show() {
	local name=$1 mac rec=""
	mac=$(ip -n "${TAG}$name" link show eth0 | awk '/link\/ether/ {print $2}')
	for _ in $(seq 200); do
		rec=$(last_lease "$name")
		[[ -n $rec ]] && break
		sleep 0.1
	done
	if [[ -z $rec ]]; then
		printf '  %-8s %s  NO LEASE (log: %s)\n' "$name" "$mac" "$WORK/$name.log"
		return
	fi
	get() { printf '%s\n' "$rec" | sed -n "s/^$1=//p" | head -1; }
	local ip mask router dns domain lease tftp boot
	ip=$(get new_ip_address)
	ip=${ip:-$(get ip)}
	mask=$(get new_subnet_mask)
	mask=${mask:-$(get subnet)}
	router=$(get new_routers)
	router=${router:-$(get router)}
	dns=$(get new_domain_name_servers)
	dns=${dns:-$(get dns)}
	domain=$(get new_domain_name)
	domain=${domain:-$(get domain)}
	lease=$(get new_dhcp_lease_time)
	lease=${lease:-$(get lease)}
	tftp=$(get tftp)
	boot=$(get bootfile)
	printf '  %-8s %s  %s/%s  router %s  dns %s  domain %s  lease %ss%s\n' \
		"$name" "$mac" "$ip" "$mask" "$router" "$dns" "$domain" "$lease" \
		"${tftp:+  tftp $tftp  boot file $boot}"
}

echo "lab.sh: what the clients got:"
show printer
show guest
show phone
echo "lab.sh: squatter $(ip -n "${TAG}squatter" link show eth0 | awk '/link\/ether/ {print $2}') holds $SQUATTED by hand (Pools view, 4)"
sleep 1
echo "lab.sh: the commit hook logged ($COMMITS):"
sed 's/^/  /' "$COMMITS" 2>/dev/null || echo "  (nothing yet)"
echo "lab.sh: the webhook receiver got these arrivals ($ARRIVALS):"
# field NAME JSON: a string field of one JSON line, `-` when null or absent.
field() {
	local v
	v=$(grep -oE "\"$1\": *(\"[^\"]*\"|null)" <<<"$2" | head -1 | sed -E 's/^"[^"]*": *//; s/"//g')
	[[ -z $v || $v == null ]] && v=-
	printf '%s' "$v"
}
if [[ -s $ARRIVALS ]]; then
	while IFS= read -r line; do
		printf '  arrival %s  host %s  vendor %s  at %s\n' "$(field mac "$line")" \
			"$(field hostname "$line")" "$(field vendor_class "$line")" "$(field time "$line")"
	done <"$ARRIVALS"
else
	echo "  (none yet)"
fi

if [[ $FOLLOW -eq 0 ]]; then
	exit 0
fi

# >>> TUI: on a terminal, open berth's TUI on this berthd (it runs in the root
# >>> namespace: a Unix socket is a file, not bound to a network namespace);
# >>> quitting it (q) stops the lab. --log, or no terminal: follow the log.
if [[ $MODE == tui && -t 0 && -t 1 && -x $BERTH ]]; then
	echo "lab.sh: opening the TUI (q quits and removes the lab; berthd's log: $WORK/berthd.log)"
	sleep 1
	"$BERTH" --socket "$CONTROL_SOCKET" || echo "lab.sh: the TUI exited with status $?"
	exit 0
fi
echo "lab.sh: following berthd's log, the hook's and the webhook's; Ctrl-C stops the lab and removes everything"
touch "$COMMITS" "$ARRIVALS"
tail -n +1 -f "$WORK/berthd.log" "$COMMITS" "$ARRIVALS" &
PIDS+=("$!")
wait "$!" || true
# <<< TUI
