#!/usr/bin/env bash
# What SQLite alone costs per event: a store's event_rows (bodies already compressed, string ids
# already assigned) copied into a new table with only the named indexes (schema 4's), 5,000 rows
# per transaction, in WAL with synchronous=NORMAL and a 32 MiB cache, as the writer commits
# them (image_first and user_first: schema 5's, which skip the rows marked as their block's
# repeats). Prints the sqlite3 shell's CPU time and events per CPU second. No zstd, no strings,
# no formatting: the bound an insert rate with these indexes cannot pass.
#   bench/store_scale/insert_bound.sh SOURCE.db PAGE_SIZE LABEL [INDEX...]
#   INDEX: time first_id process_uid pid parent_uid parent_uid_all image argv user image_first user_first
#   LABEL read: only reads the rows (the copy's own cost)
set -euo pipefail
src=$1 page_size=$2 label=$3
shift 3
work=$(mktemp -d "${TMPDIR:-/var/tmp}/insert_bound.XXXXXX")
trap 'rm -rf "$work"' EXIT
declare -A index=(
  [time]="CREATE INDEX event_rows_time ON event_rows(time_ns);"
  [first_id]="CREATE INDEX event_rows_first_id ON event_rows(first_id);"
  [process_uid]="CREATE INDEX event_rows_process_uid ON event_rows(id >> 16, process_uid) WHERE first_id = id AND process_uid IS NOT NULL;"
  [pid]="CREATE INDEX event_rows_pid ON event_rows(id >> 16, pid) WHERE first_id = id AND pid IS NOT NULL;"
  [parent_uid]="CREATE INDEX event_rows_parent_uid ON event_rows(id >> 16, parent_uid) WHERE parent_uid IS NOT NULL AND parent_inherited IS NULL;"
  [parent_uid_all]="CREATE INDEX event_rows_parent_uid ON event_rows(id >> 16, parent_uid) WHERE parent_uid IS NOT NULL;"
  [image]="CREATE INDEX event_rows_image ON event_rows(id >> 16, image_id) WHERE image_id IS NOT NULL;"
  [argv]="CREATE INDEX event_rows_argv ON event_rows(id >> 16, argv_id) WHERE argv_id IS NOT NULL;"
  [user]="CREATE INDEX event_rows_user ON event_rows(id >> 16, user_id) WHERE user_id IS NOT NULL;"
  [image_first]="CREATE INDEX event_rows_image ON event_rows(id >> 16, image_id) WHERE image_id IS NOT NULL AND image_repeat IS NULL;"
  [user_first]="CREATE INDEX event_rows_user ON event_rows(id >> 16, user_id) WHERE user_id IS NOT NULL AND user_repeat IS NULL;"
)
max=$(sqlite3 "$src" "SELECT max(id) FROM event_rows")
# A schema 3 source has no parent_inherited: its rows all count as indexed by parent_uid. One
# before schema 5 has no image_repeat and user_repeat: all its rows are indexed by image_first
# and user_first.
inherited=$(sqlite3 "$src" "SELECT count(*) FROM pragma_table_info('event_rows') WHERE name = 'parent_inherited'")
repeats=$(sqlite3 "$src" "SELECT count(*) FROM pragma_table_info('event_rows') WHERE name = 'image_repeat'")
columns="id, time_ns, kind, pid, ppid, uid, user_id, process_uid, parent_uid, first_id, image_id, argv_id,
  parent_image_id, hash_id, error, dict_id, body"
if [ "$repeats" = 1 ]; then columns="$columns, image_repeat, user_repeat"; fi
{
  echo "PRAGMA page_size=$page_size; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;"
  echo "ATTACH '$src' AS src;"
  echo "CREATE TABLE event_rows (id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, kind INTEGER NOT NULL, pid INTEGER,
    ppid INTEGER, uid INTEGER, user_id INTEGER, process_uid TEXT, parent_uid TEXT, first_id INTEGER NOT NULL,
    image_id INTEGER, argv_id INTEGER, parent_image_id INTEGER, hash_id INTEGER, error INTEGER,
    dict_id INTEGER NOT NULL, body BLOB NOT NULL, parent_inherited INTEGER, image_repeat INTEGER,
    user_repeat INTEGER);"
  for name in "$@"; do echo "${index[$name]}"; done
  for ((first = 1; first <= max; first += 5000)); do
    range="id BETWEEN $first AND $((first + 4999))"
    if [ "$label" = read ]; then
      echo "SELECT count(*), sum(length(body)) FROM src.event_rows WHERE $range;"
    elif [ "$inherited" = 1 ]; then
      echo "BEGIN IMMEDIATE; INSERT INTO main.event_rows ($columns, parent_inherited)
        SELECT $columns, parent_inherited FROM src.event_rows WHERE $range; COMMIT;"
    else
      echo "BEGIN IMMEDIATE; INSERT INTO main.event_rows ($columns) SELECT $columns FROM src.event_rows WHERE $range; COMMIT;"
    fi
  done
} > "$work/bound.sql"
/usr/bin/time -f "%U %S %e" -o "$work/time" sqlite3 "$work/bound.db" < "$work/bound.sql" > /dev/null
read -r user sys wall < "$work/time"
echo "$label page_size=$page_size [$*]: ${user} s user, ${sys} s sys, ${wall} s wall:" \
  "$(awk -v n="$max" -v c="$(echo "$user + $sys" | bc)" 'BEGIN { printf "%.0f", n / c }') events per CPU second"
