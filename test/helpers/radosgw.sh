#!/usr/bin/env bash
# radosgw.sh DIR PORT ACCESS_KEY SECRET_KEY [memstore|bluestore]
# A throwaway single-node Ceph for tests and the benchmark: one monitor, one OSD (memstore: objects in memory; or
# bluestore on a sparse file), no manager, no cephx, and Ceph's S3 gateway radosgw on 127.0.0.1:PORT with one user.
# Everything (config, data, logs, pid files, sockets) lives in DIR; the monitor listens on PORT+1 and the OSD on a
# port in PORT+2..PORT+40. Exits 0 once S3 answers; the daemons run on in the background, their pids in
# DIR/*.bgpid (test/helpers/s3.ts kills them and removes DIR). Debian 12: packages radosgw, ceph-mon, ceph-osd.
set -euo pipefail
DIR=${1:?usage: radosgw.sh DIR PORT ACCESS_KEY SECRET_KEY [memstore|bluestore]}
PORT=${2:?port}
AK=${3:?access key}
SK=${4:?secret key}
STORE=${5:-memstore}
MON_PORT=$((PORT + 1))
mkdir -p "$DIR/mon" "$DIR/osd" "$DIR/rgw"
DIR=$(cd "$DIR" && pwd)
CONF="$DIR/ceph.conf"
FSID=$(cat /proc/sys/kernel/random/uuid)
export CEPH_CONF="$CONF"

if [ "$STORE" = bluestore ]; then
  STORE_CONF="osd objectstore = bluestore
bluestore block create = true
bluestore block size = 107374182400
bluestore fsck on mount = false
bluestore fsck on mkfs = false
osd memory target = 1073741824"
else
  STORE_CONF="osd objectstore = memstore
memstore device bytes = 17179869184"
fi

cat > "$CONF" <<CONF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_PORT]
mon initial members = a
public network = 127.0.0.0/8
ms bind msgr1 = false
ms bind port min = $((PORT + 2))
ms bind port max = $((PORT + 40))
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
keyring = /dev/null
run dir = $DIR
admin socket = $DIR/\$name.asok
log file = $DIR/\$name.log
pid file = $DIR/\$name.pid
crash dir = $DIR/crash
log to stderr = false
err to stderr = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
# radosgw creates its pools one monitor proposal at a time, batched every second by default: 11 s instead of 1
paxos propose interval = 0.01
paxos min wait = 0.001
[mon]
mon data = $DIR/mon
[osd]
osd data = $DIR/osd
$STORE_CONF
osd crush update on start = true
[client]
# radosgw's built-in defaults ask for cephx and secure monitor sessions: undone for this cephx-less cluster
auth client required = none
ms mon client mode = crc
ms client mode = crc
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $DIR/rgw
rgw dns name =
rgw enable usage log = false
debug rgw = 1
debug ms = 0
CONF

alive() { kill -0 "$(cat "$1")" 2>/dev/null; }

monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" --keyring /dev/null
ceph-mon -c "$CONF" -i a -f >>"$DIR/mon.out" 2>&1 &
echo $! >"$DIR/mon.bgpid"

OSD_ID=$(timeout 60 ceph -c "$CONF" --connect-timeout 30 osd create)
ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs >>"$DIR/osd.out" 2>&1
ceph-osd -c "$CONF" -i "$OSD_ID" -f >>"$DIR/osd.out" 2>&1 &
echo $! >"$DIR/osd.bgpid"
# radosgw started before the OSD is up may sit on an old cluster map for seconds
for _ in $(seq 1 1200); do
  grep -q "state: booting -> active" "$DIR/osd.$OSD_ID.log" 2>/dev/null && break
  alive "$DIR/osd.bgpid" || { echo "ceph-osd exited: see $DIR/osd.$OSD_ID.log" >&2; exit 1; }
  sleep 0.05
done

radosgw -c "$CONF" -n client.rgw -f >>"$DIR/rgw.out" 2>&1 &
echo $! >"$DIR/rgw.bgpid"
for _ in $(seq 1 600); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  alive "$DIR/rgw.bgpid" || { echo "radosgw exited: see $DIR/client.rgw.log" >&2; exit 1; }
  sleep 0.1
done
radosgw-admin -c "$CONF" -n client.admin user create --uid test --display-name test \
  --access-key "$AK" --secret-key "$SK" >"$DIR/user.json" 2>>"$DIR/radosgw-admin.err"
