#!/usr/bin/env bash
# The architecture rules, checked on the tree: what each folder may include,
# one error convention, and no function over 80 lines outside the two that
# are long by nature (the GML parser, the wire codec).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
bad=0
complain() { echo "structure: $*"; bad=1; }

# Layering: peer and netns include only themselves and lib; lib only
# itself; analysis also the peer's log and wire formats (and the synthetic
# media the wire carries, to check what a peer played); harness anything,
# but of the peer only its formats and its option table (it runs the peer
# binary and checks the options a scenario gives it).
check_includes() { # folder allowed-regex
  local hits
  hits=$(grep -Hn '^#include "' "$1"/*.c "$1"/*.h 2>/dev/null | grep -Ev "#include \"($2)\"")
  [ -z "$hits" ] || complain "$1/ includes outside its layer:"$'\n'"$hits"
}
check_includes lib 'lib/[a-z_]+\.h'
check_includes peer '(lib|peer)/[a-z_]+\.h'
check_includes netns '(lib|netns)/[a-z_]+\.h'
check_includes analysis '(lib|analysis)/[a-z_]+\.h|peer/(log|wire|media)\.h'
check_includes harness '(lib|harness|netns|analysis)/[a-z_]+\.h|peer/(log|wire|config)\.h'

# One error convention: err_set, not hand-formatted err buffers.
hits=$(grep -Hn 'snprintf(err, errlen' lib/*.c peer/*.c netns/*.c harness/*.c analysis/*.c | grep -v '^lib/util\.c:')
[ -z "$hits" ] || complain "format errors with err_set():"$'\n'"$hits"

# Function length: Linux brace style puts a function's braces in column 0.
long=$(awk '
  /^\{$/ { start = FNR; name = prev; next }
  /^\}/  { if (start && FNR - start - 1 > 80) printf "%s:%d: %s (%d lines)\n", FILENAME, start, name, FNR - start - 1; start = 0 }
  { prev = $0 }' lib/*.c peer/*.c netns/*.c harness/*.c analysis/*.c |
  grep -Ev '^netns/topology\.c:.*gml|^peer/wire\.c:')
[ -z "$long" ] || complain "functions over 80 lines:"$'\n'"$long"

[ "$bad" -eq 0 ] && echo "pass: layering, error convention and function length hold"
exit "$bad"
