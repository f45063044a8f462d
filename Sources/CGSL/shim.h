// BDSim's window onto the GNU Scientific Library.
//
// HAVE_INLINE makes gsl_rng_uniform and friends inline functions, so a draw is
// a direct call into the generator rather than two library calls.
#ifndef BDSIM_CGSL_SHIM_H
#define BDSIM_CGSL_SHIM_H

#define HAVE_INLINE 1

#include <stdint.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_version.h>

// Generator types are mutable globals in C; Swift 6 rejects reading them
// directly as unsafe shared state, so they are reached through accessors.
static inline const gsl_rng_type *bdsim_rng_type_mt19937(void) { return gsl_rng_mt19937; }

// GSL's mt19937 takes a 32-bit seed through gsl_rng_set. Streams in BDSim are
// seeded from a 64-bit derived seed, so instead the whole 19937-bit state is
// filled from 624 words drawn from SplitMix64, as Matsumoto and Nishimura's
// init_by_array leaves it: mt[0] = 0x80000000 guarantees a non-zero state.
// Returns 1 on success, 0 if the generator is not GSL's mt19937 with the
// state layout of gsl/rng/mt.c (then the caller falls back to gsl_rng_set).
typedef struct {
  unsigned long mt[624];
  int mti;
} bdsim_mt19937_state;

static inline int bdsim_rng_fill_mt19937(gsl_rng *r, const uint32_t *words, size_t count) {
  if (r == 0 || r->type != gsl_rng_mt19937 || count != 624) return 0;
  if (gsl_rng_size(r) != sizeof(bdsim_mt19937_state)) return 0;
  bdsim_mt19937_state *s = (bdsim_mt19937_state *)gsl_rng_state(r);
  for (size_t i = 0; i < 624; i++) s->mt[i] = (unsigned long)words[i];
  s->mt[0] = 0x80000000UL;
  s->mti = 624;
  return 1;
}

#endif
