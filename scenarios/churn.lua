-- Churn: a stable core of peers plus a stream of visitors that arrive as a
-- Poisson process and stay an exponentially distributed time (the paper's
-- lifetime model, mean T = 100 to 500 s); a share of them crash instead of
-- leaving. The hosts sit on a Waxman router topology, so relays can beat
-- direct paths and LTM has something to find.
--
-- Compare the two modes under the same seed (same arrivals, lifetimes and
-- topology):
--   anysee-harness run scenarios/churn.lua --seed 7 --out runs/churn-a
--   anysee-harness run scenarios/churn.lua --seed 7 --set mode=coolstreaming --out runs/churn-c
--   anysee-analyze ... (or compare the two report.txt)
-- Knobs: --set lifetime=300 (mean seconds), peers=N (visitors), crash=0.5
-- (share of departures that are crashes), duration=S.

local mode = param("mode", "anysee")
local lifetime = param("lifetime", 100)
local visitors = param("peers", 80)
local crash = param("crash", 0.3)
local duration = param("duration", 600)

network {
  backend = "auto",
  -- 100 routers in the manner of BRITE; hosts hang off low-degree (stub)
  -- routers, as end users do.
  topology = waxman { routers = 100, degree = 3 },
  attach = "stub",
  access = { up = "2mbit", down = "10mbit", delay = "5ms", jitter = "1ms" },
}

rendezvous { name = "rp" }
source { name = "src", stream = "tv1", rate = "300kbit", access = { up = "20mbit" } }

-- The core stays the whole run: it carries the overlay while visitors come
-- and go, and it measures what churn does to peers that never left.
for i = 1, 8 do
  peer { name = "core" .. i, watch = "tv1", mode = mode, at = i }
end

-- Visitors arrive from t = 10 s (or a quarter of a short run) so that, on
-- average, the last one has joined by 80% of the run.
local start = math.min(10, duration / 4)
churn {
  watch = "tv1",
  mode = mode,
  prefix = "visitor",
  count = visitors,
  arrivals = "poisson",
  rate = visitors / (0.8 * duration - start),
  start = start,
  lifetime = lifetime,
  crash = crash,
}

run { duration = duration }
