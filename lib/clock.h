/* clock.h - milliseconds on the monotonic clock, for deadlines and timeouts. */
#ifndef BP_CLOCK_H
#define BP_CLOCK_H

#include <stdint.h>

/*
 * Milliseconds on CLOCK_MONOTONIC: never jumps with the wall clock, so a
 * deadline computed from it holds across an NTP step. The origin is
 * arbitrary: only differences mean anything. Never fails.
 */
int64_t clock_ms(void);

/*
 * The same on CLOCK_MONOTONIC_COARSE: the last tick's value (a few ms
 * behind), but read without a syscall or TSC read; for the relay, which
 * stamps every frame it hears and needs only seconds. Never fails.
 */
int64_t clock_coarse_ms(void);

#endif
