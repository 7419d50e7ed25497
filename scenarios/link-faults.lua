-- Link faults: what the overlay does when the network, not the peers, goes
-- wrong. Three acts, each followed by a recovery:
--   1. loss bursts: one peer's access link drops 20%, then 50%, of its
--      packets for a while (a flaky last mile), then recovers;
--   2. a partition: the "west" peers lose every path to the rest (a cut
--      backbone link), then the network heals; they must rejoin the
--      overlay on their own;
--   3. the source's uplink degrades to barely the stream rate, then below
--      it, then comes back: every peer starves together.
-- The events are placed at fractions of the run, so a shortened run
-- (`--set duration=30`) still goes through all three acts, only faster.
--
--   anysee-harness run scenarios/link-faults.lua
--   anysee-harness run scenarios/link-faults.lua --set mode=coolstreaming
-- Read the per-second `tick` lines of hosts/*/events.log around the event
-- times in `schedule` to see each drop and recovery.

local mode = param("mode", "anysee")
local duration = param("duration", 180)
-- Event time for a fraction of the run.
local function t(frac) return frac * duration end

network {
  backend = "auto",
  topology = waxman { routers = 40, degree = 3 },
  access = { up = "4mbit", down = "10mbit", delay = "5ms", jitter = "1ms" },
}

local rp = rendezvous { name = "rp" }
local src = source { name = "src", stream = "tv1", rate = "300kbit", access = { up = "10mbit" } }

local east, west = {}, {}
for i = 1, 4 do
  east[i] = peer { name = "east" .. i, watch = "tv1", mode = mode, at = i }
  west[i] = peer { name = "west" .. i, watch = "tv1", mode = mode, at = i + 0.5 }
end
local flaky = east[1]

-- Act 1: loss bursts on one peer's access link (both directions).
at(t(0.15), function() flaky:set_link { loss = 0.2 } end)
at(t(0.20), function() flaky:set_link { loss = 0 } end)
at(t(0.23), function() flaky:set_link { loss = 0.5, delay = "80ms" } end)
at(t(0.28), function() flaky:set_link { loss = 0, delay = "5ms" } end)

-- Act 2: a partition. Every host is in a group: a host in none would be
-- cut off from both sides.
at(t(0.35), function()
  local side_a = { rp, src }
  for _, h in ipairs(east) do side_a[#side_a + 1] = h end
  partition(side_a, west)
end)
at(t(0.50), function() heal() end)

-- Act 3: the source's uplink degrades. 400 kbit/s carries one copy of the
-- 300 kbit/s stream, but every partner of the source pulls its own, so the
-- uplink queue grows past the peers' playback lag; 250 kbit/s does not
-- carry even one copy. Frames already queued leave at the rate they were
-- queued at, so recovery after the last change takes a few seconds.
at(t(0.65), function() src:set_link { up = "400kbit" } end)
at(t(0.75), function() src:set_link { up = "250kbit" } end)
at(t(0.85), function() src:set_link { up = "10mbit" } end)

run { duration = duration }
