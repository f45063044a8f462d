// PHOLD baseline: plain C++17 event loop (no framework). Build: g++ -O2 -std=c++17 phold.cpp -o phold
// Usage: phold [--lps 1024] [--events-per-lp 16] [--remote 0.5] [--lookahead 0.1] [--mean 1] [--end-time 1000] [--seed 1]
// Last stdout line: events=<N> seconds=<S> events_per_s=<R> (times the event loop only, not the initial population).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <random>
#include <vector>

struct Ev { double time; uint64_t seq; int32_t lp; };
struct Later {  // min-heap on (time, seq)
  bool operator()(const Ev& a, const Ev& b) const { return a.time != b.time ? a.time > b.time : a.seq > b.seq; }
};

int main(int argc, char** argv) {
  long long lps = 1024, perLp = 16; double remote = 0.5, lookahead = 0.1, mean = 1.0, endTime = 1000.0; unsigned long long seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char* k = argv[i]; const char* v = argv[i + 1];
    if (!strcmp(k, "--lps")) lps = atoll(v);
    else if (!strcmp(k, "--events-per-lp")) perLp = atoll(v);
    else if (!strcmp(k, "--remote")) remote = atof(v);
    else if (!strcmp(k, "--lookahead")) lookahead = atof(v);
    else if (!strcmp(k, "--mean")) mean = atof(v);
    else if (!strcmp(k, "--end-time")) endTime = atof(v);
    else if (!strcmp(k, "--seed")) seed = strtoull(v, nullptr, 10);
    else { fprintf(stderr, "unknown flag %s\n", k); return 2; }
  }
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> expo(1.0 / mean);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(lps - 1));
  std::priority_queue<Ev, std::vector<Ev>, Later> q;
  uint64_t seq = 0;
  for (int32_t lp = 0; lp < lps; ++lp)
    for (long long k = 0; k < perLp; ++k) q.push({expo(rng), seq++, lp});

  uint64_t processed = 0;
  auto t0 = std::chrono::steady_clock::now();
  while (!q.empty() && q.top().time <= endTime) {
    Ev e = q.top(); q.pop();
    ++processed;
    int32_t dst = unif(rng) < remote ? pick(rng) : e.lp;
    q.push({e.time + lookahead + expo(rng), seq++, dst});
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  printf("phold-cpp lps=%lld events-per-lp=%lld remote=%g lookahead=%g mean=%g end-time=%g seed=%llu\n",
         lps, perLp, remote, lookahead, mean, endTime, seed);
  printf("events=%llu seconds=%.6f events_per_s=%.1f\n", (unsigned long long)processed, secs, processed / secs);
  return 0;
}
