-- Peers on the CERNET backbone, where AnySee was deployed: hosts attach to
-- the routers of the 2006 topology, link delays come from the distances
-- between cities. Two overlays; compare modes with --set mode=coolstreaming.
local mode = param("mode", "anysee")
network {
  topology = gml { file = "topologies/Cernet.gml" },
  access = { up = "2mbit", down = "10mbit", delay = "1ms" },
}
rendezvous { name = "rp" }
source { name = "cctv1", stream = "tv1", rate = "300kbit", access = { up = "10mbit" } }
source { name = "cctv2", stream = "tv2", rate = "300kbit", access = { up = "10mbit" } }
for i = 1, param("peers", 40) do
  peer { name = "p" .. i, watch = (i % 2 == 0) and "tv1" or "tv2", at = i * 0.5, mode = mode }
end
run { duration = param("duration", 120) }
