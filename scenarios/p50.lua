-- Fifty peers joining one 300 kbit/s stream on a generated 1000-router
-- Waxman topology, one every 0.2 s: the mid-size run the README quotes and
-- the structure comparisons use.
--
--   anysee-harness run scenarios/p50.lua --seed 1
--   anysee-harness run scenarios/p50.lua --seed 1 --set mode=coolstreaming
network {
  topology = waxman { routers = 1000, degree = 4 },
  access = { up = "10mbit", down = "10mbit", delay = "2ms" },
}
rendezvous { name = "rp" }
source { name = "src", stream = "tv1", rate = "300kbit" }
for i = 1, 50 do
  peer { name = "p" .. i, watch = "tv1", at = i * 0.2, mode = param("mode", "anysee") }
end
run { duration = param("duration", 120) }
