-- Quick start: one rendezvous point, one 300 kbit/s source, five peers
-- joining a second apart. `--set duration=30` shortens it; `--set
-- mode=coolstreaming` runs the baseline.
local mode = param("mode", "anysee")
network {
  backend = "auto",   -- netem where the kernel has it, else the userspace switch
  access = { up = "10mbit", down = "10mbit", delay = "10ms" },
}

rendezvous { name = "rp" }
source { name = "src", stream = "tv1", rate = "300kbit" }
for i = 1, 5 do
  peer { name = "peer" .. i, watch = "tv1", at = i, mode = mode }
end

run { duration = param("duration", 60) }
