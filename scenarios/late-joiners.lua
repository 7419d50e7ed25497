-- Early and late joiners: 5 peers join a fresh stream, 3 more once it has
-- run 80 s (a late joiner finds partners holding a long past).
--   anysee-harness run scenarios/late-joiners.lua --set mode=coolstreaming
local mode = param("mode", "anysee")
network {
  access = { up = "10mbit", down = "10mbit", delay = "10ms" },
}
rendezvous { name = "rp" }
source { name = "src", stream = "tv1", rate = "300kbit" }
for i = 1, 5 do peer { name = "early" .. i, watch = "tv1", at = i, mode = mode } end
for i = 1, 3 do peer { name = "late" .. i, watch = "tv1", at = 80 + i, mode = mode } end
run { duration = param("duration", 110) }
