-- The two LTM cut rules side by side (peer/mesh.h): 20 anysee peers on a
-- generated topology, as tests/integration/mesh.sh runs them.
--   anysee-harness run scenarios/ltm-rules.lua --seed 3                  # slowest link (default)
--   anysee-harness run scenarios/ltm-rules.lua --seed 3 --set rule=path  # the paper's rule
-- Neighbour delay over time: the `mesh` lines of the peers' events.log;
-- rewirings: their `ltm_cut` and `ltm_replace` events.
local rule = param("rule", "slowest")
network {
  topology = waxman { routers = 1000, degree = 3 },
  attach = "stub",
  access = { up = "10mbit", down = "10mbit", delay = "1ms" },
}
rendezvous { name = "rp" }
source { name = "src", stream = "tv1", args = { ["ltm-rule"] = rule } }
for i = 1, 20 do
  peer { name = "p" .. i, watch = "tv1", at = i * 0.2, args = { ["ltm-rule"] = rule } }
end
run { duration = param("duration", 90) }
