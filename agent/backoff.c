/*
 * Exponential back-off with "equal jitter": the delay before retry k is
 * half of min(max, base * 2^k) plus a random part of up to the other half,
 * so agents that lost the same server do not come back in step, yet
 * never retry sooner than half the nominal delay.
 */
#include "agent_int.h"

unsigned
agent_backoff_ms(unsigned base, unsigned max, unsigned attempt, uint32_t rnd)
{
	unsigned long long d = base;
	unsigned half;

	while (attempt-- > 0 && d < max)
		d *= 2;
	if (d > max)
		d = max;
	half = (unsigned)(d / 2);
	return half + (unsigned)(rnd % ((unsigned)d - half + 1));
}
