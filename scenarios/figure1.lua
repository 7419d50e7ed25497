-- The paper's figure 1 in miniature: two overlays, tv1 from s1 and tv2 from
-- s2. Peer d watches tv1, but its own link to s1 is slow; s2 (which serves
-- the other overlay and does not watch tv1) sits close to both. Intra-overlay
-- optimization alone leaves d on the slow direct path; AnySee's reverse
-- tracing finds s1 -> s2 -> d and s2 relays tv1 for it.
--
--   anysee-harness run scenarios/figure1.lua                       # d near 40 ms
--   anysee-harness run scenarios/figure1.lua --set mode=coolstreaming   # d near 150 ms+
local mode = param("mode", "anysee")
-- "" keeps the mode's start rule; a test about paths sets a short one.
local startup = param("startup", "")
if startup == "" then startup = nil end
network {
  topology = matrix { file = "figure1.matrix" }, -- beside this file
  access = { up = "10mbit", down = "10mbit" },
}
rendezvous { name = "rp" }
source { name = "s1", stream = "tv1" }
source { name = "s2", stream = "tv2" }
peer { name = "d", watch = "tv1", at = 1, mode = mode, startup = startup }
peer { name = "e", watch = "tv2", at = 1, mode = mode, startup = startup }
run { duration = param("duration", 40) }
