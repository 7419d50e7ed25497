-- The testbed attacks its own peer: a small swarm, and one attacker of each
-- kind against its own victim, from t = 10 s to the end. Each victim should
-- keep playing as its bystanders do; the late peer joins while the
-- rendezvous point is flooded and should still be bootstrapped. Kinds:
-- `anysee attack --help`. `--set duration=40` shortens it, `--set pps=N`
-- changes every attacker's rate.
network {
  backend = "auto",
  access = { up = "10mbit", down = "10mbit", delay = "10ms" },
}

local pps = param("pps", 200)
local start = param("attack_at", 10)
local rp = rendezvous { name = "rp" }
source { name = "src", stream = "tv1", rate = "300kbit" }
for i = 1, 3 do
  peer { name = "bystander" .. i, watch = "tv1", at = i }
end

local kinds = { "forge-segment", "forge-leave", "hijack", "bad-buffermap", "probe-ttl",
                "probe-flood", "detector-spoof", "reflect", "amplify", "hash-flood" }
for i, kind in ipairs(kinds) do
  -- The bad-buffermap victim joins under attack: forged maps reach it
  -- in its first seconds.
  -- The forge-segment victim serves what it plays at /stream (port
  -- 8080 in its namespace), for a test to check against the source.
  -- The hash-flood victim takes more partners than a peer's default, so
  -- its attacker finds a slot whatever the swarm took.
  local args = nil
  if kind == "forge-segment" then args = { http = "8080" } end
  if kind == "hash-flood" then args = { ["max-partners"] = "16" } end
  local victim = peer { name = "v-" .. kind, watch = "tv1",
                        at = kind == "bad-buffermap" and start + 2 or 3 + i * 0.5,
                        args = args }
  -- The floods at five times the rate: what the swarm sends on, or the
  -- victim sends back, is bounded by the peers' budgets, whatever the
  -- attacker sends.
  local flood = kind == "probe-flood" or kind == "hash-flood"
  attacker { name = "a-" .. kind, kind = kind, target = victim, at = start,
             pps = flood and 5 * pps or pps }
end
attacker { name = "a-rp-flood", kind = "rp-flood", target = rp, at = start,
           pps = 10 * pps, watch = "tv1" }
peer { name = "late", watch = "tv1", at = start + 10 }

-- --set capture=1 records the run (every message by type in the report).
run { duration = param("duration", 45), capture = param("capture", 0) == 1 }
