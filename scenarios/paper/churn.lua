-- The paper's dynamic-environment comparison (Liao et al., INFOCOM 2006,
-- section IV): as stable.lua, S overlays with peers split among them,
-- but every peer stays an exponentially distributed lifetime of mean T
-- (the paper: T = 100 to 500 s) and leaving peers are replaced by Poisson
-- arrivals at rate n/T per overlay, so each overlay keeps about n peers
-- (Little's law) while its membership turns over.
--
-- Same seed, both modes (same topology, links, arrivals and lifetimes):
--   anysee-harness run scenarios/paper/churn.lua --seed 1 --out runs/churn-anysee
--   anysee-harness run scenarios/paper/churn.lua --seed 1 --set mode=coolstreaming \
--     --out runs/churn-cool
-- or: anysee-harness sweep scenarios/paper/churn.lua --grid mode=anysee,coolstreaming
-- Knobs: --set lifetime=100|300|500, streams=S, peers=N (population),
-- crash=0.2 (share of departures that are crashes, not goodbyes).

local mode = param("mode", "anysee")
local streams = param("streams", 4)
local peers = param("peers", 120)
local lifetime = param("lifetime", 300)
local crash = param("crash", 0)
local rate = param("rate", "300kbit")
local buffer = param("buffer", mode == "coolstreaming" and "120s" or "40s")
local duration = param("duration", 600)
-- The nodes' probe forwarding budget, a share of the stream's rate
-- (--probe-share; unset, the peer's default): --set probe_share=1 lifts it.
local probe_share = param("probe_share")
local peer_args = probe_share and { ["probe-share"] = probe_share } or nil
local join_window = param("join", math.min(60, duration / 5))
-- No arrivals in the last seconds: a peer needs time to start playing.
local tail = math.min(30, duration / 10)

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

-- churn{} gives all its peers one access link, so each overlay's audience
-- is split into upload classes (1 to 10 Mbit/s, the paper's C = 4 to 40
-- connections), each its own churn{}. weight = share of the audience.
local classes = {
  { up = "1mbit", weight = 2 },
  { up = "2mbit", weight = 2 },
  { up = "5mbit", weight = 1 },
  { up = "10mbit", weight = 1 },
}
local total_weight = 0
for _, c in ipairs(classes) do total_weight = total_weight + c.weight end

for s = 1, streams do
  -- This overlay's population, the remainder going to the first overlays.
  local n = peers // streams + (s <= peers % streams and 1 or 0)
  for k, c in ipairs(classes) do
    local share = n * c.weight / total_weight
    local common = {
      watch = "tv" .. s, mode = mode, buffer = buffer, lifetime = lifetime, crash = crash,
      access = { up = c.up },
      args = peer_args,
    }
    local function with(t)
      for key, v in pairs(common) do t[key] = v end
      return t
    end
    -- The initial audience arrives during the join window...
    local initial = math.floor(share + 0.5)
    if initial > 0 then
      churn(with { prefix = ("s%du%d-"):format(s, k), count = initial,
                   arrivals = "flash", start = 0, within = join_window })
    end
    -- ...then replacements at rate share / lifetime keep it at about its
    -- size. Given how many arrive in a window, the arrivals of a Poisson
    -- process are spread uniformly over it: "flash" arrivals over the rest
    -- of the run are Poisson ones that cannot spill past its end (as
    -- arrivals = "poisson" would, with so low a rate per class).
    local window = duration - join_window - tail
    local later = math.floor(share / lifetime * window + 0.5)
    if later > 0 then
      churn(with { prefix = ("s%du%dr"):format(s, k), count = later,
                   arrivals = "flash", start = join_window, within = window })
    end
  end
end

-- --set capture=1 records the run (control overhead by message type).
run { duration = duration, capture = param("capture", 0) == 1 }
