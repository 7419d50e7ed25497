-- Wireshark dissector for the AnySee peer protocol (peer/wire.h, peer/wire.c).
--
--   tshark -X lua_script:analysis/anysee.lua -r RUN_DIR/capture.pcap
--   wireshark -X lua_script:analysis/anysee.lua RUN_DIR/capture.pcap
--
-- Every datagram is a 12-byte header and one typed body, in network byte
-- order. The dissector takes UDP port 7000 (the peers' port) and, through a
-- heuristic on the magic and version, any other port. It checks what
-- wire_decode() checks: a datagram the peer would refuse carries an
-- "anysee.malformed" expert info saying why, in wire_strerror()'s words.
-- A capture snapped inside a message (the testbed's default snap length is
-- 128 bytes) is not malformed: the fields past the snap are just not shown.

local MAGIC = 0xA55E
local VERSION = 5
local HDR_LEN = 12
local PEER_PORT = 7000 -- ADDR_PEER_PORT in lib/addr.h
local NAME_LEN = 16
local MAX_PEERS = 64
local MAX_STREAMS = 16
local MAX_MAP_BITS = 4096
local MAX_REQ = 128
local MAX_HOPS = 8
local MAX_TTL = 7
local SEG_PAYLOAD_MAX = 1316
local KEY_LEN = 32
local SIG_LEN = 64
local HASH_LEN = 16
local MAX_HASHES = 64
local COOKIE_LEN = 6
local PEER_ENTRY_LEN = 13
local STREAM_DESC_LEN = 2 + 4 + 10 + NAME_LEN + KEY_LEN
local MAX_DATAGRAM = 1472

-- enum wire_type, named as wire_type_name() names them.
local T = {
	REGISTER = 1,
	BOOTSTRAP = 2,
	NEIGH_REQ = 3,
	NEIGH_ACCEPT = 4,
	NEIGH_CUT = 5,
	DETECTOR = 6,
	BUFFER_MAP = 7,
	SEG_REQUEST = 8,
	SEG_DATA = 9,
	PROBE = 10,
	PATH_SETUP = 11,
	RELAY_ACCEPT = 12,
	RELAY_REFUSE = 13,
	LEAVE = 14,
	REPORT = 15,
	RENEW = 16,
	HASH_LIST = 17,
	HASH_REQ = 18,
	COOKIE = 19,
	COOKIE_ECHO = 20,
}
local type_names = {
	[T.REGISTER] = "register",
	[T.BOOTSTRAP] = "bootstrap",
	[T.NEIGH_REQ] = "neighbour request",
	[T.NEIGH_ACCEPT] = "neighbour accept",
	[T.NEIGH_CUT] = "neighbour cut",
	[T.DETECTOR] = "detector",
	[T.BUFFER_MAP] = "buffer map",
	[T.SEG_REQUEST] = "segment request",
	[T.SEG_DATA] = "segment data",
	[T.PROBE] = "probe",
	[T.PATH_SETUP] = "path setup",
	[T.RELAY_ACCEPT] = "relay accept",
	[T.RELAY_REFUSE] = "relay refuse",
	[T.LEAVE] = "leave",
	[T.REPORT] = "report",
	[T.RENEW] = "renew",
	[T.HASH_LIST] = "hash list",
	[T.HASH_REQ] = "hash request",
	[T.COOKIE] = "cookie",
	[T.COOKIE_ECHO] = "cookie echo",
}
local role_names = { [0] = "peer", [1] = "source", [2] = "rendezvous point", [3] = "monitor" }
local mode_names = { [0] = "anysee", [1] = "coolstreaming" }
local state_names = { [0] = "joining", [1] = "playing", [2] = "leaving" }

local anysee = Proto("anysee", "AnySee peer-to-peer live streaming")

local f = {
	magic = ProtoField.uint16("anysee.magic", "Magic", base.HEX),
	version = ProtoField.uint8("anysee.version", "Version", base.DEC),
	type = ProtoField.uint8("anysee.type", "Type", base.DEC, type_names),
	length = ProtoField.uint16("anysee.length", "Body length", base.DEC),
	stream = ProtoField.uint16("anysee.stream", "Stream", base.DEC),
	sender = ProtoField.uint32("anysee.sender", "Sender id", base.DEC),

	-- struct wire_addr, wherever one appears
	addr = ProtoField.none("anysee.addr", "Address"),
	addr_id = ProtoField.uint32("anysee.addr.id", "Peer id", base.DEC),
	addr_ip = ProtoField.ipv4("anysee.addr.ip", "IP address"),
	addr_port = ProtoField.uint16("anysee.addr.port", "UDP port", base.DEC),

	reg_role = ProtoField.uint8("anysee.reg.role", "Role", base.DEC, role_names),
	reg_mode = ProtoField.uint8("anysee.reg.mode", "Mode", base.DEC, mode_names),
	reg_port = ProtoField.uint16("anysee.reg.port", "UDP port", base.DEC),
	reg_ip = ProtoField.ipv4("anysee.reg.ip", "IP address"),
	reg_slots = ProtoField.uint16("anysee.reg.upload_slots", "Upload slots", base.DEC),
	reg_rate = ProtoField.uint32("anysee.reg.rate", "Stream rate (bit/s)", base.DEC),
	reg_name = ProtoField.string("anysee.reg.name", "Stream name"),
	reg_key = ProtoField.bytes("anysee.reg.key", "Source public key (Ed25519)"),

	boot_npeers = ProtoField.uint8("anysee.boot.npeers", "Peers", base.DEC),
	boot_nstreams = ProtoField.uint8("anysee.boot.nstreams", "Streams", base.DEC),
	boot_peer = ProtoField.none("anysee.boot.peer", "Peer"),
	boot_peer_stream = ProtoField.uint16("anysee.boot.peer.stream", "Stream", base.DEC),
	boot_peer_role = ProtoField.uint8("anysee.boot.peer.role", "Role", base.DEC, role_names),
	boot_stream = ProtoField.none("anysee.boot.stream", "Stream"),
	boot_stream_id = ProtoField.uint16("anysee.boot.stream.id", "Stream id", base.DEC),
	boot_stream_rate = ProtoField.uint32("anysee.boot.stream.rate", "Rate (bit/s)", base.DEC),
	boot_stream_source = ProtoField.none("anysee.boot.stream.source", "Source"),
	boot_stream_name = ProtoField.string("anysee.boot.stream.name", "Name"),
	boot_stream_key = ProtoField.bytes("anysee.boot.stream.key", "Source public key (Ed25519)"),

	simple_seq = ProtoField.uint32("anysee.simple.seq", "Path setup sequence", base.DEC),
	simple_reason = ProtoField.uint8("anysee.simple.reason", "Reason", base.DEC),
	simple_watch = ProtoField.uint16("anysee.simple.watch", "Watched stream", base.DEC),

	det_id = ProtoField.uint32("anysee.det.msg_id", "Message id", base.DEC),
	det_ttl = ProtoField.uint8("anysee.det.ttl", "TTL", base.DEC),
	det_src = ProtoField.none("anysee.det.src", "Source"),
	det_src_ts = ProtoField.uint64("anysee.det.src_ts", "Source send time (us)", base.DEC),
	det_direct = ProtoField.none("anysee.det.direct", "Direct neighbour"),
	det_direct_ts = ProtoField.uint64("anysee.det.direct_ts", "Direct neighbour receive time (us)", base.DEC),

	map_base = ProtoField.uint32("anysee.map.base_seq", "Base sequence", base.DEC),
	map_nbits = ProtoField.uint16("anysee.map.nbits", "Bits", base.DEC),
	map_free = ProtoField.uint16("anysee.map.upload_free", "Free upload slots", base.DEC),
	map_bits = ProtoField.bytes("anysee.map.bits", "Bitmap"),
	map_held = ProtoField.uint16("anysee.map.held", "Segments held", base.DEC),

	req_count = ProtoField.uint16("anysee.req.count", "Count", base.DEC),
	req_seq = ProtoField.uint32("anysee.req.seq", "Requested sequence", base.DEC),

	seg_seq = ProtoField.uint32("anysee.seg.seq", "Sequence", base.DEC),
	seg_origin = ProtoField.uint64("anysee.seg.origin", "Created at (us)", base.DEC),
	seg_hops = ProtoField.uint8("anysee.seg.hops", "Overlay hops", base.DEC),
	seg_flags = ProtoField.uint8("anysee.seg.flags", "Flags (1 = pushed)", base.HEX),
	seg_checksum = ProtoField.uint32("anysee.seg.checksum", "Checksum", base.HEX),
	seg_len = ProtoField.uint16("anysee.seg.len", "Payload length", base.DEC),
	seg_payload = ProtoField.bytes("anysee.seg.payload", "Payload"),
	seg_age = ProtoField.double("anysee.seg.age", "Age when captured (ms)"),

	probe_seq = ProtoField.uint32("anysee.probe.seq", "Sequence", base.DEC),
	probe_peer0 = ProtoField.none("anysee.probe.peer0", "Peer 0"),
	probe_ts0 = ProtoField.uint64("anysee.probe.ts0", "Peer 0 send time (us)", base.DEC),
	probe_source = ProtoField.uint32("anysee.probe.source_id", "Source id", base.DEC),
	probe_last_delay = ProtoField.uint32("anysee.probe.last_delay", "Last delay (us)", base.DEC),
	probe_ttl = ProtoField.uint8("anysee.probe.ttl", "TTL", base.DEC),
	probe_half = ProtoField.uint8("anysee.probe.half", "Half rate only", base.DEC),
	probe_nhops = ProtoField.uint8("anysee.probe.nhops", "Hops", base.DEC),
	probe_hop = ProtoField.none("anysee.probe.hop", "Hop"),
	probe_hop_arrival = ProtoField.uint64("anysee.probe.hop.arrival", "Arrival time (us)", base.DEC),

	path_seq = ProtoField.uint32("anysee.path.seq", "Sequence", base.DEC),
	path_delay = ProtoField.uint32("anysee.path.delay", "Trace delay (us)", base.DEC),
	path_share = ProtoField.uint8("anysee.path.share", "Share", base.DEC,
		{[0] = "whole stream", [1] = "even segments", [2] = "odd segments"}),
	path_nhops = ProtoField.uint8("anysee.path.nhops", "Hops", base.DEC),
	path_hop = ProtoField.none("anysee.path.hop", "Hop"),

	hl_first = ProtoField.uint32("anysee.hl.first", "First sequence", base.DEC),
	hl_count = ProtoField.uint8("anysee.hl.count", "Segments", base.DEC),
	hl_hash = ProtoField.bytes("anysee.hl.hash", "Segment hash (BLAKE2b-128)"),
	hl_sig = ProtoField.bytes("anysee.hl.sig", "Signature (Ed25519)"),

	cookie = ProtoField.bytes("anysee.cookie", "Return-routability cookie"),

	rep_time = ProtoField.uint64("anysee.report.time", "Time (us)", base.DEC),
	rep_partners = ProtoField.uint16("anysee.report.partners", "Partners", base.DEC),
	rep_neighbours = ProtoField.uint16("anysee.report.neighbours", "Neighbours", base.DEC),
	rep_received = ProtoField.uint32("anysee.report.received", "Segments received", base.DEC),
	rep_due = ProtoField.uint32("anysee.report.due", "Segments due", base.DEC),
	rep_on_time = ProtoField.uint32("anysee.report.on_time", "Segments on time", base.DEC),
	rep_last_delay = ProtoField.uint32("anysee.report.last_delay", "Last delay (us)", base.DEC),
	rep_state = ProtoField.uint8("anysee.report.state", "State", base.DEC, state_names),
}
local field_list = {}
for _, field in pairs(f) do
	field_list[#field_list + 1] = field
end
anysee.fields = field_list

local ef_malformed = ProtoExpert.new("anysee.malformed", "Malformed AnySee message",
	expert.group.MALFORMED, expert.severity.ERROR)
local ef_snapped = ProtoExpert.new("anysee.snapped", "Capture snapped inside the message",
	expert.group.UNDECODED, expert.severity.NOTE)
anysee.experts = { ef_malformed, ef_snapped }

-- A reader over one message. Like the peer's reader it never steps outside
-- its buffer: a field past the message's end sets overrun (saying where),
-- one past the captured bytes sets snapped, and both leave the field out of
-- the tree. range holds the first out-of-range field's description. After
-- any of the three nothing more is read.
local Reader = {}
Reader.__index = Reader

local function reader_new(tvb, stop)
	return setmetatable({ tvb = tvb, off = 0, stop = stop, snapped = false }, Reader)
end

function Reader:ok()
	return not (self.overrun or self.snapped or self.range)
end

function Reader:take(n)
	if not self:ok() then
		return nil
	end
	if self.off + n > self.stop then
		self.overrun = string.format("the body ends inside a %d-byte field at byte %d", n, self.off - HDR_LEN)
		return nil
	end
	if self.off + n > self.tvb:len() then
		self.snapped = true
		return nil
	end
	local r = self.tvb(self.off, n)
	self.off = self.off + n
	return r
end

-- Adds field over the next n bytes and returns its value: a number, a
-- UInt64 for 8 bytes, nil when the field is not there.
function Reader:add(tree, field, n)
	local r = self:take(n)
	if not r then
		return nil
	end
	tree:add(field, r)
	if n == 8 then
		return r:uint64()
	end
	return r:uint()
end

-- Adds a field of n raw bytes (a key, a hash, a signature).
function Reader:add_bytes(tree, field, n)
	local r = self:take(n)
	if r then
		tree:add(field, r)
	end
end

-- A subtree over the next n bytes (what of them is there) for the caller
-- to fill; the parent itself when nothing is left to show.
function Reader:subtree(tree, field, n)
	local avail = math.min(n, self.stop - self.off, self.tvb:len() - self.off)
	if not self:ok() or avail <= 0 then
		return tree
	end
	return tree:add(field, self.tvb(self.off, avail))
end

-- wire_decode()'s WIRE_ERANGE: the first one found is the verdict.
function Reader:out_of_range(what)
	if not self.range then
		self.range = what
	end
end

local function show(v)
	return v and tostring(v) or "?"
end

local function read_addr(rd, tree, field, label)
	local t = rd:subtree(tree, field, 10)
	local id = rd:add(t, f.addr_id, 4)
	local ipr = rd:take(4)
	if ipr then
		t:add(f.addr_ip, ipr)
	end
	local port = rd:add(t, f.addr_port, 2)
	if t ~= tree then
		t:set_text(string.format("%s: id %s, %s:%s", label, show(id), ipr and tostring(ipr:ipv4()) or "?",
			show(port)))
	end
	return id
end

-- A name is at most 15 characters, a NUL, then NULs only (get_name()).
local function read_name(rd, tree, field)
	local r = rd:take(NAME_LEN)
	if not r then
		return nil
	end
	local b = r:bytes()
	local nul
	for i = 0, NAME_LEN - 1 do
		local c = b:get_index(i)
		if nul and c ~= 0 then
			rd:out_of_range("non-zero bytes after the name's NUL")
			break
		end
		if not nul and c == 0 then
			nul = i
		end
	end
	if not nul then
		rd:out_of_range("a name without its terminating NUL")
	end
	local name = (nul or NAME_LEN) > 0 and r(0, nul or NAME_LEN):string() or ""
	tree:add(field, r, name)
	return name
end

local function dis_register(rd, t)
	local role = rd:add(t, f.reg_role, 1)
	rd:add(t, f.reg_mode, 1)
	rd:add(t, f.reg_port, 2)
	rd:add(t, f.reg_ip, 4)
	rd:add(t, f.reg_slots, 2)
	local rate = rd:add(t, f.reg_rate, 4)
	local name = read_name(rd, t, f.reg_name)
	rd:add_bytes(t, f.reg_key, KEY_LEN)
	if role == 1 then
		return string.format("role=source stream=%s rate=%s", show(name), show(rate))
	end
	return "role=" .. show(role and role_names[role] or role)
end

local function dis_bootstrap(rd, t)
	local npeers = rd:add(t, f.boot_npeers, 1)
	local nstreams = rd:add(t, f.boot_nstreams, 1)
	local info = string.format("peers=%s streams=%s", show(npeers), show(nstreams))
	if not npeers or not nstreams then
		return info
	end
	-- wire_bootstrap_peer_room(): the peers that fit one datagram beside the streams.
	local room = nstreams <= MAX_STREAMS and
		math.min(MAX_PEERS, math.floor((MAX_DATAGRAM - HDR_LEN - 2 - nstreams * STREAM_DESC_LEN) / PEER_ENTRY_LEN)) or 0
	if npeers > room or nstreams > MAX_STREAMS then
		rd:out_of_range(string.format("%d peers, %d streams (at most %d, %d)", npeers, nstreams,
			room, MAX_STREAMS))
		return info
	end
	for i = 1, npeers do
		if not rd:ok() then
			break
		end
		local pt = rd:subtree(t, f.boot_peer, 13)
		local id = read_addr(rd, pt, f.addr, "Address")
		local stream = rd:add(pt, f.boot_peer_stream, 2)
		local role = rd:add(pt, f.boot_peer_role, 1)
		if pt ~= t then
			pt:set_text(string.format("Peer %d: id %s, %s of stream %s", i, show(id),
				show(role and role_names[role] or role), show(stream)))
		end
	end
	for i = 1, nstreams do
		if not rd:ok() then
			break
		end
		local st = rd:subtree(t, f.boot_stream, STREAM_DESC_LEN)
		local id = rd:add(st, f.boot_stream_id, 2)
		rd:add(st, f.boot_stream_rate, 4)
		local src = read_addr(rd, st, f.boot_stream_source, "Source")
		local name = read_name(rd, st, f.boot_stream_name)
		rd:add_bytes(st, f.boot_stream_key, KEY_LEN)
		if st ~= t then
			st:set_text(string.format("Stream %d: id %s \"%s\" from %s", i, show(id), show(name), show(src)))
		end
	end
	return info
end

local function dis_simple(rd, t, msg_type)
	local seq = rd:add(t, f.simple_seq, 4)
	local reason = rd:add(t, f.simple_reason, 1)
	local watch = rd:add(t, f.simple_watch, 2)
	if msg_type == T.HASH_REQ then
		return "for seq=" .. show(seq)
	end
	if msg_type == T.RELAY_ACCEPT or msg_type == T.RELAY_REFUSE or msg_type == T.RENEW then
		return string.format("seq=%s reason=%s", show(seq), show(reason))
	end
	if watch and watch ~= 0 then
		return string.format("reason=%s watch=%s", show(reason), show(watch))
	end
	return "reason=" .. show(reason)
end

local function dis_detector(rd, t)
	local id = rd:add(t, f.det_id, 4)
	local ttl = rd:add(t, f.det_ttl, 1)
	local src = read_addr(rd, t, f.det_src, "Source")
	rd:add(t, f.det_src_ts, 8)
	local direct = read_addr(rd, t, f.det_direct, "Direct neighbour")
	rd:add(t, f.det_direct_ts, 8)
	return string.format("id=%s ttl=%s src=%s direct=%s", show(id), show(ttl), show(src), show(direct))
end

local function popcount8(b)
	local n = 0
	while b > 0 do
		n = n + b % 2
		b = math.floor(b / 2)
	end
	return n
end

local function dis_buffer_map(rd, t)
	local base_seq = rd:add(t, f.map_base, 4)
	local nbits = rd:add(t, f.map_nbits, 2)
	local free = rd:add(t, f.map_free, 2)
	local info = string.format("base=%s nbits=%s free=%s", show(base_seq), show(nbits), show(free))
	if not nbits then
		return info
	end
	if nbits > MAX_MAP_BITS then
		rd:out_of_range(string.format("%d map bits (at most %d)", nbits, MAX_MAP_BITS))
		return info
	end
	local nbytes = math.floor((nbits + 7) / 8)
	if nbytes == 0 then
		return info
	end
	local r = rd:take(nbytes)
	if not r then
		return info
	end
	t:add(f.map_bits, r)
	local held = 0
	for i = 0, nbytes - 1 do
		held = held + popcount8(r(i, 1):uint())
	end
	local tail = nbits % 8
	if tail ~= 0 and r(nbytes - 1, 1):uint() >= 2 ^ tail then
		rd:out_of_range("map bits set past nbits")
	end
	t:add(f.map_held, held):set_generated()
	return info .. " held=" .. held
end

local function dis_seg_request(rd, t)
	local count = rd:add(t, f.req_count, 2)
	if not count then
		return "count=?"
	end
	if count == 0 or count > MAX_REQ then
		rd:out_of_range(string.format("%d requested segments (1 to %d)", count, MAX_REQ))
		return "count=" .. count
	end
	local first
	for i = 1, count do
		local seq = rd:add(t, f.req_seq, 4)
		if i == 1 then
			first = seq
		end
		if not rd:ok() then
			break
		end
	end
	return string.format("count=%d first=%s", count, show(first))
end

local function dis_seg_data(rd, t, _, pinfo)
	local seq = rd:add(t, f.seg_seq, 4)
	local origin = rd:add(t, f.seg_origin, 8)
	local hops = rd:add(t, f.seg_hops, 1)
	local flags = rd:add(t, f.seg_flags, 1)
	rd:add(t, f.seg_checksum, 4)
	local len = rd:add(t, f.seg_len, 2)
	local info = string.format("seq=%s hops=%s len=%s", show(seq), show(hops), show(len))
	if flags == 1 then
		info = info .. " pushed"
	end
	if flags and flags > 1 then
		rd:out_of_range(string.format("flags 0x%02x (only 0x01 is defined)", flags))
		return info
	end
	-- The testbed's hosts share one clock, so the capture time less the
	-- creation time is how long the segment took to reach the capture point.
	if origin then
		t:add(f.seg_age, (pinfo.abs_ts * 1e6 - origin:tonumber()) / 1e3):set_generated()
	end
	if not len then
		return info
	end
	if len > SEG_PAYLOAD_MAX then
		rd:out_of_range(string.format("payload of %d bytes (at most %d)", len, SEG_PAYLOAD_MAX))
		return info
	end
	-- The payload is the rest of the body, exactly (dec_seg_data()).
	if len ~= rd.stop - rd.off then
		rd.overrun = string.format("a %d-byte payload in the %d bytes left", len, rd.stop - rd.off)
		return info
	end
	if len > 0 then
		local r = rd:take(len)
		if r then
			t:add(f.seg_payload, r)
		end
	end
	return info
end

local function dis_probe(rd, t)
	local seq = rd:add(t, f.probe_seq, 4)
	local peer0 = read_addr(rd, t, f.probe_peer0, "Peer 0")
	rd:add(t, f.probe_ts0, 8)
	local source = rd:add(t, f.probe_source, 4)
	rd:add(t, f.probe_last_delay, 4)
	local ttl = rd:add(t, f.probe_ttl, 1)
	local half = rd:add(t, f.probe_half, 1)
	local nhops = rd:add(t, f.probe_nhops, 1)
	local info = string.format("seq=%s peer0=%s source=%s ttl=%s half=%s hops=%s", show(seq),
		show(peer0), show(source), show(ttl), show(half), show(nhops))
	if not nhops then
		return info
	end
	if ttl > MAX_TTL or half > 1 or nhops > MAX_HOPS then
		rd:out_of_range(string.format("ttl %d, half %d, %d hops (at most %d, 1, %d)", ttl, half,
			nhops, MAX_TTL, MAX_HOPS))
		return info
	end
	for i = 1, nhops do
		if not rd:ok() then
			break
		end
		local ht = rd:subtree(t, f.probe_hop, 18)
		local id = read_addr(rd, ht, f.addr, "Address")
		local arrival = rd:add(ht, f.probe_hop_arrival, 8)
		if ht ~= t then
			ht:set_text(string.format("Hop %d: id %s, arrived at %s us", i, show(id), show(arrival)))
		end
	end
	return info
end

local function dis_path_setup(rd, t)
	local seq = rd:add(t, f.path_seq, 4)
	rd:add(t, f.path_delay, 4)
	local share = rd:add(t, f.path_share, 1)
	local nhops = rd:add(t, f.path_nhops, 1)
	if not nhops then
		return "seq=" .. show(seq)
	end
	if share > 2 or nhops < 2 or nhops > MAX_HOPS then
		rd:out_of_range(string.format("share %d, %d hops (at most 2; 2 to %d)", share, nhops, MAX_HOPS))
		return string.format("seq=%s hops=%d", show(seq), nhops)
	end
	local ids = {}
	for i = 1, nhops do
		if not rd:ok() then
			break
		end
		ids[i] = show(read_addr(rd, t, f.path_hop, "Hop " .. i))
	end
	return string.format("seq=%s share=%d path=%s", show(seq), share, table.concat(ids, ">"))
end

local function dis_report(rd, t)
	rd:add(t, f.rep_time, 8)
	local partners = rd:add(t, f.rep_partners, 2)
	local neighbours = rd:add(t, f.rep_neighbours, 2)
	rd:add(t, f.rep_received, 4)
	rd:add(t, f.rep_due, 4)
	rd:add(t, f.rep_on_time, 4)
	rd:add(t, f.rep_last_delay, 4)
	local state = rd:add(t, f.rep_state, 1)
	return string.format("partners=%s neighbours=%s state=%s", show(partners), show(neighbours),
		show(state and state_names[state] or state))
end

local function dis_hash_list(rd, t)
	local first = rd:add(t, f.hl_first, 4)
	local count = rd:add(t, f.hl_count, 1)
	if not count then
		return "first=" .. show(first)
	end
	if count < 1 or count > MAX_HASHES then
		rd:out_of_range(string.format("%d hashes (1 to %d)", count, MAX_HASHES))
		return string.format("first=%s count=%d", show(first), count)
	end
	for _ = 1, count do
		rd:add_bytes(t, f.hl_hash, HASH_LEN)
	end
	rd:add_bytes(t, f.hl_sig, SIG_LEN)
	return string.format("first=%s count=%d", show(first), count)
end

local function dis_cookie(rd, t)
	rd:add_bytes(t, f.cookie, COOKIE_LEN)
	return ""
end

local bodies = {
	[T.REGISTER] = dis_register,
	[T.BOOTSTRAP] = dis_bootstrap,
	[T.NEIGH_REQ] = dis_simple,
	[T.NEIGH_ACCEPT] = dis_simple,
	[T.NEIGH_CUT] = dis_simple,
	[T.DETECTOR] = dis_detector,
	[T.BUFFER_MAP] = dis_buffer_map,
	[T.SEG_REQUEST] = dis_seg_request,
	[T.SEG_DATA] = dis_seg_data,
	[T.PROBE] = dis_probe,
	[T.PATH_SETUP] = dis_path_setup,
	[T.RELAY_ACCEPT] = dis_simple,
	[T.RELAY_REFUSE] = dis_simple,
	[T.LEAVE] = dis_simple,
	[T.REPORT] = dis_report,
	[T.RENEW] = dis_simple,
	[T.HASH_LIST] = dis_hash_list,
	[T.HASH_REQ] = dis_simple,
	[T.COOKIE] = dis_cookie,
	[T.COOKIE_ECHO] = dis_cookie,
}

-- The header's verdict, in wire_decode()'s order; nil when the body can be
-- read.
local function check_header(rd, len, version, msg_type)
	if rd.overrun then
		return string.format("datagram truncated: %d bytes, shorter than the %d-byte header", len, HDR_LEN)
	end
	if version ~= VERSION then
		return string.format("unsupported protocol version %d", version)
	end
	if not bodies[msg_type] then
		return string.format("unknown message type %d", msg_type)
	end
end

local function check_length(len, body_len)
	if HDR_LEN + body_len > len then
		return string.format("datagram truncated: the header declares a %d-byte body, the datagram holds %d",
			body_len, len - HDR_LEN)
	end
	if HDR_LEN + body_len < len then
		return string.format("body length mismatch: %d bytes after the declared %d-byte body",
			len - HDR_LEN - body_len, body_len)
	end
end

-- The body's verdict, in wire_decode()'s order: a read past the body before
-- a range error, then bytes left over.
local function check_body(rd)
	if rd.snapped then
		return nil
	end
	if rd.overrun then
		return "body length mismatch: " .. rd.overrun
	end
	if rd.range then
		return "field out of range: " .. rd.range
	end
	if rd.off < rd.stop then
		return string.format("body length mismatch: %d bytes after the message", rd.stop - rd.off)
	end
end

function anysee.dissector(tvb, pinfo, tree)
	local len = tvb:reported_len()
	if tvb:len() < 2 or tvb(0, 2):uint() ~= MAGIC then
		return 0
	end
	pinfo.cols.protocol = "AnySee"
	local t = tree:add(anysee, tvb())
	local rd = reader_new(tvb, len)
	rd:add(t, f.magic, 2)
	local version = rd:add(t, f.version, 1)
	local msg_type = rd:add(t, f.type, 1)
	local body_len = rd:add(t, f.length, 2)
	local stream = rd:add(t, f.stream, 2)
	local sender = rd:add(t, f.sender, 4)

	local name = msg_type and type_names[msg_type] or "unknown"
	local info = string.format("%s sender=%s", name, show(sender))
	if stream and stream ~= 0 then
		info = info .. " stream=" .. stream
	end
	local verdict
	if not rd.snapped then
		verdict = check_header(rd, len, version, msg_type)
	end
	if not verdict and rd:ok() then
		t:set_text(string.format("AnySee %s, sender %s", name, show(sender)))
		-- A body that disagrees with its datagram is still shown, as far as
		-- both go; the length is the verdict.
		verdict = check_length(len, body_len)
		rd.stop = math.min(len, HDR_LEN + body_len)
		info = info .. " " .. bodies[msg_type](rd, t, msg_type, pinfo)
		verdict = verdict or check_body(rd)
	end
	if rd.snapped then
		t:add_proto_expert_info(ef_snapped, string.format("Capture snapped at byte %d of %d", tvb:len(), len))
	end
	if verdict then
		t:add_proto_expert_info(ef_malformed, verdict)
		info = info .. " [malformed: " .. verdict .. "]"
	end
	pinfo.cols.info:set(info)
	return len
end

-- Other ports: a datagram is ours when it starts with the magic and version.
local function heuristic(tvb, pinfo, tree)
	if tvb:len() < 3 or tvb(0, 2):uint() ~= MAGIC or tvb(2, 1):uint() ~= VERSION then
		return false
	end
	anysee.dissector(tvb, pinfo, tree)
	return true
end

DissectorTable.get("udp.port"):add(PEER_PORT, anysee)
anysee:register_heuristic("udp", heuristic)
