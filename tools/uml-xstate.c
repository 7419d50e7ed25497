/* Preloaded into linux.uml by tools/uml-run. Debian's 6.1 user-mode Linux
 * saves and restores its processes' floating-point state through ptrace's
 * NT_X86_XSTATE regset with a buffer sized for x87, SSE and AVX. Hosts
 * whose CPUs have AVX-512 or AMX have a larger xstate, and their kernels
 * refuse a PTRACE_SETREGSET that is not the whole of it (EFAULT), so the
 * guest dies on its first process. Later kernels size the buffer from the
 * host; this shim does the same from outside: every short transfer goes
 * through a full-size buffer kept per guest buffer (one per guest thread),
 * so the parts the guest does not know about are saved and restored per
 * thread too. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Larger than any x86 xstate so far (AMX makes it about 11 KiB). */
#define PROBE_BYTES 65536
#define SLOTS 65536u

typedef long (*ptrace_fn)(int, pid_t, void *, void *);

static ptrace_fn real_ptrace;
static size_t full_len;
static struct {
	void *guest;
	unsigned char *full;
} slot[SLOTS];

/* The full-size buffer behind one guest buffer; the guest kernel runs its
 * ptrace calls from one host thread, so no lock. */
static unsigned char *full_of(void *guest)
{
	size_t h = (size_t)(((uintptr_t)guest >> 4) * 0x9E3779B97F4A7C15ull >> 48);
	for (size_t i = 0; i < SLOTS; i++) {
		size_t k = (h + i) % SLOTS;
		if (slot[k].guest == guest)
			return slot[k].full;
		if (!slot[k].guest) {
			if (!(slot[k].full = calloc(1, full_len)))
				return NULL;
			slot[k].guest = guest;
			return slot[k].full;
		}
	}
	return NULL;
}

static long xstate(int req, pid_t pid, void *addr, struct iovec *iov)
{
	if (!full_len) {
		static unsigned char probe[PROBE_BYTES];
		struct iovec p = {probe, sizeof(probe)};
		if (real_ptrace(PTRACE_GETREGSET, pid, addr, &p) < 0)
			return -1;
		full_len = p.iov_len;
	}
	if (iov->iov_len >= full_len)
		return real_ptrace(req, pid, addr, iov);
	unsigned char *full = full_of(iov->iov_base);
	if (!full) {
		errno = ENOMEM;
		return -1;
	}
	struct iovec f = {full, full_len};
	if (req == PTRACE_SETREGSET) {
		memcpy(full, iov->iov_base, iov->iov_len);
		return real_ptrace(req, pid, addr, &f);
	}
	if (real_ptrace(req, pid, addr, &f) < 0)
		return -1;
	memcpy(iov->iov_base, full, iov->iov_len);
	return 0;
}

long ptrace(enum __ptrace_request req, ...)
{
	va_list ap;
	va_start(ap, req);
	pid_t pid = va_arg(ap, pid_t);
	void *addr = va_arg(ap, void *);
	void *data = va_arg(ap, void *);
	va_end(ap);
	if (!real_ptrace)
		real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
	if ((req == PTRACE_GETREGSET || req == PTRACE_SETREGSET) &&
	    (uintptr_t)addr == NT_X86_XSTATE)
		return xstate(req, pid, addr, data);
	return real_ptrace(req, pid, addr, data);
}
