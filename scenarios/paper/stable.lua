-- The paper's stable-environment comparison (Liao et al., INFOCOM 2006,
-- section IV): S overlays, one source each at the same stream rate, peers
-- split evenly among them, nobody leaving. AnySee's inter-overlay
-- optimization may relay a stream through peers of other overlays; the
-- CoolStreaming/DONet baseline only finds partners inside its own overlay.
--
-- Run both modes with the same seed (same topology, links, join times):
--   anysee-harness run scenarios/paper/stable.lua --seed 1 --out runs/stable-anysee
--   anysee-harness run scenarios/paper/stable.lua --seed 1 --set mode=coolstreaming \
--     --out runs/stable-cool
-- or both at once: anysee-harness sweep scenarios/paper/stable.lua
--   --grid mode=anysee,coolstreaming
-- and compare startup delay, source-to-end delay and continuity in the two
-- report.txt. The paper's axes: --set streams=1|4|8|12, --set rate=...
-- (200 to 800 kbit/s), --set peers=N.
--
-- What the testbed cannot copy: the paper's 1800 s streams and overlays of
-- hundreds of peers each; one machine runs a few hundred peers in total.

local mode = param("mode", "anysee")
local streams = param("streams", 4)
local peers = param("peers", 120)
local rate = param("rate", "300kbit")
-- The paper's buffers: 40 s for AnySee, 120 s for CoolStreaming.
local buffer = param("buffer", mode == "coolstreaming" and "120s" or "40s")
local duration = param("duration", 300)
-- The nodes' probe forwarding budget, a share of the stream's rate
-- (--probe-share; unset, the peer's default): --set probe_share=1 lifts it.
local probe_share = param("probe_share")
local peer_args = probe_share and { ["probe-share"] = probe_share } or nil
-- Peers join uniformly over the first minute (a fifth of a short run).
local join_window = param("join", math.min(60, duration / 5))

network {
  backend = "auto",
  topology = waxman { routers = param("routers", 300), degree = 3 },
  attach = "stub",
  access = { up = "1mbit", down = "10mbit", delay = "2ms", jitter = "1ms" },
}

rendezvous { name = "rp", access = { up = "100mbit", down = "100mbit" } }
for s = 1, streams do
  source { name = "src" .. s, stream = "tv" .. s, rate = rate, access = { up = "10mbit" },
           args = peer_args }
end

-- Upload capacities from 1 to 10 Mbit/s, the paper's C = 4 to 40
-- connections at 300 kbit/s; cheaper links are the more common.
local uplinks = { "1mbit", "1mbit", "2mbit", "2mbit", "5mbit", "10mbit" }
local crowd = {}
for i = 1, peers do
  crowd[i] = peer {
    name = "p" .. i,
    watch = "tv" .. ((i - 1) % streams + 1),
    mode = mode,
    buffer = buffer,
    at = uniform(0, join_window),
    access = { up = uplinks[math.random(#uplinks)] },
    args = peer_args,
  }
end

-- Failover trials (issue: a parent's crash mid-run): --set failover=N
-- crashes, every `failover_gap` seconds (default 10) once everyone has
-- joined and settled (20 s), the push parent of a random peer, a peer
-- itself (sources stay). The analysis times each child's way back to a
-- push path (failover_s) and the report gives continuity.
local trials = param("failover", 0)
local gap = param("failover_gap", 10)
local dead = {}
for k = 1, trials do
  at(join_window + 20 + (k - 1) * gap, function()
    local order = {}
    for i = 1, peers do order[i] = i end
    for i = peers, 2, -1 do
      local j = math.random(i)
      order[i], order[j] = order[j], order[i]
    end
    for _, i in ipairs(order) do
      local parent = not dead[crowd[i].name] and crowd[i]:push_parent()
      if parent and parent.name:sub(1, 1) == "p" then
        dead[parent.name] = true
        parent:crash()
        return
      end
    end
  end)
end

-- --set capture=1 records the run (control overhead by message type).
run { duration = duration, capture = param("capture", 0) == 1 }
