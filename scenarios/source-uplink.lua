-- A source whose uplink carries N = 3 Mbit/s / 300 kbit/s = 10 streams,
-- and 20 peers: its partners and push children together stay within 10
-- (partner_add/partner_del np= and child_add/child_del children= in the
-- source's events.log).
--   anysee-harness run scenarios/source-uplink.lua --set mode=coolstreaming
local mode = param("mode", "anysee")
network {
  topology = waxman { routers = 200, degree = 3 },
  attach = "stub",
  access = { up = "10mbit", down = "10mbit", delay = "2ms" },
}
rendezvous { name = "rp" }
source { name = "src", stream = "tv1", rate = "300kbit", access = { up = "3mbit" } }
for i = 1, 20 do peer { name = "p" .. i, watch = "tv1", at = i * 0.3, mode = mode } end
run { duration = param("duration", 40) }
