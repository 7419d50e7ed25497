-- Flash crowd: a small audience is watching when, at t = 10 s, hundreds of
-- peers join within a few seconds (a match kicks off). What to read in the
-- report: startup delays of the crowd (the rendezvous point and the early
-- peers are swamped with requests at once), and whether the early audience
-- keeps its continuity while the overlay absorbs the crowd.
--
--   anysee-harness run scenarios/flash-crowd.lua
--   anysee-harness run scenarios/flash-crowd.lua --set peers=300 --set within=2
--   anysee-harness run scenarios/flash-crowd.lua --set mode=coolstreaming
--
-- Cost: every peer is a real process and every frame crosses the hub; on a
-- 2-core machine the default run (210 peers, 300 kbit/s) keeps about 80% of
-- both cores busy, mostly in the kernel. The hosts' ARP caches share one
-- kernel-wide limit, net.ipv4.neigh.default.gc_thresh3: at its default of
-- 1024 entries, later joiners cannot reach anyone (dmesg: "neighbor table
-- overflow"). Peers probe many others: 124 peers already held 13,000 entries.

local mode = param("mode", "anysee")
local crowd = param("peers", 200)

network {
  backend = "auto",
  topology = ba { routers = 60, degree = 2 },
  attach = "stub",
  -- Asymmetric home links: each peer can upload about five copies.
  access = { up = "1500kbit", down = "10mbit", delay = "5ms" },
}

rendezvous { name = "rp", access = { up = "100mbit", down = "100mbit" } }
source { name = "src", stream = "tv1", rate = "300kbit", access = { up = "20mbit" } }

-- The audience before the rush.
for i = 1, 10 do
  peer { name = "early" .. i, watch = "tv1", mode = mode, at = i * 0.5 }
end

-- The rush: join times uniform in [start, start + within].
churn {
  watch = "tv1",
  mode = mode,
  prefix = "crowd",
  count = crowd,
  arrivals = "flash",
  start = 10,
  within = param("within", 5),
}

run { duration = param("duration", 120) }
