-- The two LTM cut rules side by side (peer/mesh.h): 20 anysee peers on a
-- generated topology, or on two regions (regions.matrix, as
-- tests/integration/mesh.sh runs them) with --set topology=regions.
--   anysee-harness run scenarios/ltm-rules.lua --seed 3                  # slowest link (default)
--   anysee-harness run scenarios/ltm-rules.lua --seed 3 --set rule=path  # the paper's rule
-- Neighbour delay over time: the `mesh` lines of the peers' events.log;
-- rewirings: their `ltm_cut` and `ltm_replace` events.
local rule = param("rule", "slowest")
local topology = param("topology", "waxman")
assert(topology == "waxman" or topology == "regions",
       "topology: expected waxman or regions, got " .. tostring(topology))
network {
  topology = topology == "regions" and matrix { file = "regions.matrix" }
             or waxman { routers = 1000, degree = 3 },
  attach = "stub",
  access = { up = "10mbit", down = "10mbit", delay = "1ms" },
}
rendezvous { name = "rp" }
source { name = "src", stream = "tv1", args = { ["ltm-rule"] = rule } }
for i = 1, 20 do
  peer { name = "p" .. i, watch = "tv1", at = i * 0.2, args = { ["ltm-rule"] = rule } }
end
run { duration = param("duration", 90) }
