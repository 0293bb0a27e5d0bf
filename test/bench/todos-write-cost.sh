#!/usr/bin/env bash
# What sweep's additions to todos cost the todo service's writes (docs/deployment.md,
# "What sweep adds to todos"): three databases with the same todo service's table and
# rows: one left as it is, one after `sweep migrate`, and one after it with sweep's four
# indexes dropped again (its columns and triggers only); pgbench then inserts todos,
# moves due dates and renames todos in each, alternately, ROUNDS times, and prints the medians.
# Then, what does not depend on how loaded the machine is: each write done to 10,000 todos
# in one statement under EXPLAIN (ANALYZE, WAL), rolled back, per database: the WAL it
# writes (its index entries and row versions) and its time (median of 3). ROUNDS=0 skips
# the pgbench part.
#
#   test/bench/todos-write-cost.sh [admin URL] [rows] [seconds per run] [rounds] [clients]
set -euo pipefail
cd "$(dirname "$0")/../.."
ADMIN="${1:-postgres://postgres@127.0.0.1:5432/postgres}"
ROWS="${2:-200000}"
SECONDS_PER_RUN="${3:-10}"
ROUNDS="${4:-3}"
CLIENTS="${5:-4}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"; for db in plain swept triggers; do psql -q "$ADMIN" -c "drop database if exists todos_cost_$db with (force)" >/dev/null; done' EXIT

url() { local u="${ADMIN%/*}"; echo "$u/todos_cost_$1"; }

for db in plain swept triggers; do
  psql -q "$ADMIN" -c "drop database if exists todos_cost_$db with (force)" -c "create database todos_cost_$db" >/dev/null
  psql -q "$(url $db)" >/dev/null <<SQL
create table todos (id uuid primary key default gen_random_uuid(), workspace_id uuid not null, due_date date,
  title text not null default '', done boolean not null default false, created_at timestamptz not null default now());
insert into todos (workspace_id, due_date, title)
  select gen_random_uuid(), date '2020-01-01' + (i % 2000), 'todo ' || i from generate_series(1, $ROWS) i;
create table ids as select row_number() over () as n, id from todos;
create unique index on ids (n);
vacuum analyze;
SQL
done
for db in swept triggers; do
  DATABASE_URL="$(url $db)" LOG_LEVEL=warn npx tsx src/main.ts migrate
done
psql -q "$(url triggers)" -c 'drop index todos_due_date_id_idx, todos_workspace_id_due_date_idx, todos_changed_at_idx, todos_changed_xid_idx' >/dev/null
for db in swept triggers; do psql -q "$(url $db)" -c 'vacuum analyze' >/dev/null; done

cat > "$WORK/insert.sql" <<'SQL'
insert into todos (workspace_id, due_date, title) values (gen_random_uuid(), date '2026-01-01' + (random() * 400)::int, 'new');
SQL
cat > "$WORK/move.sql" <<SQL
\set n random(1, $ROWS)
update todos set due_date = due_date + 1 where id = (select id from ids where n = :n);
SQL
cat > "$WORK/rename.sql" <<SQL
\set n random(1, $ROWS)
update todos set title = 'renamed ' || :n where id = (select id from ids where n = :n);
SQL

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
declare -A RESULTS
for round in $(seq 1 "$ROUNDS"); do
  for kind in insert move rename; do
    for db in plain swept triggers; do
      tps="$(pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_PER_RUN" -f "$WORK/$kind.sql" "$(url $db)" 2>/dev/null \
        | awk '/^tps/ { print int($3) }')"
      RESULTS[$kind.$db]+="$tps "
      echo "round $round: $kind on $db: $tps/s" >&2
    done
  done
done

if [ "$ROUNDS" -gt 0 ]; then
echo "| write | without sweep's additions | with them | ratio | columns and triggers only | ratio |"
echo "| --- | --- | --- | --- | --- | --- |"
for kind in insert move rename; do
  plain="$(echo "${RESULTS[$kind.plain]}" | median)"
  swept="$(echo "${RESULTS[$kind.swept]}" | median)"
  triggers="$(echo "${RESULTS[$kind.triggers]}" | median)"
  echo "| $kind | $plain/s | $swept/s | $(awk -v a="$swept" -v b="$plain" 'BEGIN { printf "%.2f", a / b }') | $triggers/s | $(awk -v a="$triggers" -v b="$plain" 'BEGIN { printf "%.2f", a / b }') |"
done
fi

declare -A STATEMENTS=(
  [insert]="insert into todos (workspace_id, due_date, title) select gen_random_uuid(), date '2026-01-01' + i % 400, 'new' from generate_series(1, 10000) i"
  [move]="update todos set due_date = due_date + 1 where id in (select id from ids where n <= 10000)"
  [rename]="update todos set title = 'renamed' where id in (select id from ids where n <= 10000)"
)
echo
echo "| write, 10,000 todos in one statement | database | WAL | WAL records | time (median of 3) |"
echo "| --- | --- | --- | --- | --- |"
for kind in insert move rename; do
  for db in plain swept triggers; do
    times=""
    for _ in 1 2 3; do
      plan="$(psql -qAt "$(url $db)" -c "begin" -c "explain (analyze, wal, format json) ${STATEMENTS[$kind]}" -c "rollback")"
      times+="$(echo "$plan" | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{const p=JSON.parse(t.slice(t.indexOf("[")))[0];process.stdout.write(String(Math.round(p["Execution Time"])))})') "
      wal="$(echo "$plan" | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{const p=JSON.parse(t.slice(t.indexOf("[")))[0].Plan;process.stdout.write((p["WAL Bytes"]/1048576).toFixed(1)+" MB | "+p["WAL Records"])})')"
    done
    echo "| $kind | $db | $wal | $(echo "$times" | median) ms |"
  done
done
