import SimKernel

/// A host's disks used as one list of local directories, the way Hadoop and Spark spread their
/// files: each new file goes to the next disk of its host in turn, skipping failed disks.
///
/// This is HDFS's `RoundRobinVolumeChoosingPolicy` for `dfs.datanode.data.dir` (the default
/// volume choice of a DataNode), `LocalDirAllocator`'s round robin over
/// `mapreduce.cluster.local.dir` / `yarn.nodemanager.local-dirs` (spills, map outputs, merges),
/// and, for a file per block, an even spread over `spark.local.dir` as Spark's `DiskBlockManager`
/// gives by hashing file names over its directories. Each host keeps its own cursor, so the
/// choice is deterministic and does not depend on other hosts' traffic.
public struct LocalDirs: Sendable {
  private var next: [Int]

  /// A cursor at disk 0 for each of `hosts` hosts (``Platform/hostCount``).
  public init(hosts: Int) { next = Array(repeating: 0, count: hosts) }

  /// The disk for a new file on `host`: the next working disk after the last one chosen, or
  /// nil when every disk of the host has failed.
  public mutating func choose(on host: HostID, platform: Platform) -> Int? {
    let h = Int(host.index)
    let count = platform.diskCount(of: host)
    for step in 0..<count {
      let disk = (next[h] + step) % count
      if !platform.isDiskFailed(host, disk: disk) {
        next[h] = (disk + 1) % count
        return disk
      }
    }
    return nil
  }
}
