// The SimGrid side of BDSim's SimGrid baseline (run.sh): an all-to-all shuffle on a star of N
// hosts, a SimGrid <cluster> with a shared backbone (the same platform as BDSim's
// `topology: cluster`), under CM02 (max-min, no latency or bandwidth factors).
//
//   shuffle N equal|varied BYTES [HOST_BW BACKBONE_BW]
//
// Every host sends every other host BYTES (equal) or BYTES * (1 + ((31 i + 17 j) % 97) / 97)
// from host i to host j (varied, hosts from 0), all at time 0; SimGrid takes whole bytes, so a
// varied size is rounded down (at most 1 B in 1e8, 1e-8 relative). Prints one line:
//   completion_s=... wall_s=... rss_mb=... flows=...
// completion is the simulated time of the last finish; wall is the whole run, platform loading
// included (as BDSim's); rss is the peak resident set (getrusage).
#include <simgrid/s4u.hpp>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace sg4 = simgrid::s4u;

static int hosts;
static bool varied;
static double bytes;

static void shuffler()
{
  std::vector<sg4::Host*> all(hosts);
  auto& engine = *sg4::Engine::get_instance();
  for (int i = 0; i < hosts; i++)
    all[i] = engine.host_by_name("host" + std::to_string(i));
  std::vector<sg4::CommPtr> comms;
  comms.reserve(static_cast<size_t>(hosts) * (hosts - 1));
  for (int i = 0; i < hosts; i++)
    for (int j = 0; j < hosts; j++) {
      if (i == j)
        continue;
      double size = varied ? bytes * (1 + static_cast<double>((i * 31 + j * 17) % 97) / 97) : bytes;
      comms.push_back(sg4::Comm::sendto_async(all[i], all[j], static_cast<uint64_t>(size)));
    }
  sg4::Comm::wait_all(comms);
}

int main(int argc, char** argv)
{
  auto start = std::chrono::steady_clock::now();
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s N equal|varied BYTES [HOST_BW BACKBONE_BW]\n", argv[0]);
    return 2;
  }
  hosts  = std::atoi(argv[1]);
  varied = std::string(argv[2]) == "varied";
  bytes  = std::atof(argv[3]);
  std::string host_bw     = argc > 4 ? argv[4] : "1.25e9";
  std::string backbone_bw = argc > 5 ? argv[5] : "25e9";
  if (hosts < 2 || bytes <= 0) {
    std::fprintf(stderr, "N must be at least 2 and BYTES positive\n");
    return 2;
  }
  std::string path = "/tmp/simgrid-star-" + std::to_string(getpid()) + ".xml";
  {
    std::ofstream xml(path);
    xml << "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
        << "<platform version=\"4.1\">\n"
        << "  <cluster id=\"star\" prefix=\"host\" suffix=\"\" radical=\"0-" << hosts - 1 << "\" speed=\"1Gf\""
        << " bw=\"" << host_bw << "Bps\" lat=\"0s\" bb_bw=\"" << backbone_bw << "Bps\" bb_lat=\"0s\""
        << " bb_sharing_policy=\"SHARED\"/>\n</platform>\n";
  }
  // CM02 (plain max-min), and no messages; SIMGRID_ARGS may add more --cfg flags.
  std::vector<std::string> args = {argv[0], "--cfg=network/model:CM02", "--log=root.thres:critical"};
  if (const char* extra = std::getenv("SIMGRID_ARGS")) {
    std::string all = extra;
    for (size_t at = 0; at < all.size();) {
      size_t end = all.find(' ', at);
      if (end == std::string::npos)
        end = all.size();
      if (end > at)
        args.push_back(all.substr(at, end - at));
      at = end + 1;
    }
  }
  std::vector<char*> sg_argv;
  for (auto& arg : args)
    sg_argv.push_back(arg.data());
  int sg_argc = static_cast<int>(sg_argv.size());
  sg4::Engine engine(&sg_argc, sg_argv.data());
  engine.load_platform(path);
  std::remove(path.c_str());
  sg4::Actor::create("shuffler", engine.host_by_name("host0"), shuffler);
  engine.run();
  double completion = sg4::Engine::get_clock();
  double wall       = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  std::printf("completion_s=%.17g wall_s=%.3f rss_mb=%.1f flows=%d\n", completion, wall, usage.ru_maxrss / 1024.0,
              hosts * (hosts - 1));
  return 0;
}
